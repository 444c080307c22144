"""Reconnect: the server dies and comes back on the same port; clients return to their rooms."""

from __future__ import annotations

import asyncio

from signaling.auth import mint_token
from signaling.client import SignalingClient
from signaling.client_events import ConnectionState, ConnectionStateChanged, RoomStateChanged
from signaling.enums import RoomStateChangedReason as R
from signaling.protocol import UserEnteredEvent
from signaling.server.app import start_server
from signaling.server.hub import ServerConfig
from tests.support.server_process import ServerProcess
from tests.support.signaling import TEST_SECRET, RecordingClient


async def test_server_killed_and_restarted_on_same_port_rejoins_rooms() -> None:
    server = ServerProcess()
    port = server.port
    fast = {"backoff_initial_s": 0.2, "backoff_max_s": 0.5}
    alice = RecordingClient(server.url, mint_token(TEST_SECRET, "alice", "Alice"), **fast)
    bob = RecordingClient(server.url, mint_token(TEST_SECRET, "bob", "Bob"), **fast)
    try:
        await alice.connect()
        await bob.connect()
        await alice.join_room("room-1")
        await bob.join_room("room-1")
        server.kill()
        await alice.expect(RoomStateChanged, lambda e: e.reason is R.RECONNECTING)

        server = ServerProcess(port)
        back = await alice.expect(RoomStateChanged, lambda e: e.reason is R.RECONNECTED, timeout=10)
        assert back.room_id == "room-1"
        await bob.expect(RoomStateChanged, lambda e: e.reason is R.RECONNECTED, timeout=10)
        connection = [e.state for e in alice.seen_of(ConnectionStateChanged)]
        assert connection == [
            ConnectionState.CONNECTING,
            ConnectionState.CONNECTED,
            ConnectionState.RECONNECTING,
            ConnectionState.CONNECTED,
        ]
        assert alice.rooms == ["room-1"]
        reasons = [e.reason for e in alice.seen_of(RoomStateChanged)]
        assert reasons == [R.LOGINING, R.LOGINED, R.RECONNECTING, R.RECONNECTED]
        # The new server really has both back in the room, and the room works.
        carol = SignalingClient(server.url, mint_token(TEST_SECRET, "carol", "Carol"))
        await carol.connect()
        entered = asyncio.ensure_future(alice.wait_for(UserEnteredEvent))
        snapshot = await carol.join_room("room-1")
        assert {m.user_id for m in snapshot.members} == {"alice", "bob", "carol"}
        assert (await entered).member.user_id == "carol"
        await carol.close()
    finally:
        await alice.close()
        await bob.close()
        server.kill()


async def test_gives_up_with_reconnect_failed() -> None:
    server = await start_server(ServerConfig(secret=TEST_SECRET), "127.0.0.1", 0)
    alice = RecordingClient(
        server.url,
        mint_token(TEST_SECRET, "alice", "Alice"),
        backoff_initial_s=0.1,
        backoff_max_s=0.2,
        reconnect_timeout_s=1.0,
    )
    try:
        await alice.connect()
        await alice.join_room("r")
        await server.stop()
        failed = await alice.expect(
            RoomStateChanged, lambda e: e.reason is R.RECONNECT_FAILED, timeout=5
        )
        assert failed.room_id == "r"
        assert failed.error_code != 0
        await alice.expect(
            ConnectionStateChanged, lambda e: e.state is ConnectionState.DISCONNECTED
        )
        assert alice.rooms == []
    finally:
        await alice.close()
