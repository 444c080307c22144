"""Hypothesis throws bad input at every event: the server never fails, always answers with an
error code, and rooms the attacker is not in stay exactly as they were.

The server and clients live on an event loop in a background thread for the whole module,
so that Hypothesis's synchronous examples can drive them quickly.
"""

from __future__ import annotations

import asyncio
import contextlib
import threading
from collections.abc import Coroutine, Iterator
from dataclasses import dataclass
from typing import Any, TypeVar

import pytest
import socketio
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from signaling.auth import mint_token
from signaling.client import SignalingClient
from signaling.errors import ErrorCode
from signaling.protocol import REQUESTS
from signaling.server.app import RunningServer, start_server
from signaling.server.hub import ServerConfig
from tests.support.signaling import TEST_SECRET

T = TypeVar("T")
STABLE_ROOM = "bystander-room-7f3a9c"
STABLE_STAGE = "bystander-stage-2c91d0"  # an audio room: bob hosts, carol sits on seat 1
ATTACKER_ROOM = "attacker-room"
ATTACKER_STAGE = "attacker-stage"  # an audio room mallory hosts, so seat requests get far
CODES = {code.value for code in ErrorCode}

# A valid payload per request: the starting point that Hypothesis mutates.
TEMPLATES: dict[str, dict[str, Any]] = {
    "session.ice_servers": {},
    "presence.list": {},
    "presence.subscribe": {},
    "presence.unsubscribe": {},
    "room.join": {"room_id": ATTACKER_ROOM, "kind": "call"},
    "room.leave": {"room_id": ATTACKER_ROOM},
    "room.remove_user": {"room_id": ATTACKER_ROOM, "user_id": "bob"},
    "invitation.send": {"invitees": ["bob"], "call_type": "voice", "timeout_s": 1},
    "invitation.accept": {"invitation_id": "x"},
    "invitation.decline": {"invitation_id": "x", "busy": True},
    "invitation.cancel": {"invitation_id": "x"},
    "rtc.signal": {
        "room_id": STABLE_ROOM,
        "to": "bob",
        "kind": "offer",
        "payload": {"type": "offer", "sdp": "v=0"},
    },
    "device.state": {"room_id": STABLE_ROOM, "microphone": True},
    "device.exception": {"room_id": STABLE_ROOM, "device": "camera", "exception": "generic"},
    "device.control": {"room_id": STABLE_ROOM, "user_id": "bob", "device": "camera", "on": False},
    "message.send": {"room_id": STABLE_ROOM, "text": "hi"},
    "room.properties.set": {"room_id": STABLE_ROOM, "key": "k", "value": "v"},
    "room.properties.delete": {"room_id": STABLE_ROOM, "keys": ["topic"]},
    "room.properties.get": {"room_id": STABLE_ROOM},
    "room.command": {"room_id": STABLE_ROOM, "command": "x"},
    "seat.take": {"room_id": ATTACKER_STAGE, "index": 1},
    "seat.leave": {"room_id": ATTACKER_STAGE},
    "seat.switch": {"room_id": ATTACKER_STAGE, "to": 2},
    "seat.lock": {"room_id": ATTACKER_STAGE, "index": None, "locked": True},
    "seat.remove": {"room_id": STABLE_STAGE, "user_id": "carol"},
    "seat.mute": {"room_id": STABLE_STAGE, "user_id": "carol"},
    "seat.ask_unmute": {"room_id": ATTACKER_STAGE, "user_id": "carol"},
    "cohost.set": {"room_id": ATTACKER_STAGE, "user_id": "bob"},
    "seat.apply": {"room_id": STABLE_STAGE},
    "seat.apply_cancel": {"room_id": ATTACKER_STAGE},
    "seat.application_accept": {"room_id": ATTACKER_STAGE, "user_id": "bob"},
    "seat.application_reject": {"room_id": STABLE_STAGE, "user_id": "carol"},
    "seat.invite": {"room_id": ATTACKER_STAGE, "user_id": "carol"},
    "seat.invite_accept": {"room_id": STABLE_STAGE},
    "seat.invite_decline": {"room_id": ATTACKER_STAGE},
    "room.user_attributes.set": {"room_id": ATTACKER_STAGE, "attributes": {"k": "v"}},
    # This server has no SFU: they must still be refused cleanly, whatever they carry.
    "sfu.publish": {"room_id": STABLE_STAGE, "sdp": "v=0"},
    "sfu.unpublish": {"room_id": ATTACKER_STAGE},
    "sfu.subscribe": {"room_id": STABLE_STAGE},
    "sfu.answer": {"room_id": ATTACKER_STAGE, "offer_id": 1, "sdp": "v=0"},
}

