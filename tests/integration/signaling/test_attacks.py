"""Attacks from a raw client (tests/support/raw_socketio.py, not Parley's client and not a
Socket.IO library): frames no well-behaved client sends. Each test is a defect that once
reproduced against parley-server (issue 11); the server must refuse, answer and go on.
"""

from __future__ import annotations

import json
import logging
import time
from collections.abc import AsyncIterator, Awaitable, Callable

import aiohttp
import jwt
import pytest
import pytest_asyncio

from app.testing import wait_until
from signaling.auth import mint_token
from signaling.server.app import RunningServer
from tests.support.raw_socketio import RawSocket
from tests.support.signaling import TEST_SECRET

RawFactory = Callable[..., Awaitable[RawSocket]]


@pytest_asyncio.fixture
async def raw(server: RunningServer) -> AsyncIterator[RawFactory]:
    """Opens raw sockets to the test server, signed in as the user named (or not at all)."""
    opened: list[RawSocket] = []

    async def make(user_id: str | None = "mallory") -> RawSocket:
        token = mint_token(TEST_SECRET, user_id, user_id.title()) if user_id else None
        sock = await RawSocket.open(server.url, token)
        opened.append(sock)
        return sock

    yield make
    for sock in opened:
        await sock.close()


async def online(server: RunningServer) -> set[str]:
    return {session.user_id for session in await server.hub.store.online()}


def error_code(answer: object) -> str:
    assert isinstance(answer, dict), answer
    error = answer.get("error")
    assert isinstance(error, dict), answer
    return str(error["code"])


async def still_serves(sock: RawSocket) -> None:
    """The connection still answers a valid request."""
    answer = await sock.request("presence.list", {})
    assert answer["ok"] is True


# --- reserved event names -----------------------------------------------------------------


@pytest.mark.parametrize("name", ["connect", "disconnect", "connect_error", "*"])
async def test_reserved_event_names_are_refused(
    server: RunningServer, raw: RawFactory, name: str
) -> None:
    mallory = await raw()
    other = mint_token(TEST_SECRET, "ghost", "Ghost")

    answer = await mallory.request(name, {"token": other})

    assert error_code(answer) == "unknown_event"
    assert server.hub.metrics.connections == 1
    assert await online(server) == {"mallory"}
    await still_serves(mallory)


async def test_an_injected_connect_leaves_no_ghost_behind(
    server: RunningServer, raw: RawFactory
) -> None:
    mallory = await raw()
    await mallory.request("connect", {"token": mint_token(TEST_SECRET, "ghost", "Ghost")})
    await mallory.request("room.join", {"room_id": "stage", "kind": "audio_room", "role": "host"})

    await mallory.close()

    await wait_until(lambda: server.hub.metrics.connections == 0, 5)
    assert await online(server) == set()


async def test_a_second_connect_packet_does_not_change_who_you_are(
    server: RunningServer, raw: RawFactory
) -> None:
    mallory = await raw()
    await mallory.send("40" + json.dumps({"token": mint_token(TEST_SECRET, "ghost", "Ghost")}))

    refused = await mallory.wait_for(lambda frame: frame == '44"Unable to connect"')
    assert refused
    await still_serves(mallory)
    assert await online(server) == {"mallory"}
    assert server.hub.metrics.connections == 1


# --- packets the protocol does not have -----------------------------------------------------


async def test_binary_packets_close_the_connection(server: RunningServer, raw: RawFactory) -> None:
    mallory = await raw()
    header = '451-["room.join",{"_placeholder":true,"num":0}]'

    await mallory.send(header)
    await mallory.closed()

    assert server.hub.metrics.refused_packets["binary"] == 1
    assert await online(server) == set()


async def test_a_declared_flood_of_attachments_is_not_buffered(
    server: RunningServer, raw: RawFactory
) -> None:
    mallory = await raw()
    await mallory.send('41000000-["x",{"_placeholder":true,"num":0}]')
    for _ in range(5):
        if mallory.is_closed:
            break
        try:
            await mallory.send(b"\x00" * 100_000)
        except ConnectionError:
            break
    await mallory.closed()

    assert not getattr(server.hub.sio, "_binary_packet", {})


async def test_a_binary_frame_alone_closes_the_connection(
    server: RunningServer, raw: RawFactory
) -> None:
    mallory = await raw()

    await mallory.send(b"\x04" + b"\x00" * 1000)
    await mallory.closed()

    assert server.hub.metrics.refused_packets["binary"] == 1


# --- every request answered -------------------------------------------------------------------


