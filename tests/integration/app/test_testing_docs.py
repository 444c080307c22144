"""The example in docs/testing.md runs, as written, in a fresh pytest process."""

from __future__ import annotations

import re
from pathlib import Path

import pytest

DOC = Path(__file__).resolve().parents[3] / "docs" / "testing.md"

pytest_plugins = ["pytester"]


def test_documented_example_passes(pytester: pytest.Pytester) -> None:
    blocks = re.findall(r"```python\n(.*?)```", DOC.read_text(encoding="utf-8"), re.S)
    assert len(blocks) == 1, "docs/testing.md should hold exactly one example"
    pytester.makepyfile(test_example=blocks[0])
    pytester.makeini("[pytest]\nasyncio_default_fixture_loop_scope = function\n")
    # Only the plugin from the entry point: none of Parley's own conftest.
    result = pytester.runpytest_subprocess("-p", "no:cacheprovider", "-W", "error")
    result.assert_outcomes(passed=1)
