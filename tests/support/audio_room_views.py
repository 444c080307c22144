"""Audio-room view states shared by the seat-menu unit tests and the page's UI tests.

One room of eight seats in two rows of four, seen by any of its people:
seat 0 Alice (host), 1 Bob (co-host, speaking), 2 Chloé (muted), 3 empty, 4 David,
5 empty and locked alone, 6 and 7 empty. Eva has applied for a seat; Farid and Grace
listen.
"""

from __future__ import annotations

from dataclasses import replace

from app.kit.config.audio_room import SeatAlignment, SeatRowConfig
from app.kit.types import AudioRoomRole, MessageState, User
from app.kit.views.audio_room import AudioRoomView, MemberRole, MemberView, SeatView
from app.kit.views.chat import ChatMessageView

ALICE = User("alice", "Alice Martin")
BOB = User("bob", "Bob Okafor")
CHLOE = User("chloe", "Chloé Dubois")
DAVID = User("david", "David Chen")
EVA = User("eva", "Eva Novak")
FARID = User("farid", "Farid Haddad")
GRACE = User("grace", "Grace Liu")
ROWS = (SeatRowConfig(4, SeatAlignment.SPACE_AROUND), SeatRowConfig(4, SeatAlignment.SPACE_AROUND))
#: Who sits where, and as what.
SEATED = {0: ALICE, 1: BOB, 2: CHLOE, 4: DAVID}
ROLE_OF = {"alice": AudioRoomRole.HOST, "bob": AudioRoomRole.SPEAKER}


def seats(local: str) -> tuple[SeatView, ...]:
    """The eight seats as ``local`` sees them."""
    out = []
    for index in range(8):
        user = SEATED.get(index)
        if user is None:
            out.append(SeatView(index=index, locked=index == 5, is_host_seat=index == 0))
            continue
        out.append(
            SeatView(
                index=index,
                user=user,
                is_host=user is ALICE,
                is_cohost=user is BOB,
                microphone_on=user is not CHLOE,
                speaking_level=0.7 if user is BOB else 0.0,
                is_speaking=user is BOB,
                is_local=user.id == local,
                is_host_seat=index == 0,
            )
        )
    return tuple(out)


def members(local: str) -> tuple[MemberView, ...]:
    """Everybody in the member list's order: host, speakers, requesters, the rest."""
    listed = [
        (ALICE, MemberRole.HOST, True, False),
        (BOB, MemberRole.COHOST, True, False),
        (CHLOE, MemberRole.SPEAKER, True, False),
        (DAVID, MemberRole.SPEAKER, True, False),
        (EVA, MemberRole.AUDIENCE, False, True),
        (FARID, MemberRole.AUDIENCE, False, False),
        (GRACE, MemberRole.AUDIENCE, False, False),
    ]
    return tuple(
        MemberView(
            user=user,
            role=MemberRole.YOU if user.id == local else role,
            is_local=user.id == local,
            seated=seated,
            microphone_on=seated and user is not CHLOE,
            requesting=asks,
        )
        for user, role, seated, asks in listed
    )


def messages() -> tuple[ChatMessageView, ...]:
    """Two messages; the local user's second one failed."""
    return (
        ChatMessageView(message_id="m1", sender_name="Bob Okafor", text="Welcome!", timestamp_ms=1),
        ChatMessageView(
            message_id="m2",
            sender_name="Me",
            text="Thanks",
            timestamp_ms=2,
            is_local=True,
            state=MessageState.FAILED,
        ),
    )


def room_view(local: str = "alice", **fields: object) -> AudioRoomView:
    """The room seen by ``local``: alice hosts, bob is the co-host, chloé and david speak,
    everyone else listens. ``fields`` override the view's own fields."""
    seated = any(user.id == local for user in SEATED.values())
    role = ROLE_OF.get(local, AudioRoomRole.SPEAKER if seated else AudioRoomRole.AUDIENCE)
    view = AudioRoomView(
        room_id="room-1",
        title="Friday talks",
        local_role=role,
        local_is_cohost=local == "bob",
        can_manage=local == "alice",
        seats=seats(local),
        rows=ROWS,
        members=members(local),
        pending_requests=1 if local == "alice" else 0,
        duration_s=95,
        microphone_on=seated,
        messages=messages(),
    )
    return replace(view, **fields)  # type: ignore[arg-type]