@pytest.mark.parametrize(
    "body",
    [
        pytest.param("[" * 1500 + "]" * 1500, id="nested-1500-deep"),
        pytest.param('["room.join",{"room_id":' + "7" * 5000 + "}]", id="int-of-5000-digits"),
        pytest.param('[5,{"room_id":"x"}]', id="event-name-a-number"),
        pytest.param("[null]", id="event-name-null"),
        pytest.param("[]", id="no-event-name"),
        pytest.param('["room.join",{"room_id":"x"', id="truncated-json"),
        pytest.param('{"room.join":1}', id="an-object-not-an-array"),
    ],
)
async def test_an_undecodable_request_is_answered(
    server: RunningServer, raw: RawFactory, body: str
) -> None:
    mallory = await raw()
    request_id = mallory.take_id()

    await mallory.send(f"42{request_id}{body}")

    assert error_code(await mallory.answer(request_id)) == "bad_request"
    await still_serves(mallory)


async def test_malformed_packets_are_counted_and_logged_a_few_times_only(
    server: RunningServer, raw: RawFactory, caplog: pytest.LogCaptureFixture
) -> None:
    mallory = await raw()
    caplog.set_level(logging.INFO)

    for _ in range(60):
        await mallory.send("42[")
    await still_serves(mallory)

    assert server.hub.metrics.refused_packets["malformed"] == 60
    lines = [r for r in caplog.records if r.name.startswith(("parley", "socketio", "engineio"))]
    assert 1 <= len(lines) <= 11, [r.getMessage() for r in lines]
    assert not any(r.exc_info for r in lines)  # no tracebacks


async def test_unknown_events_are_rate_limited(server: RunningServer, raw: RawFactory) -> None:
    mallory = await raw()
    burst = int(server.hub.config.rate_burst)
    ids = [mallory.take_id() for _ in range(burst + 20)]

    for request_id in ids:
        await mallory.send(f"42{request_id}" + json.dumps(["no.such.event", {}]))
    codes = [error_code(await mallory.answer(request_id)) for request_id in ids]

    assert codes[:burst] == ["unknown_event"] * burst
    assert "rate_limited" in codes[burst:]


# --- who may do what --------------------------------------------------------------------------


async def test_an_invitee_who_has_not_joined_cannot_invite_others(
    server: RunningServer, raw: RawFactory
) -> None:
    alice = await raw("alice")
    mallory = await raw()
    await raw("carol")
    sent = await alice.request("invitation.send", {"invitees": ["mallory"], "call_type": "voice"})
    call_id = sent["call_id"]  # alice has not joined yet: her client is still setting up

    answer = await mallory.request(
        "invitation.send", {"invitees": ["carol"], "call_type": "voice", "call_id": call_id}
    )

    assert error_code(answer) == "not_in_room"
    again = await alice.request(
        "invitation.send", {"invitees": ["carol"], "call_type": "voice", "call_id": call_id}
    )
    assert again["ok"] is True


@pytest.mark.parametrize("name", ["\u202eecilA", "Ali\u200bce", "Alice\x00", "Alice\nCall +1 555"])
async def test_a_token_whose_name_hides_characters_is_refused(
    server: RunningServer, name: str
) -> None:
    now = int(time.time())
    claims = {"sub": "mallory", "name": name, "iat": now, "exp": now + 600}
    token = jwt.encode(claims, TEST_SECRET, algorithm="HS256")  # signed, so only the name is wrong

    with pytest.raises(AssertionError, match=r"sign-in refused.*invalid user id or name"):
        await RawSocket.open(server.url, token)

    assert await online(server) == set()


# --- connections that never sign in ---------------------------------------------------------


@pytest.mark.parley_server(sign_in_timeout_s=0.3)
async def test_a_connection_that_never_signs_in_is_closed(
    server: RunningServer, raw: RawFactory
) -> None:
    silent = await raw(None)  # engine.io open, answers pings, never sends CONNECT
    refused = await raw(None)
    await refused.send("40" + json.dumps({"token": "not-a-token"}))
    member = await raw("mallory")

    await silent.closed()
    await refused.closed()

    assert server.hub.metrics.refused_connections["sign_in_timeout"] == 2
    assert not member.is_closed
    await still_serves(member)


# --- who may enter a call ---------------------------------------------------------------------


async def invited_call(caller: RawSocket, callee: RawSocket, callee_id: str) -> str:
    """``caller`` invites ``callee_id``, who accepts; both join. Returns the call id."""
    sent = await caller.request("invitation.send", {"invitees": [callee_id], "call_type": "voice"})
    call_id = str(sent["call_id"])
    await callee.wait_for(lambda f: isinstance(f, str) and '"invitation.received"' in f)
    accepted = await callee.request("invitation.accept", {"invitation_id": sent["invitation_id"]})
    assert accepted["ok"] is True, accepted
    for sock in (caller, callee):
        joined = await sock.request("room.join", {"room_id": call_id, "kind": "call"})
        assert joined["ok"] is True, joined
    return call_id


