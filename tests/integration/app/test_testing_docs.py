"""The examples in docs/testing.md run, as written, each in a fresh pytest process with
nothing but Parley's plugin (no conftest of the user's own)."""

from __future__ import annotations

import re
from pathlib import Path

import pytest

DOC = Path(__file__).resolve().parents[3] / "docs" / "testing.md"
BLOCKS = re.findall(r"```python\n(.*?)```", DOC.read_text(encoding="utf-8"), re.S)

pytest_plugins = ["pytester"]


def test_the_doc_holds_the_bot_and_the_window_examples() -> None:
    assert len(BLOCKS) == 2
    assert "parley_window" in BLOCKS[1]
    assert len(BLOCKS[1].strip().splitlines()) <= 20  # the window example is short


@pytest.mark.parametrize("example", BLOCKS, ids=["bots", "window"])
def test_documented_example_passes(pytester: pytest.Pytester, example: str) -> None:
    pytester.makepyfile(test_example=example)
    pytester.makeini("[pytest]\nasyncio_default_fixture_loop_scope = function\n")
    # Only the plugin from the entry point: none of Parley's own conftest.
    result = pytester.runpytest_subprocess("-p", "no:cacheprovider", "-W", "error")
    result.assert_outcomes(passed=1)
