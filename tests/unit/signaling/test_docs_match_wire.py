"""docs/protocol.md and docs/errors.md describe the wire exactly: every event, field and code."""

from __future__ import annotations

import re
from pathlib import Path

import pytest

from signaling.client_events import ERROR_CODE_NUMBERS
from signaling.errors import ErrorCode
from signaling.protocol import EVENTS, REQUESTS, WireModel

DOCS = Path(__file__).resolve().parents[3] / "docs"
PROTOCOL = (DOCS / "protocol.md").read_text(encoding="utf-8")
ERRORS = (DOCS / "errors.md").read_text(encoding="utf-8")


def section(heading: str) -> str:
    match = re.search(rf"^### {re.escape(heading)}\n(.*?)(?=^##)", PROTOCOL, re.M | re.S)
    assert match, f"docs/protocol.md has no section '### {heading}'"
    return match.group(1)


def fields(model: type[WireModel]) -> set[str]:
    return set(model.model_fields)


@pytest.mark.parametrize("event", sorted(REQUESTS))
def test_every_request_and_its_fields_are_documented(event: str) -> None:
    text = section(event)
    missing = [f for f in fields(REQUESTS[event]) if f'"{f}"' not in text]
    assert missing == []


@pytest.mark.parametrize("event", sorted(EVENTS))
def test_every_push_and_its_fields_are_documented(event: str) -> None:
    heading = f"{event} (push)" if event in REQUESTS else event
    text = section(heading)
    missing = [f for f in fields(EVENTS[event]) if f'"{f}"' not in text]
    assert missing == []


def test_every_error_code_is_documented_with_its_number() -> None:
    for code in ErrorCode:
        row = re.search(rf"^\| `{code.value}` \|.*\| (\d+) \|$", ERRORS, re.M)
        assert row, f"docs/errors.md has no row for {code.value}"
        assert int(row.group(1)) == ERROR_CODE_NUMBERS[code.value]
