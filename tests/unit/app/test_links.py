"""``parley://`` links: the two kinds, and every malformed one refused with its reason."""

from __future__ import annotations

import re

import pytest

from app.kit.links import CallLink, LinkError, RoomLink, parse_link


@pytest.mark.parametrize(
    ("text", "link"),
    [
        ("parley://call/alice", CallLink("alice")),
        ("parley://call/alice/", CallLink("alice")),
        ("PARLEY://call/bob.smith@example.org", CallLink("bob.smith@example.org")),
        ("parley:call/alice", CallLink("alice")),
        ("parley:///call/alice", CallLink("alice")),
        ("  parley://room/friday-chat\n", RoomLink("friday-chat")),
        ("parley://room/a%3Ab", RoomLink("a:b")),
    ],
)
def test_a_link_names_a_person_to_call_or_a_room_to_join(text: str, link: object) -> None:
    assert parse_link(text) == link


@pytest.mark.parametrize(
    ("text", "reason"),
    [
        ("https://call/alice", "is not a parley:// link"),
        ("alice", "is not a parley:// link"),
        ("parley://meet/alice", "Parley opens parley://call/<user ID> and parley://room/"),
        ("parley://call/", "names no ID"),
        ("parley://call", "names no ID"),
        ("parley://call/al ice", "characters other than"),
        ("parley://call/alice/extra", "characters other than"),
        ("parley://room/" + "r" * 65, "longer than 64 characters"),
        ("parley://call/" + "a" * 600, "at most 512 characters"),
    ],
)
def test_a_malformed_link_is_refused_with_its_reason(text: str, reason: str) -> None:
    with pytest.raises(LinkError, match=re.escape(reason)):
        parse_link(text)
