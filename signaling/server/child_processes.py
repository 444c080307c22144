"""Child processes that cannot outlive the process that started them.

``atexit`` does not run when a process is killed (``kill -9``, a CI timeout, the test
watchdog's hard stop): a child started with ``preexec_fn=die_with_parent()`` gets SIGTERM
from the kernel the moment its parent dies instead (``prctl(PR_SET_PDEATHSIG)``, Linux
only; elsewhere it does nothing). The server's own Janus is started so, and so are the
test suite's helper daemons.
"""

from __future__ import annotations

import ctypes
import ctypes.util
import os
import signal
import sys
from collections.abc import Callable

_PR_SET_PDEATHSIG = 1


def die_with_parent() -> Callable[[], None]:
    """A ``preexec_fn`` for ``subprocess.Popen``: SIGTERM the child when this process dies.

    The parent-death signal is tied to the thread that forks: start helpers from the
    main thread.
    """
    parent = os.getpid()

    def arm() -> None:  # runs in the child, between fork and exec
        if not sys.platform.startswith("linux"):
            return
        libc = ctypes.CDLL(ctypes.util.find_library("c") or "libc.so.6", use_errno=True)
        if libc.prctl(_PR_SET_PDEATHSIG, signal.SIGTERM, 0, 0, 0) != 0:
            os.write(2, b"die_with_parent: prctl(PR_SET_PDEATHSIG) failed\n")
        # The parent may have died between fork and prctl: nobody would send the signal.
        if os.getppid() != parent:
            os.kill(os.getpid(), signal.SIGTERM)

    return arm
