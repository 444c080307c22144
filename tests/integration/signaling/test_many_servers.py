"""Several servers sharing one real Redis: clients on different servers meet as if on one.

The in-process servers here each have their own socket.io manager, store connection and
timers, as separate processes would; the crash tests start real ``parley-server``
processes behind a load balancer and SIGKILL one of them.
"""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator, Awaitable, Callable
from pathlib import Path

import pytest
import pytest_asyncio

from signaling.client_events import ConnectionState, ConnectionStateChanged
from signaling.enums import CallType, InvitationEndReason, InvitationUserState, PresenceState
from signaling.errors import ErrorCode, SignalingError
from signaling.protocol import (
    InvitationAcceptedEvent,
    InvitationEndedEvent,
    InvitationReceivedEvent,
    InvitationTimeoutEvent,
    PresenceChangedEvent,
    SeatConfig,
    SessionKickedEvent,
    UserEnteredEvent,
    UserLeftEvent,
)
from signaling.protocol_audio import SeatChangedEvent
from signaling.server.app import RunningServer, start_server
from signaling.server.cluster import Cluster, ClusterConfig
from signaling.server.hub import ServerConfig
from tests.support.redis_server import RedisServer, fresh_prefix
from tests.support.server_process import ServerProcess, run_cli
from tests.support.signaling import TEST_SECRET, Clients, RecordingClient
from tests.support.tcp_balancer import TcpBalancer

pytestmark = pytest.mark.timeout(90)

Connect = Callable[..., Awaitable[RecordingClient]]


@pytest_asyncio.fixture
async def servers(redis_server: RedisServer) -> AsyncIterator[list[RunningServer]]:
    """Two servers sharing one Redis (under a prefix of this test's own)."""
    prefix = fresh_prefix()
    running = []
    for _ in range(2):
        cluster = Cluster(ClusterConfig(redis_server.url, prefix, heartbeat_s=0.1, silence_s=1.0))
        running.append(await start_server(ServerConfig(secret=TEST_SECRET), cluster=cluster))
    yield running
    for server in running:
        await server.stop()


@pytest_asyncio.fixture
async def connect() -> AsyncIterator[Connect]:
    clients = Clients()
    yield clients.connect
    await clients.close()


CONNECTED = ConnectionState.CONNECTED


async def wait_until(condition: Callable[[], bool], timeout: float = 15.0) -> None:
    async with asyncio.timeout(timeout):
        while not condition():  # noqa: ASYNC110 (a state, not an event, to watch)
            await asyncio.sleep(0.02)


async def online_ids(client: RecordingClient) -> set[str]:
    return {p.user_id for p in await client.list_online()}


async def test_presence_spans_the_servers(servers: list[RunningServer], connect: Connect) -> None:
    a, b = servers
    alice = await connect(a.url, "alice")
    bob = await connect(b.url, "bob")
    watcher = await connect(b.url, "watcher")
    assert {p.user_id for p in await watcher.subscribe_presence()} == {"alice", "bob", "watcher"}
    assert await online_ids(alice) == {"alice", "bob", "watcher"}
    gone = asyncio.ensure_future(
        watcher.wait_for(PresenceChangedEvent, lambda e: e.user_id == "alice" and not e.online)
    )
    await alice.close()
    await gone
    assert await online_ids(bob) == {"bob", "watcher"}


async def test_an_invitation_rings_on_another_server_and_busy_crosses_too(
    servers: list[RunningServer], connect: Connect
) -> None:
    a, b = servers
    alice, bob = await connect(a.url, "alice"), await connect(b.url, "bob")
    received = asyncio.ensure_future(bob.wait_for(InvitationReceivedEvent))
    sent = await alice.send_invitation(["bob"], CallType.VOICE)
    assert [(u.user_id, u.state) for u in sent.users] == [("bob", InvitationUserState.RECEIVED)]
    invitation = await received
    ended = asyncio.ensure_future(alice.wait_for(InvitationEndedEvent))
    await bob.accept_invitation(invitation.invitation_id)
    assert (await alice.expect(InvitationAcceptedEvent)).callee.user_id == "bob"
    assert (await ended).reason is InvitationEndReason.ACCEPTED
    entered = asyncio.ensure_future(alice.wait_for(UserEnteredEvent))
    await alice.join_room(sent.call_id)
    await bob.join_room(sent.call_id)
    assert (await entered).member.user_id == "bob"
    # Bob is in a call (on server b): carol, on server a, finds him busy.
    carol = await connect(a.url, "carol")
    busy = await carol.send_invitation(["bob"], CallType.VOICE)
    assert [(u.user_id, u.state) for u in busy.users] == [("bob", InvitationUserState.REJECTED)]
    states = {p.user_id: p.state for p in await carol.list_online()}
    assert states["bob"] is PresenceState.IN_CALL


