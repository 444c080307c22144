"""Validation helpers shared by the config modules."""

from __future__ import annotations

from collections.abc import Iterable
from enum import StrEnum
from typing import TypeVar

_T = TypeVar("_T", bound=StrEnum)


def unique_enums(owner: str, values: Iterable[object], enum: type[_T]) -> tuple[_T, ...]:
    """Check a button list: every item a member of ``enum``, none twice."""
    items = tuple(values)
    for item in items:
        if not isinstance(item, enum):
            raise TypeError(f"{owner}: {item!r} is not a {enum.__name__}")
    duplicates = sorted({str(i) for i in items if items.count(i) > 1})
    if duplicates:
        raise ValueError(f"{owner}: duplicate buttons {duplicates}")
    return items  # type: ignore[return-value]  # every item was checked above


def require(condition: bool, message: str) -> None:
    """Raise ValueError with ``message`` unless ``condition`` holds."""
    if not condition:
        raise ValueError(message)


def is_int(value: object) -> bool:
    """An int that is not a bool (``True`` would otherwise pass as 1)."""
    return isinstance(value, int) and not isinstance(value, bool)
