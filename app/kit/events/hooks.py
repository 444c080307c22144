"""Type aliases shared by the events classes, and introspection of their hook fields."""

from __future__ import annotations

import dataclasses
from collections.abc import Awaitable, Callable, Iterator
from typing import TypeAlias

#: What a notification hook returns: nothing, or an awaitable the bus awaits.
HookResult: TypeAlias = Awaitable[None] | None

#: What a confirmation hook returns: the answer, directly or awaitable.
ConfirmResult: TypeAlias = bool | Awaitable[bool]

#: The ``default_action`` given to ``on_call_end`` and ``on_ended``: call it to get the
#: kit's behaviour (navigate back, or hide the overlay when minimized).
DefaultAction: TypeAlias = Callable[[], None]

#: The ``default_action`` given to ``on_hang_up_confirmation`` and
#: ``on_leave_confirmation``: await it to show the kit's dialog (or approve at once when
#: none is configured) and get the user's answer.
DefaultConfirmation: TypeAlias = Callable[[], Awaitable[bool]]


def _walk(events_type: type, prefix: str) -> Iterator[str]:
    for f in dataclasses.fields(events_type):
        if f.name.startswith("on_"):
            yield prefix + f.name
        else:
            # Groups are the only other fields; their type is the group's events class.
            group: object = f.default_factory
            if not isinstance(group, type) or not dataclasses.is_dataclass(group):
                raise TypeError(f"{events_type.__name__}.{f.name} is neither hook nor group")
            yield from _walk(group, f"{prefix}{f.name}.")


def hook_paths(events_type: type) -> tuple[str, ...]:
    """Every hook of an events class as a dotted path, e.g. ``audio_video.on_enter``."""
    return tuple(_walk(events_type, ""))