async def test_signing_in_on_another_server_ends_the_first_session(
    servers: list[RunningServer], connect: Connect
) -> None:
    a, b = servers
    alice, bob = await connect(a.url, "alice"), await connect(b.url, "bob")
    await alice.join_room("r")
    await bob.join_room("r")
    kicked = asyncio.ensure_future(alice.wait_for(SessionKickedEvent))
    left = asyncio.ensure_future(bob.wait_for(UserLeftEvent))
    alice2 = await connect(b.url, "alice")
    assert (await kicked).reason == "logged_in_elsewhere"
    assert (await left).user.user_id == "alice"
    await alice.expect(ConnectionStateChanged, lambda e: e.state is ConnectionState.KICKED)
    await alice2.join_room("r")
    await asyncio.sleep(0.3)
    assert alice2.state is ConnectionState.CONNECTED
    room = await a.hub.store.room("r")
    assert room is not None
    assert sorted(room.members) == ["alice", "bob"]
    assert a.hub.metrics.connections == 0  # server a closed the old connection
    assert await online_ids(bob) == {"alice", "bob"}


async def test_fifty_bots_over_two_servers_race_for_one_seat(
    servers: list[RunningServer], connect: Connect
) -> None:
    bots = [await connect(servers[i % 2].url, f"bot{i:02d}") for i in range(50)]
    for bot in bots:
        await bot.join_room("stage", "audio_room", seats=SeatConfig(count=8))
    results = await asyncio.gather(*(b.take_seat("stage", 3) for b in bots), return_exceptions=True)
    winners = [bot for bot, result in zip(bots, results, strict=True) if result == 3]
    losers = [r for r in results if isinstance(r, SignalingError)]
    assert len(winners) == 1
    assert len(losers) == 49
    assert {e.code for e in losers} == {ErrorCode.CONFLICT}
    room = await servers[1].hub.store.room("stage")
    assert room is not None
    assert room.audio is not None
    truth = room.audio.view()
    assert winners[0].user is not None
    assert truth.seats[3].user_id == winners[0].user.user_id
    for bot in bots:  # every client, on either server, ends with the one map
        await bot.expect(SeatChangedEvent, lambda e: e.version == truth.version)
        latest = max(bot.seen_of(SeatChangedEvent), key=lambda e: e.version)
        assert latest.seats == truth.seats


async def test_a_timer_fires_once_whichever_server_polls_first(
    servers: list[RunningServer], connect: Connect
) -> None:
    a, b = servers
    alice, bob = await connect(a.url, "alice"), await connect(b.url, "bob")
    await alice.send_invitation(["bob"], CallType.VOICE, timeout_s=1)
    await bob.expect(InvitationTimeoutEvent, timeout=5)
    await alice.expect(InvitationEndedEvent, timeout=5)
    await asyncio.sleep(0.5)
    assert len(bob.seen_of(InvitationTimeoutEvent)) == 1
    assert len(alice.seen_of(InvitationEndedEvent)) == 1
    assert sum(s.hub.metrics.invitations["timeout"] for s in servers) == 1


# --- real processes, one of them killed ---------------------------------------------


@pytest_asyncio.fixture
async def processes(redis_server: RedisServer) -> AsyncIterator[list[ServerProcess]]:
    """Two ``parley-server --redis`` processes; one second of silence makes one dead."""
    prefix = fresh_prefix()
    options = ["--redis", redis_server.url, "--redis-prefix", prefix, "--server-silence", "1"]
    started = [
        await asyncio.to_thread(ServerProcess, 0, *options, "--rejoin-grace", "2") for _ in range(2)
    ]
    yield started
    for process in started:
        process.kill()