async def test_a_stranger_who_knows_the_call_id_cannot_join(
    server: RunningServer, raw: RawFactory
) -> None:
    alice, bob, mallory = await raw("alice"), await raw("bob"), await raw()
    call_id = await invited_call(alice, bob, "bob")

    answer = await mallory.request("room.join", {"room_id": call_id, "kind": "call"})

    assert error_code(answer) == "forbidden"
    room = await server.hub.store.room(call_id)
    assert room is not None
    assert set(room.members) == {"alice", "bob"}
    # What a member could read or do is out of reach too.
    for event, payload in [
        ("room.properties.get", {"room_id": call_id}),
        ("message.send", {"room_id": call_id, "text": "hi"}),
        (
            "device.control",
            {"room_id": call_id, "user_id": "bob", "device": "microphone", "on": False},
        ),
        ("room.remove_user", {"room_id": call_id, "user_id": "bob"}),
    ]:
        assert error_code(await mallory.request(event, payload)) == "not_in_room", event


async def test_an_invitee_who_declined_cannot_join(server: RunningServer, raw: RawFactory) -> None:
    alice, bob, carol = await raw("alice"), await raw("bob"), await raw("carol")
    sent = await alice.request(
        "invitation.send", {"invitees": ["bob", "carol"], "call_type": "voice"}
    )
    assert (await alice.request("room.join", {"room_id": sent["call_id"]}))["ok"] is True
    declined = await carol.request("invitation.decline", {"invitation_id": sent["invitation_id"]})
    assert declined["ok"] is True

    answer = await carol.request("room.join", {"room_id": sent["call_id"]})

    assert error_code(answer) == "forbidden"
    accepted = await bob.request("invitation.accept", {"invitation_id": sent["invitation_id"]})
    assert accepted["ok"] is True
    assert (await bob.request("room.join", {"room_id": sent["call_id"]}))["ok"] is True


async def test_a_kick_from_a_call_sticks_until_invited_again(
    server: RunningServer, raw: RawFactory
) -> None:
    alice, mallory = await raw("alice"), await raw()
    call_id = await invited_call(alice, mallory, "mallory")
    kicked = await alice.request("room.remove_user", {"room_id": call_id, "user_id": "mallory"})
    assert kicked["ok"] is True

    answer = await mallory.request("room.join", {"room_id": call_id})

    assert error_code(answer) == "forbidden"
    sent = await alice.request(
        "invitation.send", {"invitees": ["mallory"], "call_type": "voice", "call_id": call_id}
    )
    await mallory.request("invitation.accept", {"invitation_id": sent["invitation_id"]})
    assert (await mallory.request("room.join", {"room_id": call_id}))["ok"] is True


async def test_a_kick_from_an_open_room_sticks(server: RunningServer, raw: RawFactory) -> None:
    host, mallory = await raw("host"), await raw()
    joined = await host.request(
        "room.join", {"room_id": "stage", "kind": "audio_room", "role": "host"}
    )
    assert joined["ok"] is True
    assert (await mallory.request("room.join", {"room_id": "stage", "kind": "audio_room"}))["ok"]
    await host.request("room.remove_user", {"room_id": "stage", "user_id": "mallory"})

    answer = await mallory.request("room.join", {"room_id": "stage", "kind": "audio_room"})

    assert error_code(answer) == "forbidden"
    room = await server.hub.store.room("stage")
    assert room is not None
    assert set(room.members) == {"host"}


async def test_a_listener_cannot_overwrite_or_delete_the_hosts_room_properties(
    server: RunningServer, raw: RawFactory
) -> None:
    host, mallory = await raw("host"), await raw()
    await host.request("room.join", {"room_id": "stage", "kind": "audio_room", "role": "host"})
    await mallory.request("room.join", {"room_id": "stage", "kind": "audio_room"})
    set_topic = {"room_id": "stage", "key": "topic", "value": "Jazz night"}
    assert (await host.request("room.properties.set", set_topic))["ok"] is True

    overwrite = await mallory.request("room.properties.set", {**set_topic, "value": "SCAM"})
    delete = await mallory.request(
        "room.properties.delete", {"room_id": "stage", "keys": ["topic"]}
    )

    assert error_code(overwrite) == "forbidden"
    assert error_code(delete) == "forbidden"
    got = await host.request("room.properties.get", {"room_id": "stage"})
    assert got["properties"] == {"topic": "Jazz night"}
    # A listener's own key stays theirs to change, and the host may change anything.
    mine = {"room_id": "stage", "key": "mallory.hand", "value": "up"}
    assert (await mallory.request("room.properties.set", mine))["ok"] is True
    assert (await mallory.request("room.properties.set", {**mine, "value": "down"}))["ok"] is True
    assert (await host.request("room.properties.set", {**mine, "value": "lowered"}))["ok"] is True


