"""Attacks on the server's memory and sockets (issue 11, defects 3 and 4), from clients that
never read (tests/support/deaf_client.py): each once held memory or sockets for ever."""

from __future__ import annotations

import asyncio
import contextlib
import json
import socket

import aiohttp
import pytest

from app.testing import wait_until
from signaling.auth import mint_token
from signaling.server.app import RunningServer
from tests.support.deaf_client import DeafPolling, DeafWebSocket, closed_by_peer, idle_connection
from tests.support.raw_socketio import RawSocket
from tests.support.signaling import TEST_SECRET

ROOM = "big"
QUEUE_LIMIT = 256 * 1024


async def big_room(server: RunningServer) -> RawSocket:
    """A room whose snapshot (100 long messages, 32 long properties) is ~240 KB."""
    owner = await RawSocket.open(server.url, mint_token(TEST_SECRET, "owner", "Owner"))
    assert (await owner.request("room.join", {"room_id": ROOM}))["ok"] is True
    for n in range(32):
        answer = await owner.request(
            "room.properties.set", {"room_id": ROOM, "key": f"k{n}", "value": "v" * 1024}
        )
        assert answer["ok"] is True
    for n in range(100):
        await owner.request("message.send", {"room_id": ROOM, "text": f"{n} " + "m" * 1990})
    return owner


def queued(server: RunningServer) -> int:
    return server.hub.sio.eio.queued_bytes()


@pytest.mark.parley_server(max_queued_bytes=QUEUE_LIMIT, rate_burst=200)
async def test_a_websocket_that_never_reads_is_dropped_and_its_memory_returned(
    server: RunningServer,
) -> None:
    owner = await big_room(server)
    deaf = await DeafWebSocket.open(server.url, mint_token(TEST_SECRET, "mallory", "Mallory"))
    try:
        for _ in range(80):  # ~19 MB of answers: more than any socket buffers hold
            await deaf.request("room.join", {"room_id": ROOM})
            if server.hub.metrics.dropped_connections["slow_reader"]:
                break

        await wait_until(lambda: server.hub.metrics.dropped_connections["slow_reader"] == 1)
        await wait_until(
            lambda: "mallory" not in server.hub.sio.eio.sockets and queued(server) == 0
        )
        assert server.hub.metrics.connections == 1  # the owner, who reads
        answer = await owner.request("presence.list", {})
        assert [u["user_id"] for u in answer["users"]] == ["owner"]
    finally:
        deaf.close()
        await owner.close()


@pytest.mark.parley_server(max_queued_bytes=QUEUE_LIMIT, rate_burst=200)
async def test_a_long_poll_client_that_never_polls_is_dropped(server: RunningServer) -> None:
    owner = await big_room(server)
    deaf = await DeafPolling.open(server.url, mint_token(TEST_SECRET, "mallory", "Mallory"))
    try:
        first = await deaf.request("room.join", {"room_id": ROOM})
        for _ in range(10):  # the queue is the only buffer here: 2 answers fill it
            if server.hub.metrics.dropped_connections["slow_reader"]:
                break
            # The request that overflows the queue has its connection cut.
            with contextlib.suppress(aiohttp.ServerDisconnectedError):
                await deaf.request("room.join", {"room_id": ROOM})

        await wait_until(lambda: server.hub.metrics.dropped_connections["slow_reader"] == 1)
        await wait_until(lambda: queued(server) == 0)
        assert first == 200
        assert await deaf.request("presence.list", {}) == 400  # the session is gone
        assert server.hub.metrics.connections == 1
    finally:
        await deaf.close()
        await owner.close()


@pytest.mark.parley_server(http_idle_timeout_s=0.5)
async def test_http_connections_that_never_finish_a_request_are_closed(
    server: RunningServer,
) -> None:
    silent = [await idle_connection(server.url) for _ in range(5)]
    slowloris = await idle_connection(server.url, b"GET /healthz HTTP/1.1\r\nHost: x\r\nX-A: ")
    try:
        # Meanwhile the server answers everyone else.
        async with aiohttp.ClientSession() as session, session.get(f"{server.url}/healthz") as r:
            assert await r.json() == {"ok": True}

        for sock in [*silent, slowloris]:
            assert await closed_by_peer(sock, timeout=5), "still open"
        assert server.hub.metrics.dropped_connections["http_idle"] >= 6
    finally:
        for sock in [*silent, slowloris]:
            sock.close()


@pytest.mark.parley_server(http_idle_timeout_s=0.5)
async def test_a_slowloris_that_keeps_sending_bytes_is_closed_all_the_same(
    server: RunningServer,
) -> None:
    slowloris = await idle_connection(server.url, b"GET /healthz HTTP/1.1\r\nHost: x\r\n")
    loop = asyncio.get_running_loop()
    try:
        closed = False
        for n in range(50):  # a header line every 0.1 s, never the blank line
            try:
                await loop.sock_sendall(slowloris, f"X-{n}: y\r\n".encode())
            except OSError:
                closed = True
                break
            await asyncio.sleep(0.1)
        assert closed or await closed_by_peer(slowloris, timeout=1)
    finally:
        slowloris.close()


