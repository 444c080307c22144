"""``parley://`` links: what a web page, a chat message or the desktop can ask Parley to open.

``parley://call/<user-id>`` puts that person in the call field; ``parley://room/<room-id>``
offers to join that audio room. A link never places a call or joins a room by itself —
anyone can write a link, so the person always presses the button.
"""

from __future__ import annotations

from dataclasses import dataclass
from urllib.parse import unquote, urlsplit

__all__ = ["SCHEME", "CallLink", "Link", "LinkError", "RoomLink", "parse_link"]

SCHEME = "parley"
#: Longer than any valid link; a longer text is refused before it is parsed.
MAX_LINK_LENGTH = 512


class LinkError(ValueError):
    """A text that is not a ``parley://`` link Parley can open (the message says why)."""


@dataclass(frozen=True)
class CallLink:
    """``parley://call/<user_id>``: call this person."""

    user_id: str


@dataclass(frozen=True)
class RoomLink:
    """``parley://room/<room_id>``: join this audio room."""

    room_id: str


Link = CallLink | RoomLink

_PROBLEMS = {
    "id_empty": "names no ID",
    "id_too_long": "has an ID longer than 64 characters",
    "id_bad_characters": "has an ID with characters other than A–Z a–z 0–9 _ . @ : -",
}


def parse_link(text: str) -> Link:
    """The link in ``text``; raises :class:`LinkError` saying what is wrong with it."""
    if len(text) > MAX_LINK_LENGTH:
        raise LinkError(f"a link is at most {MAX_LINK_LENGTH} characters")
    parts = urlsplit(text.strip())
    if parts.scheme.lower() != SCHEME:
        raise LinkError(f"{text!r} is not a parley:// link")
    # parley://call/alice → netloc "call", path "/alice"; parley:call/alice has no netloc.
    kind, _, rest = f"{parts.netloc}{parts.path}".lstrip("/").partition("/")
    target = unquote(rest.rstrip("/"))
    if kind == "call":
        make: type[CallLink] | type[RoomLink] = CallLink
    elif kind == "room":
        make = RoomLink
    else:
        raise LinkError(
            f"{text!r}: Parley opens parley://call/<user ID> and parley://room/<room ID>"
        )
    # Imported here: the ID rules come from the protocol (pydantic), which the window
    # does not load before its first page is shown.
    from app.kit.identity import validate_user_id

    problem = validate_user_id(target)
    if problem is not None:
        raise LinkError(f"{text!r} {_PROBLEMS[problem]}")
    return make(target)