@pytest.mark.parley_server(unjoined_call_timeout_s=0.3)
async def test_an_accepted_call_nobody_joins_is_forgotten(
    server: RunningServer, raw: RawFactory
) -> None:
    alice, bob = await raw("alice"), await raw("bob")
    sent = await alice.request("invitation.send", {"invitees": ["bob"], "call_type": "voice"})
    await bob.request("invitation.accept", {"invitation_id": sent["invitation_id"]})
    assert (await server.hub.store.stats())["unjoined_calls"] == 1

    await alice.close()  # both apps die before joining
    await bob.close()

    async def forgotten() -> bool:
        return (await server.hub.store.stats())["unjoined_calls"] == 0

    await wait_until(forgotten, timeout=5)
    assert await server.hub.store.room(sent["call_id"]) is None
    late = await raw("bob")
    assert error_code(await late.request("room.join", {"room_id": sent["call_id"]})) == (
        "room_not_found"
    )


# --- tokens and web pages ---------------------------------------------------------------------


def token_with(**claims: object) -> str:
    now = time.time()
    base: dict[str, object] = {"sub": "mallory", "name": "Mallory", "iat": now, "exp": now + 600}
    return jwt.encode({**base, **claims}, TEST_SECRET, algorithm="HS256")


@pytest.mark.parametrize(
    "claims",
    [{"exp": str(int(time.time()) + 600)}, {"exp": True}, {"iat": "0"}, {"jti": 7}],
    ids=["exp-string", "exp-bool", "iat-string", "jti-number"],
)
async def test_a_token_whose_claims_have_the_wrong_type_is_refused(
    server: RunningServer, claims: dict[str, object]
) -> None:
    # exp: true is exp 1 to PyJWT: long expired.
    with pytest.raises(AssertionError, match=r"sign-in refused.*(unauthorized|token_expired)"):
        await RawSocket.open(server.url, token_with(**claims))

    assert await online(server) == set()


async def test_a_page_of_another_web_origin_cannot_connect(server: RunningServer) -> None:
    token = mint_token(TEST_SECRET, "mallory", "Mallory")

    with pytest.raises(aiohttp.WSServerHandshakeError):
        await RawSocket.open(server.url, token, origin="https://evil.example")

    assert await online(server) == set()
    desktop = await RawSocket.open(server.url, token)  # sends no Origin, like the app
    await still_serves(desktop)
    await desktop.close()


@pytest.mark.parley_server(allowed_origins=("https://parley.example",))
async def test_an_allowed_web_origin_connects(server: RunningServer) -> None:
    token = mint_token(TEST_SECRET, "alice", "Alice")

    page = await RawSocket.open(server.url, token, origin="https://parley.example")

    await still_serves(page)
    await page.close()


async def test_a_signed_out_token_is_refused_from_then_on(
    server: RunningServer, raw: RawFactory
) -> None:
    token = mint_token(TEST_SECRET, "mallory", "Mallory")
    other_device = mint_token(TEST_SECRET, "mallory", "Mallory")
    session = await RawSocket.open(server.url, token)

    answer = await session.request("session.sign_out", {})

    assert answer == {"ok": True}
    await session.closed()
    await session.close()
    with pytest.raises(AssertionError, match=r"sign-in refused.*token_revoked"):
        await RawSocket.open(server.url, token)
    assert server.hub.metrics.refused_connections["token_revoked"] == 1
    again = await RawSocket.open(server.url, other_device)  # only that sign-in ended
    await still_serves(again)
    await again.close()


async def test_signing_out_everywhere_revokes_every_earlier_token(
    server: RunningServer,
) -> None:
    here = mint_token(TEST_SECRET, "mallory", "Mallory")
    laptop = mint_token(TEST_SECRET, "mallory", "Mallory")
    foreign = token_with(iat=time.time() - 5)  # minted by another service: no jti
    bob = mint_token(TEST_SECRET, "bob", "Bob")
    session = await RawSocket.open(server.url, here)

    assert await session.request("session.sign_out", {"everywhere": True}) == {"ok": True}
    await session.closed()
    await session.close()

    for token in (here, laptop, foreign):
        with pytest.raises(AssertionError, match=r"sign-in refused.*token_revoked"):
            await RawSocket.open(server.url, token)
    fresh = await RawSocket.open(server.url, mint_token(TEST_SECRET, "mallory", "Mallory"))
    someone_else = await RawSocket.open(server.url, bob)
    await still_serves(fresh)
    await still_serves(someone_else)
    await fresh.close()
    await someone_else.close()
