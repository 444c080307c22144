"""The suite cannot hang: a phase that hangs ends the run with its stacks, even a teardown
after the test itself failed (which pytest-timeout no longer guards)."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]

HANGING = """
import threading

import pytest


@pytest.fixture
def stuck():
    yield
    threading.Event().wait()  # a teardown that never returns


def test_fails_then_hangs_in_teardown(stuck):
    assert False, "the test itself failed"
"""


def test_a_teardown_hanging_after_a_failure_ends_the_run_with_its_stacks(tmp_path: Path) -> None:
    (tmp_path / "test_hang.py").write_text(HANGING)
    env = {**os.environ, "PARLEY_PHASE_LIMIT_S": "2", "PYTHONPATH": str(ROOT)}
    result = subprocess.run(
        [
            sys.executable,
            "-m",
            "pytest",
            "-p",
            "tests.support.watchdog",
            "-p",
            "no:cacheprovider",
            "-o",
            "timeout=1",
            str(tmp_path / "test_hang.py"),
        ],
        cwd=tmp_path,
        env=env,
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert result.returncode == 3, result.stdout + result.stderr
    assert "test_fails_then_hangs_in_teardown is still in teardown after 2 s" in result.stderr
    assert "in stuck" in result.stderr  # the hung frame is named in the stacks
