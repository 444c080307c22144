"""Render the audio-room page offscreen into ``docs/screenshots/audio-room-*.png``.

The page is shown to a host (with an application waiting), a speaker, and a listener
being invited to a seat, in the light and the dark theme, with realistic view states:
eight seats in two rows of four, some people speaking, a locked seat, a co-host, and
messages (one failed to send). Run:

    QT_QPA_PLATFORM=offscreen python scripts/screenshots_audio_room.py [shot ...]
"""

from __future__ import annotations

import os
import sys
from collections.abc import Callable
from dataclasses import replace
from pathlib import Path

os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")
sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from _stills import render_shots
from PySide6.QtWidgets import QWidget

from app import AudioRoomConfig, AudioRoomRole, MessageState, SeatAlignment, SeatRowConfig, User
from app.kit.views.audio_room import AudioRoomView, MemberRole, MemberView, SeatView
from app.kit.views.chat import ChatMessageView
from widgets.audio_room_page import AudioRoomPage
from widgets.audio_room_style import room_style_sheet
from widgets.join_room_dialog import JoinRoomDialog
from widgets.theme import Colors

SIZE = (960, 600)

ALICE = User("alice", "Alice Martin")
BOB = User("bob", "Bob Okafor")
CHLOE = User("chloe", "Chloé Dubois")
DAVID = User("david", "David Chen")
EVA = User("eva", "Eva Novak")
FARID = User("farid", "Farid Haddad")
GRACE = User("grace", "Grace Liu")
ROWS = (SeatRowConfig(4, SeatAlignment.SPACE_AROUND), SeatRowConfig(4, SeatAlignment.SPACE_AROUND))
START = 1_763_800_000_000


def seats(local: str | None) -> tuple[SeatView, ...]:
    """Eight seats: host, a speaking co-host, a muted speaker, a speaker, one locked."""

    def taken(index: int, user: User, **fields: object) -> SeatView:
        return SeatView(index=index, user=user, is_local=user.id == local, **fields)  # type: ignore[arg-type]

    return (
        taken(0, ALICE, is_host=True, microphone_on=True, is_host_seat=True),
        taken(1, BOB, is_cohost=True, microphone_on=True, speaking_level=0.65, is_speaking=True),
        taken(2, CHLOE, microphone_on=False),
        SeatView(index=3),
        taken(4, DAVID, microphone_on=True, speaking_level=0.4, is_speaking=True),
        SeatView(index=5, locked=True),
        SeatView(index=6),
        SeatView(index=7),
    )


def members(local: str) -> tuple[MemberView, ...]:
    """Everybody, in the list's order: host, speakers, requesters, the rest."""
    rows = [
        (ALICE, MemberRole.HOST, True, True, False),
        (BOB, MemberRole.COHOST, True, True, False),
        (CHLOE, MemberRole.SPEAKER, True, False, False),
        (DAVID, MemberRole.SPEAKER, True, True, False),
        (EVA, MemberRole.AUDIENCE, False, False, True),
        (FARID, MemberRole.AUDIENCE, False, False, False),
        (GRACE, MemberRole.AUDIENCE, False, False, False),
    ]
    return tuple(
        MemberView(
            user=user,
            role=MemberRole.YOU if user.id == local else role,
            is_local=user.id == local,
            seated=seated,
            microphone_on=mic,
            requesting=asks,
        )
        for user, role, seated, mic, asks in rows
    )


def messages(local: str) -> tuple[ChatMessageView, ...]:
    """A short conversation; the local user's last message failed."""
    lines = [
        (BOB, "Welcome everyone! We start with the release notes."),
        (EVA, "Hi all! Can I ask a question later?"),
        (ALICE, "Sure Eva, raise your hand and I'll bring you up."),
        (DAVID, "The new seat grid looks great on my laptop."),
        (ALICE if local == "alice" else GRACE, "Thanks for hosting!"),
    ]
    out = []
    for number, (user, text) in enumerate(lines):
        failed = number == len(lines) - 1
        out.append(
            ChatMessageView(
                message_id=f"m{number}",
                sender_name=user.name,
                text=text,
                timestamp_ms=START + number * 47_000,
                is_local=user.id == local,
                state=MessageState.FAILED if failed and user.id == local else MessageState.SUCCESS,
            )
        )
    return tuple(out)


def room(local: str, role: AudioRoomRole, **fields: object) -> AudioRoomView:
    """The "Friday design talks" room seen by ``local``."""
    return AudioRoomView(
        room_id="friday-talks",
        title="Friday design talks",
        local_role=role,
        seats=seats(local),
        rows=ROWS,
        members=members(local),
        duration_s=1534,
        messages=messages(local),
        **fields,  # type: ignore[arg-type]
    )


def page(colors: Colors, config: AudioRoomConfig, view: AudioRoomView) -> AudioRoomPage:
    """A page showing ``view``."""
    widget = AudioRoomPage(config, colors)
    widget.resize(*SIZE)
    widget.set_view(view)
    return widget


def host_view() -> AudioRoomView:
    return room(
        "alice", AudioRoomRole.HOST, can_manage=True, microphone_on=True, pending_requests=1
    )


def host(colors: Colors) -> QWidget:
    return page(colors, AudioRoomConfig.host(), host_view())


def host_members(colors: Colors) -> QWidget:
    widget = page(colors, AudioRoomConfig.host(), host_view())
    widget.toggle_member_list()
    return widget


def speaker(colors: Colors) -> QWidget:
    view = room("david", AudioRoomRole.SPEAKER, microphone_on=True)
    return page(colors, AudioRoomConfig(role=AudioRoomRole.SPEAKER), view)


def audience(colors: Colors) -> QWidget:
    view = room("grace", AudioRoomRole.AUDIENCE, locked=True, invited_by=ALICE)
    return page(colors, AudioRoomConfig.audience(), view)


def audience_requesting(colors: Colors) -> QWidget:
    view = room("grace", AudioRoomRole.AUDIENCE, locked=True, requesting=True)
    # Grace asked too: requesters come after the speakers, before the rest.
    grace = view.members[-1]
    others = view.members[:5] + view.members[5:6]
    listed = (*others[:5], replace(grace, requesting=True), others[5])
    view = replace(view, members=listed)
    widget = page(colors, AudioRoomConfig.audience(), view)
    widget.toggle_member_list()
    return widget


def seat_menu(colors: Colors) -> QWidget:
    """The host's menu on the co-host's seat, opened."""
    widget = page(colors, AudioRoomConfig.host(), host_view())
    widget.menu_popper = lambda menu, at: None
    menu = widget.open_seat_menu(1)
    assert menu is not None
    menu.setParent(None)  # its own window, as when it pops up
    menu.setStyleSheet(room_style_sheet(colors))
    return menu


def join_dialog(colors: Colors) -> QWidget:
    return JoinRoomDialog(colors, room_id="friday-talks")


SHOTS: dict[str, Callable[[Colors], QWidget]] = {
    "host": host,
    "host-members": host_members,
    "speaker": speaker,
    "audience-invited": audience,
    "audience-requesting": audience_requesting,
    "seat-menu": seat_menu,
    "join": join_dialog,
}


def main() -> int:
    """Render every shot in both themes."""
    return render_shots(SHOTS, "audio-room")


if __name__ == "__main__":
    sys.exit(main())
