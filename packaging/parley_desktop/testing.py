"""Parley's pytest plugin, as registered by the ``pytest11`` entry point.

It finds Parley's packages first, so the fixtures in :mod:`app.testing` (and a test's
own ``from app.testing import wait_until``) import Parley's ``app``.
"""

from __future__ import annotations

from parley_desktop import activate

activate()

pytest_plugins = ("app.testing",)