json_values = st.recursive(
    st.none()
    | st.booleans()
    | st.integers(min_value=-(2**63), max_value=2**63)
    | st.floats(allow_nan=False, allow_infinity=False)
    | st.text(max_size=80),
    lambda children: (
        st.lists(children, max_size=5) | st.dictionaries(st.text(max_size=12), children, max_size=5)
    ),
    max_leaves=20,
)
hostile_strings = st.sampled_from(
    # Not STABLE_ROOM: joining a room by its id is allowed, so that would be a legal change.
    ["", " ", "x" * 70, "x" * 5000, "../../etc/passwd", "\x00", "💥" * 40, "bob", "mallory"]
)


@st.composite
def mutated(draw: st.DrawFn, event: str) -> Any:
    """A payload for ``event``: a template with one field broken, an extra field, or junk."""
    template = dict(TEMPLATES[event])
    how = draw(st.sampled_from(["replace", "extra", "drop", "junk", "strings"]))
    if how == "junk" or not template:
        return draw(json_values)
    key = draw(st.sampled_from(sorted(template)))
    if how == "replace":
        template[key] = draw(json_values)
    elif how == "strings":
        template[key] = draw(hostile_strings)
    elif how == "drop":
        del template[key]
    else:
        template[draw(st.text(min_size=1, max_size=10))] = draw(json_values)
    return template


@dataclass
class World:
    loop: asyncio.AbstractEventLoop
    server: RunningServer
    attacker: socketio.AsyncClient
    bystanders: list[SignalingClient]

    def run(self, coro: Coroutine[Any, Any, T]) -> T:
        return asyncio.run_coroutine_threadsafe(coro, self.loop).result(timeout=30)

    async def stable_state(self) -> tuple[Any, ...]:
        room = await self.server.hub.store.room(STABLE_ROOM)
        stage = await self.server.hub.store.room(STABLE_STAGE)
        assert room is not None
        assert stage is not None
        assert stage.audio is not None
        return (
            sorted((m.user_id, m.microphone, m.camera, m.epoch) for m in room.members.values()),
            sorted((k, p.value) for k, p in room.properties.items()),
            [m.text for m in room.messages],
            room.start_time_ms,
            sorted((u, m.microphone, dict(m.attributes)) for u, m in stage.members.items()),
            stage.audio.view(),
            list(stage.audio.applications),
            list(stage.audio.invitations),
        )


# Every attack goes over both Engine.IO transports: long-polling has its own paths
# (POST bodies with several packets, a queue drained by GETs).
@pytest.fixture(scope="module", params=["websocket", "polling"])
def world(request: pytest.FixtureRequest) -> Iterator[World]:
    transport: str = request.param
    loop = asyncio.new_event_loop()
    thread = threading.Thread(target=loop.run_forever, daemon=True)
    thread.start()

    async def setup() -> World:
        server = await start_server(
            ServerConfig(secret=TEST_SECRET, rate_per_s=10_000, rate_burst=10_000), "127.0.0.1", 0
        )
        bystanders = []
        for user in ("bob", "carol"):
            client = SignalingClient(server.url, mint_token(TEST_SECRET, user, user.title()))
            await client.connect()
            await client.join_room(STABLE_ROOM, microphone=True)
            bystanders.append(client)
        await bystanders[0].set_room_property(STABLE_ROOM, "topic", "calm")
        await bystanders[0].send_message(STABLE_ROOM, "hello")
        bob, carol = bystanders
        await bob.join_room(STABLE_STAGE, "audio_room", role="host")
        await carol.join_room(STABLE_STAGE, "audio_room", microphone=True)
        await carol.take_seat(STABLE_STAGE, 1)
        attacker = socketio.AsyncClient(reconnection=False)
        await attacker.connect(
            server.url,
            auth={"token": mint_token(TEST_SECRET, "mallory", "Mallory")},
            transports=[transport],
        )
        await attacker.call("room.join", {"room_id": ATTACKER_ROOM})
        await attacker.call(
            "room.join", {"room_id": ATTACKER_STAGE, "kind": "audio_room", "role": "host"}
        )
        return World(loop, server, attacker, bystanders)

    w = asyncio.run_coroutine_threadsafe(setup(), loop).result(timeout=30)
    yield w

    async def teardown() -> None:
        # A long-polling client's goodbye waits for its pending GET, which the server
        # holds up to a ping interval (docs/protocol.md); stopping the server ends it.
        with contextlib.suppress(TimeoutError):
            await asyncio.wait_for(w.attacker.disconnect(), 2)
        for client in w.bystanders:
            await client.close()
        await w.server.stop()
        leftovers = [t for t in asyncio.all_tasks() if t is not asyncio.current_task()]
        for task in leftovers:
            task.cancel()
        await asyncio.gather(*leftovers, return_exceptions=True)

    asyncio.run_coroutine_threadsafe(teardown(), loop).result(timeout=30)
    loop.call_soon_threadsafe(loop.stop)
    thread.join(timeout=10)
    loop.close()


