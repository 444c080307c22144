"""Suite-wide set-up: a virtual screen and virtual sound devices, so the suite runs headless.

Both must exist before Qt or PortAudio initialise, which is why this happens in
``pytest_configure`` rather than in fixtures.
"""

from __future__ import annotations

import os
import tempfile

import pytest

from tests.support import pulse
from tests.unit._seeds import MISSING, seeds_dir

pytest_plugins = [
    "tests.support.redis_server",
    "tests.support.signaling",
    "tests.support.accounts",
    "tests.support.watchdog",
]

_virtual_audio: pulse.VirtualAudio | None = None


def pytest_configure(config: pytest.Config) -> None:
    global _virtual_audio
    # Offscreen unless a test run asks for a real (Xvfb) display explicitly.
    os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")
    # Servers started by the tests keep their accounts and secret here, not in $HOME.
    os.environ["PARLEY_DATA_DIR"] = tempfile.mkdtemp(prefix="parley-test-data-")
    if os.environ.get("PARLEY_TEST_AUDIO", "pulse") == "pulse":
        _virtual_audio = pulse.start_virtual_audio()


def pytest_unconfigure(config: pytest.Config) -> None:
    if _virtual_audio is not None:
        _virtual_audio.stop()


def pytest_report_header(config: pytest.Config) -> str:
    seeds = seeds_dir()
    if seeds.is_dir():
        return f"parley: seeds in {seeds}"
    return "parley: " + MISSING.format(path=seeds) + "; the tests that read them will fail"