async def test_a_killed_server_s_clients_reconnect_to_another_and_keep_their_seats(
    processes: list[ServerProcess], connect: Connect
) -> None:
    one, two = processes
    balancer = TcpBalancer([("127.0.0.1", one.port), ("127.0.0.1", two.port)])
    url = await balancer.start()
    try:
        host = await connect(url, "host")  # through the balancer: to server one
        listener = await connect(two.url, "listener")
        await host.join_room("stage", "audio_room", role="host", seats=SeatConfig(count=8))
        await host.take_seat("stage", 0)
        await listener.join_room("stage", "audio_room")
        assert balancer.routed == [("127.0.0.1", one.port)]
        one.kill()
        await host.expect(ConnectionStateChanged, lambda e: e.state is ConnectionState.RECONNECTING)
        await host.wait_for(
            ConnectionStateChanged, lambda e: e.state is ConnectionState.CONNECTED, timeout=15
        )
        assert balancer.routed[-1] == ("127.0.0.1", two.port)
        # Past the silence that makes server one dead, and past the rejoin grace: the
        # host re-joined on server two and kept the room, the role and the seat.
        await asyncio.sleep(4)
        assert listener.seen_of(UserLeftEvent) == []
        snapshot = await host.join_room("stage", "audio_room", role="host")
        assert snapshot.seat_map is not None
        assert snapshot.seat_map.host_id == "host"
        assert snapshot.seat_map.seats[0].user_id == "host"
        assert await online_ids(listener) == {"host", "listener"}
    finally:
        await balancer.close()


async def test_a_killed_server_s_sessions_end_when_nobody_comes_back(
    processes: list[ServerProcess], connect: Connect
) -> None:
    one, two = processes
    gone = await connect(one.url, "gone", reconnect=False)
    stays = await connect(two.url, "stays")
    await gone.join_room("call")
    await stays.join_room("call")
    await stays.subscribe_presence()
    one.kill()
    # Silent for a second: server two takes over; the rejoin grace (2 s) runs out.
    left = await stays.expect(UserLeftEvent, timeout=15)
    assert (left.user.user_id, left.reason) == ("gone", "disconnected")
    await stays.expect(PresenceChangedEvent, lambda e: e.user_id == "gone" and not e.online)
    assert await online_ids(stays) == {"stays"}


# --- the command line -------------------------------------------------------------------


def test_a_wrong_redis_url_is_refused_before_anything_starts(tmp_path: Path) -> None:
    result = run_cli(
        "--port", "0", "--data-dir", str(tmp_path), "--redis", "http://user:hunter2@cache:6379"
    )  # fmt: skip
    assert result.returncode == 2
    assert "--redis wants a redis://, rediss:// or unix:// URL" in result.stderr
    assert "hunter2" not in result.stderr


def test_an_unreachable_redis_stops_the_server_with_where_it_looked(tmp_path: Path) -> None:
    dead = tmp_path / "nobody-listens.sock"
    url = f"unix://:hunter2@{dead}"
    result = run_cli("--port", "0", "--data-dir", str(tmp_path), "--redis", url)
    assert result.returncode == 1
    assert "parley-server: cannot use Redis at unix://:***@" in result.stderr
    assert "hunter2" not in result.stderr
    assert "listening on" not in result.stdout


async def test_a_server_stopping_hands_its_people_over_without_ending_anything(
    redis_server: RedisServer, connect: Connect
) -> None:
    """A rolling restart: one server stops cleanly; its clients reconnect through the
    balancer to the other and keep their call and the invitation that rings."""
    prefix = fresh_prefix()
    servers = []
    for _ in range(2):
        # Three seconds of silence: time for alice's app to reconnect (about a second).
        cluster = Cluster(ClusterConfig(redis_server.url, prefix, heartbeat_s=0.1, silence_s=3.0))
        servers.append(await start_server(ServerConfig(secret=TEST_SECRET), cluster=cluster))
    a, b = servers
    balancer = TcpBalancer([("127.0.0.1", a.port), ("127.0.0.1", b.port)])
    url = await balancer.start()
    try:
        alice = await connect(url, "alice")  # to server a
        bob = await connect(b.url, "bob")
        carol = await connect(b.url, "carol")
        await alice.join_room("call")
        await bob.join_room("call")
        ringing = asyncio.ensure_future(carol.wait_for(InvitationReceivedEvent))
        sent = await alice.send_invitation(["carol"], CallType.VOICE, call_id="call")
        await ringing
        await a.stop()  # takes a few seconds: alice may be back before it returns
        await wait_until(lambda: len(balancer.routed) == 2 and alice.state is CONNECTED)
        assert balancer.routed[-1] == ("127.0.0.1", b.port)
        await asyncio.sleep(3.5)  # past the silence that makes server a dead
        assert bob.seen_of(UserLeftEvent) == []
        assert carol.seen_of(InvitationEndedEvent) == []
        assert await carol.accept_invitation(sent.invitation_id) == "call"
        assert (await alice.expect(InvitationAcceptedEvent)).callee.user_id == "carol"
        room = await b.hub.store.room("call")
        assert room is not None
        assert sorted(room.members) == ["alice", "bob"]
    finally:
        await balancer.close()
        for server in servers:
            await server.stop()