@pytest.mark.parley_server(http_idle_timeout_s=0.5)
async def test_websockets_and_long_polls_in_progress_are_never_idle(
    server: RunningServer,
) -> None:
    member = await RawSocket.open(server.url, mint_token(TEST_SECRET, "alice", "Alice"))

    await asyncio.sleep(1.5)  # three idle timeouts, no request

    assert not member.is_closed
    answer = await member.request("presence.list", {})
    assert answer["ok"] is True
    await member.close()


@pytest.mark.parley_server(metrics_token="operator-only-token")
async def test_metrics_show_what_an_attack_costs_and_can_need_a_token(
    server: RunningServer,
) -> None:
    member = await RawSocket.open(server.url, mint_token(TEST_SECRET, "alice", "Alice"))
    stranger = await RawSocket.open(server.url)  # connected, not signed in
    async with aiohttp.ClientSession() as session:
        async with session.get(f"{server.url}/metrics") as refused:
            assert refused.status == 401
        headers = {"Authorization": "Bearer operator-only-token"}
        async with session.get(f"{server.url}/metrics", headers=headers) as response:
            assert response.status == 200
            text = await response.text()
    values = dict(
        line.rsplit(" ", 1) for line in text.splitlines() if line and not line.startswith("#")
    )

    assert values["parley_connections"] == "1"
    assert values["parley_engineio_sockets"] == "2"
    assert values["parley_unauthenticated_sockets"] == "1"
    assert int(values["parley_queued_bytes"]) >= 0
    assert int(values["parley_http_connections"]) >= 3  # two websockets and this request
    assert int(values["parley_asyncio_tasks"]) > 0
    assert int(values["parley_process_resident_memory_bytes"]) > 10_000_000
    await member.close()
    await stranger.close()


def test_the_deaf_socket_really_has_a_tiny_window() -> None:
    """The websocket attack above relies on a small receive buffer being honoured."""
    sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, 4096)
    try:
        assert sock.getsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF) <= 16384
    finally:
        sock.close()


def presence_pushes(sock: RawSocket) -> list[list[dict[str, object]]]:
    """The ``users`` of every presence.changed push ``sock`` received."""
    pushes = []
    for frame in sock.frames:
        if isinstance(frame, str) and frame.startswith('42["presence.changed"'):
            pushes.append(json.loads(frame[2:])[1]["users"])
    return pushes


@pytest.mark.parley_server(presence_batch_s=0.2)
async def test_a_crowd_arriving_and_leaving_at_once_costs_each_subscriber_a_few_pushes(
    server: RunningServer,
) -> None:
    watcher = await RawSocket.open(server.url, mint_token(TEST_SECRET, "watcher", "Watcher"))
    assert (await watcher.request("presence.subscribe", {}))["ok"] is True
    await asyncio.sleep(0.3)  # a quiet window
    watcher.frames.clear()
    tokens = [mint_token(TEST_SECRET, f"u{n}", f"U{n}") for n in range(60)]

    crowd = await asyncio.gather(*(RawSocket.open(server.url, t) for t in tokens))
    await wait_until(lambda: sum(map(len, presence_pushes(watcher))) >= 60)
    arrived = presence_pushes(watcher)
    await asyncio.gather(*(sock.close() for sock in crowd))
    await wait_until(lambda: sum(map(len, presence_pushes(watcher))) >= 120)

    left = presence_pushes(watcher)[len(arrived) :]
    # The first change at once, the rest one push per 0.2 s window: not 60 of each.
    assert len(arrived) <= 6, [len(p) for p in arrived]
    assert len(left) <= 6, [len(p) for p in left]
    assert {u["user_id"] for p in arrived for u in p} == {f"u{n}" for n in range(60)}
    assert all(u["online"] is False for p in left for u in p)
    listed = await watcher.request("presence.list", {})
    assert [u["user_id"] for u in listed["users"]] == ["watcher"]
    await watcher.close()


@pytest.mark.parley_server(presence_batch_s=0.5)
async def test_a_lone_change_goes_out_at_once_and_a_flurry_as_one_entry(
    server: RunningServer,
) -> None:
    watcher = await RawSocket.open(server.url, mint_token(TEST_SECRET, "watcher", "Watcher"))
    await watcher.request("presence.subscribe", {})
    await asyncio.sleep(0.6)  # a quiet window
    watcher.frames.clear()
    token = mint_token(TEST_SECRET, "blip", "Blip")

    first = await RawSocket.open(server.url, token)
    await wait_until(lambda: presence_pushes(watcher), timeout=0.3)  # not after the window
    await first.close()  # then off, on, off again within the window
    again = await RawSocket.open(server.url, token)
    await again.close()
    await wait_until(lambda: len(presence_pushes(watcher)) == 2)

    assert presence_pushes(watcher) == [
        [{"user_id": "blip", "name": "Blip", "state": "idle", "online": True}],
        [{"user_id": "blip", "name": "blip", "state": "idle", "online": False}],
    ]
    await watcher.close()
