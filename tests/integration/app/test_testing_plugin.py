"""The QA kit's own promises (app.testing, app.kit.bots): the server marker configures
the server a test gets, and a bot's dropped connection looks to the others like a crash
or a network loss, as documented in docs/testing.md."""

from __future__ import annotations

import pytest

from app.kit.bots import Answer, Bot
from app.kit.types import CallEndEvent, CallEndReason, KitException, RoomState
from app.testing import BotFactory, RoomBotFactory
from signaling.enums import RoomStateChangedReason
from signaling.server.app import RunningServer


def room_states(bot: Bot) -> list[RoomStateChangedReason]:
    states = [seen.args[0] for seen in bot.saw("call.room.on_state_changed")]
    return [state.reason for state in states if isinstance(state, RoomState)]


@pytest.mark.parley_server(max_room_members=2)
async def test_the_server_marker_configures_the_server(
    parley_server: RunningServer, parley_room_bot: RoomBotFactory
) -> None:
    assert parley_server.hub.config.max_room_members == 2
    host = await parley_room_bot("host")
    await host.join("small-room", host=True)
    await (await parley_room_bot("listener")).join("small-room")

    late = await parley_room_bot("late")
    with pytest.raises(KitException) as refused:
        await late.join("small-room")

    assert (refused.value.error.code, refused.value.error.message) == (
        "limit_exceeded",
        "the room is full",
    )
    await late.expect("audio_room.on_error")


async def test_the_server_has_its_defaults_without_the_marker(
    parley_server: RunningServer,
) -> None:
    assert parley_server.hub.config.max_room_members == 200


@pytest.mark.parley_server(rejoin_grace_s=0.5)
async def test_a_bot_that_crashes_leaves_the_call_once_the_server_stops_waiting(
    parley_bot: BotFactory,
) -> None:
    alice = await parley_bot("alice")
    bob = await parley_bot("bob", on_invited=Answer.ANSWER)
    await alice.call(["bob"], video=False)
    await alice.expect("call.user.on_enter")

    await bob.drop_connection()

    await bob.expect("call.room.on_state_changed", count=3)
    assert room_states(bob)[2:] == [RoomStateChangedReason.LOGOUT]
    await alice.expect("call.user.on_leave")
    end = (await alice.expect("call.on_call_end")).args[0]
    assert isinstance(end, CallEndEvent)
    assert end.reason is CallEndReason.REMOTE_HANG_UP


async def test_a_bot_that_loses_its_network_comes_back_to_the_call(
    parley_bot: BotFactory,
) -> None:
    alice = await parley_bot("alice")
    bob = await parley_bot("bob", on_invited=Answer.ANSWER)
    await alice.call(["bob"], video=False)
    await alice.expect("call.user.on_enter")

    await bob.drop_connection(reconnect=True)

    await bob.expect("call.room.on_state_changed", count=4)
    assert room_states(bob)[2:] == [
        RoomStateChangedReason.RECONNECTING,
        RoomStateChangedReason.RECONNECTED,
    ]
    # Still one call: bob is back in it, and hanging up ends it for alice.
    assert alice.session is not None
    assert bob.session is not None
    assert not alice.saw("call.on_call_end")
    assert await bob.hang_up()
    end = (await alice.expect("call.on_call_end")).args[0]
    assert isinstance(end, CallEndEvent)
    assert end.reason is CallEndReason.REMOTE_HANG_UP
