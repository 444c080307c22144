"""A parser for the kits' event documentation in ``../shared/seeds``.

The seeds are scraped web pages, partly garbled (the audio room seed lost most of its
headings), so the parser keys on what survived in both: each event's "function
prototype" block, which names the event, followed by an example that nests the
``Zego…Events(`` constructors down to the event.
"""

from __future__ import annotations

import os
import re
from dataclasses import dataclass
from itertools import pairwise
from pathlib import Path

import pytest

_PROTOTYPE = "function prototype:"
_EXAMPLE = re.compile(r"•\s*example")
_EVENT_NAME = re.compile(r"\b(on[A-Z]\w*)")
_EXAMPLE_KEY = re.compile(r"(?:\.\.|\b)(on[A-Z]\w*)\s*[:=]")
_CONSTRUCTOR = re.compile(r"(\w+):\s*(Zego\w*Events)\(")


def seeds_dir() -> Path:
    """``../shared/seeds`` beside the repository, or ``$PARLEY_SEEDS_DIR``."""
    override = os.environ.get("PARLEY_SEEDS_DIR")
    if override:
        return Path(override)
    repo = Path(__file__).resolve().parents[2]
    return repo.parent / "shared" / "seeds"


#: What a run without the seeds says, once per test that needs them (and in the header).
MISSING = (
    "the kits' seeds are missing: expected {path} (clone Parley beside the shared/ folder "
    "that holds seeds/, or set PARLEY_SEEDS_DIR)"
)


def read_seed(name: str) -> str:
    """The text of the seed ``name``; the test fails with one line when it is missing."""
    path = seeds_dir() / name
    if not path.is_file():
        pytest.fail(MISSING.format(path=path), pytrace=False)
    return path.read_text(encoding="utf-8")


def snake(name: str) -> str:
    """``onCameraStateChanged`` → ``on_camera_state_changed``; ``AudioVideo`` → ``audio_video``."""
    return re.sub(r"(?<!^)(?=[A-Z])", "_", name).lower()


def python_class(seed_class: str) -> str:
    """``ZegoUIKitPrebuiltLiveAudioRoomEvents`` → ``AudioRoomEvents`` (DESIGN: drop prefixes)."""
    name = seed_class.removeprefix("Zego").removeprefix("UIKitPrebuilt")
    return name.removeprefix("Live")


@dataclass(frozen=True)
class SeedEvent:
    """One event as the seed documents it."""

    name: str
    #: ``(key, class)`` pairs from the root events constructor down to the event's group,
    #: e.g. ``(("events", "ZegoUIKitPrebuiltCallEvents"), ("audioVideo", "ZegoCall…"))``.
    chain: tuple[tuple[str, str], ...]

    @property
    def python_classes(self) -> tuple[str, ...]:
        return tuple(python_class(cls) for _, cls in self.chain)

    @property
    def group_attributes(self) -> tuple[str, ...]:
        """Attribute names derived from the class names (``AudioRoomSeatEvents`` → ``seat``)."""
        stems = [cls.removesuffix("Events") for cls in self.python_classes]
        return tuple(snake(inner.removeprefix(outer)) for outer, inner in pairwise(stems))

    @property
    def python_path(self) -> str:
        """``audio_video.on_camera_state_changed``, relative to the root events class."""
        return ".".join((*self.group_attributes, snake(self.name)))


def parse_events(text: str) -> list[SeedEvent]:
    """Every event of a seed, in order."""
    events = []
    for block in text.split(_PROTOTYPE)[1:]:
        name_match = _EVENT_NAME.search(block)
        assert name_match, f"no event name in prototype block: {block[:120]!r}"
        parts = _EXAMPLE.split(block, maxsplit=1)
        assert len(parts) == 2, f"no example after the prototype of {name_match[1]}"
        example = parts[1]
        key = _EXAMPLE_KEY.search(example)
        assert key, f"the example of {name_match[1]} sets no hook"
        assert key[1] == name_match[1], f"prototype {name_match[1]} but example sets {key[1]}"
        chain = tuple(_CONSTRUCTOR.findall(example[: key.start()]))
        assert chain, f"the example of {name_match[1]} builds no events object"
        events.append(SeedEvent(name_match[1], chain))
    return events


def all_event_like_names(text: str) -> set[str]:
    """Every ``onXxx`` token anywhere in a seed, to catch events the parser missed."""
    return set(_EVENT_NAME.findall(text))


def group_headings(text: str) -> set[tuple[str, str]]:
    """Headings such as ``audioVideo(ZegoCallAudioVideoEvents)`` (the call seed has them)."""
    return set(re.findall(r"^(\w+)\((Zego\w+Events)\)\s*$", text, flags=re.MULTILINE))
