"""The call pages' view states: validation, ordering helpers, duration text."""

from __future__ import annotations

import pytest

from app import CallLayoutMode, MessageState, User
from app.kit.views.call import (
    CallView,
    IncomingCallView,
    OutgoingCallView,
    TileView,
    format_duration,
    level_from_dbfs,
)
from app.kit.views.chat import ChatMessageView


def test_format_duration() -> None:
    assert format_duration(0) == "00:00"
    assert format_duration(65) == "01:05"
    assert format_duration(3599) == "59:59"
    assert format_duration(3725) == "1:02:05"
    assert format_duration(-3) == "00:00"


def test_tile_rejects_bad_levels_and_ids() -> None:
    with pytest.raises(ValueError, match="speaking_level"):
        TileView(user_id="a", name="A", speaking_level=1.5)
    with pytest.raises(ValueError, match="user_id"):
        TileView(user_id="", name="A")
    assert TileView(user_id="a", name="").display_name == "a"


def test_call_view_helpers() -> None:
    me = TileView(user_id="me", name="Me", is_local=True)
    quiet = TileView(user_id="q", name="Q", speaking_level=0.1)
    loud = TileView(user_id="l", name="L", speaking_level=0.6, is_speaking=True)
    waiting = TileView(user_id="w", name="W", waiting=True, speaking_level=0.9)
    view = CallView(call_id="c", tiles=(me, quiet, loud, waiting))
    assert view.local_tile == me
    assert view.remote_tiles == (quiet, loud, waiting)
    assert view.tile("q") == quiet
    assert view.tile("nobody") is None
    assert view.active_speaker() == loud
    assert CallView(call_id="c", tiles=(me, waiting)).active_speaker() == me
    assert CallView(call_id="c").active_speaker() is None
    assert view.layout is CallLayoutMode.PICTURE_IN_PICTURE


def test_call_view_rejects_duplicates_and_bad_layouts() -> None:
    tile = TileView(user_id="a", name="A")
    with pytest.raises(ValueError, match="repeat"):
        CallView(call_id="c", tiles=(tile, tile))
    with pytest.raises(TypeError, match="layout"):
        CallView(call_id="c", layout="grid")  # type: ignore[arg-type]


def test_invitation_views() -> None:
    bob = User("bob", "Bob")
    with pytest.raises(ValueError, match="callees"):
        OutgoingCallView(callees=(), is_video=True)
    incoming = IncomingCallView(call_id="c", caller=bob, is_video=True, invitees=[bob, bob])  # type: ignore[arg-type]
    assert incoming.invitees == (bob, bob)
    assert incoming.is_group


def test_chat_message_failed() -> None:
    message = ChatMessageView(
        message_id="m", sender_name="A", text="hi", timestamp_ms=1, state=MessageState.FAILED
    )
    assert message.failed
    assert not ChatMessageView(message_id="m", sender_name="A", text="", timestamp_ms=1).failed


def test_level_from_dbfs() -> None:
    assert level_from_dbfs(0.0) == 1.0
    assert level_from_dbfs(-30.0) == pytest.approx(0.5)
    assert level_from_dbfs(-100.0) == 0.0
    assert level_from_dbfs(3.0) == 1.0
    with pytest.raises(ValueError, match="negative"):
        level_from_dbfs(-10.0, floor_dbfs=0.0)
