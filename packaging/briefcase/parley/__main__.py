"""``python -m parley`` is ``python -m app``.

briefcase refuses an app named ``parley`` unless ``sources`` holds a package named
``parley``; Parley's entry package is ``app``, so this one-liner is that package. The
.deb's launcher runs ``-m app`` directly.
"""

import runpy

runpy.run_module("app", run_name="__main__", alter_sys=True)