@settings(
    max_examples=60,
    deadline=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
)
@given(data=st.data())
# A valid sign-out ends the attacker's session by design: fuzzed on its own below.
@pytest.mark.parametrize("event", sorted(set(REQUESTS) - {"session.sign_out"}))
def test_bad_input_never_breaks_the_server(world: World, event: str, data: st.DataObject) -> None:
    payload = data.draw(mutated(event), label="payload")
    before = world.run(world.stable_state())
    answer = world.run(world.attacker.call(event, payload, timeout=10))
    assert isinstance(answer, dict)
    assert isinstance(answer.get("ok"), bool)
    if not answer["ok"]:
        assert answer["error"]["code"] in CODES
        assert isinstance(answer["error"]["message"], str)
        assert answer["error"]["message"]
    assert world.server.hub.metrics.errors[ErrorCode.INTERNAL.value] == 0
    assert world.run(world.stable_state()) == before


@given(
    event=st.text(min_size=1, max_size=40).filter(
        lambda e: (
            e not in REQUESTS and e not in {"connect", "disconnect", "connect_error", "message"}
        )
    ),
    payload=json_values,
)
@settings(
    max_examples=40, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture]
)
def test_unknown_events_get_unknown_event(world: World, event: str, payload: Any) -> None:
    answer = world.run(world.attacker.call(event, payload, timeout=10))
    assert answer["ok"] is False
    assert answer["error"]["code"] == ErrorCode.UNKNOWN_EVENT.value


@pytest.mark.parametrize(
    "payload",
    [{"everywhere": "yes"}, {"everywhere": 1}, {"everywhere": None}, {"all": True}, [], "x"],
)
def test_a_malformed_sign_out_signs_nobody_out(world: World, payload: Any) -> None:
    answer = world.run(world.attacker.call("session.sign_out", payload, timeout=10))

    assert answer["error"]["code"] == ErrorCode.BAD_REQUEST.value
    still = world.run(world.attacker.call("presence.list", {}, timeout=10))
    assert still["ok"] is True


def test_oversized_payload_is_refused_and_connection_goes_on(world: World) -> None:
    big = {"room_id": ATTACKER_ROOM, "text": "x" * 100_000}
    answer = world.run(world.attacker.call("message.send", big, timeout=10))
    assert answer["error"]["code"] == ErrorCode.PAYLOAD_TOO_LARGE.value
    answer = world.run(
        world.attacker.call("message.send", {"room_id": ATTACKER_ROOM, "text": "ok"})
    )
    assert answer["ok"] is True


def test_extra_arguments_and_non_objects(world: World) -> None:
    answer = world.run(world.attacker.call("presence.list", ({}, {}), timeout=10))
    assert answer["error"]["code"] == ErrorCode.BAD_REQUEST.value
    answer = world.run(world.attacker.call("room.join", "stable", timeout=10))
    assert answer["error"]["code"] == ErrorCode.BAD_REQUEST.value
