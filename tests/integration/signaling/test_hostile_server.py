"""A hostile server: the client drops malformed pushes with a clear report and goes on."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from typing import Any

import pytest
import pytest_asyncio
import socketio
from aiohttp import web

from app.testing import wait_until
from signaling.client_events import ProtocolViolation
from signaling.errors import ErrorCode, SignalingError
from signaling.protocol import InvitationReceivedEvent, WelcomeEvent
from tests.support.signaling import RecordingClient

WELCOME = {"protocol": 1, "user": {"user_id": "alice", "name": "Alice"}, "server_time_ms": 1}


@pytest_asyncio.fixture
async def evil_url() -> AsyncIterator[str]:
    sio = socketio.AsyncServer(async_mode="aiohttp")
    app = web.Application()
    sio.attach(app)

    async def connect(sid: str, environ: dict[str, Any], auth: Any = None) -> None:
        sio.start_background_task(greet, sid)

    async def greet(sid: str) -> None:
        await sio.sleep(0.05)
        await sio.emit("session.welcome", WELCOME, to=sid)
        await sio.emit("invitation.received", {"invitation_id": 5}, to=sid)
        await sio.emit("invitation.received", "not even an object", to=sid)
        await sio.emit("room.kicked", {"room_id": "r", "kicker_id": "x", "extra": 1}, to=sid)
        await sio.emit("some.future.event", {"a": 1}, to=sid)

    async def presence_list(sid: str, data: Any) -> Any:
        return {"ok": "yes"}

    async def room_join(sid: str, data: Any) -> Any:
        return {"ok": False, "error": {"code": "no-such-code", "message": "x" * 10_000}}

    async def room_leave(sid: str, data: Any) -> Any:
        return {"ok": True}

    async def never_answer(sid: str, data: Any) -> Any:
        await sio.sleep(3600)

    sio.on("presence.subscribe", never_answer)
    sio.on("connect", connect)
    sio.on("presence.list", presence_list)
    sio.on("room.join", room_join)
    sio.on("room.leave", room_leave)
    runner = web.AppRunner(app, shutdown_timeout=1.0)
    await runner.setup()
    site = web.TCPSite(runner, "127.0.0.1", 0)
    await site.start()
    port = next(iter(runner.addresses))[1]
    yield f"http://127.0.0.1:{port}"
    await sio.shutdown()
    await runner.cleanup()


async def test_malformed_pushes_and_answers_are_reported_not_raised(evil_url: str) -> None:
    client = RecordingClient(evil_url, "any-token", reconnect=False)
    try:
        user = await client.connect()
        assert user.user_id == "alice"
        await client.expect(ProtocolViolation, lambda e: e.event == "room.kicked")
        violations = client.seen_of(ProtocolViolation)
        assert [v.event for v in violations] == [
            "invitation.received",
            "invitation.received",
            "room.kicked",
        ]
        assert all(v.detail for v in violations)
        assert client.seen_of(InvitationReceivedEvent) == []
        assert len(client.seen_of(WelcomeEvent)) == 0  # consumed by connect()
        with pytest.raises(SignalingError) as err:
            await client.list_online()
        assert err.value.code is ErrorCode.PROTOCOL
        with pytest.raises(SignalingError) as err:
            await client.join_room("r")
        assert err.value.code is ErrorCode.PROTOCOL
        assert len(err.value.message) <= 500
        assert client.rooms == []
    finally:
        await client.close()


async def test_close_fails_a_pending_request_at_once(evil_url: str) -> None:
    client = RecordingClient(evil_url, "any-token", reconnect=False)
    await client.connect()
    pending = asyncio.ensure_future(client.subscribe_presence())
    # Wait until the request is on the wire; its answer never comes.
    await wait_until(lambda: bool(client._inflight))
    started = asyncio.get_running_loop().time()
    await client.close()
    with pytest.raises(SignalingError) as err:
        await pending
    assert err.value.code is ErrorCode.NOT_CONNECTED
    assert asyncio.get_running_loop().time() - started < 2  # not the 10 s request timeout
