"""A private X server (Xvfb) for tests that need what only a real display has.

Offscreen Qt has no windows a desktop can see; WM_CLASS, for one, exists only on X11.
``-displayfd`` lets Xvfb pick a free display number and report it when it is ready, so
parallel runs never collide and nothing sleeps.
"""

from __future__ import annotations

import os
import select
import shutil
import subprocess
from collections.abc import Iterator
from contextlib import contextmanager

import pytest

from tests.support.processes import die_with_parent

_READY_TIMEOUT_S = 10.0


@contextmanager
def x_display() -> Iterator[str]:
    """A running Xvfb's ``DISPLAY`` (e.g. ``":7"``), stopped when the block ends."""
    if shutil.which("Xvfb") is None:
        pytest.fail("Xvfb is missing: `python3 scripts/dev.py test` installs it (xvfb)")
    read_end, write_end = os.pipe()
    try:
        server = subprocess.Popen(
            ["Xvfb", "-displayfd", str(write_end), "-nolisten", "tcp", "-screen", "0",
             "1280x800x24"],
            pass_fds=(write_end,), stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
            preexec_fn=die_with_parent(),
        )  # fmt: skip
    finally:
        os.close(write_end)
    try:
        ready, _, _ = select.select([read_end], [], [], _READY_TIMEOUT_S)
        number = os.read(read_end, 32).decode().strip() if ready else ""
        if not number:
            pytest.fail(f"Xvfb did not report a display within {_READY_TIMEOUT_S:.0f} s")
        yield f":{number}"
    finally:
        os.close(read_end)
        server.terminate()
        server.wait(timeout=10)
