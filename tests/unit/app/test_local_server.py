"""Start or reuse the local server, its secret file, and taking over when the host quits."""

from __future__ import annotations

import stat
import subprocess
import sys
from collections.abc import AsyncIterator
from pathlib import Path

import pytest
import pytest_asyncio
from aiohttp import web

from app.kit.account import Account, LinkChanged, LinkState
from app.kit.local_server import (
    ServerError,
    ServerHandle,
    ServerMode,
    ServerSettings,
    load_or_create_secret,
    open_server,
    probe_parley,
)
from signaling.client import SignalingClient
from tests.unit.app.recorder import Recorder


def settings_for(tmp_path: Path, port: int) -> ServerSettings:
    return ServerSettings(port=port, secret_path=tmp_path / "parley" / "local-secret")


@pytest_asyncio.fixture
async def handles() -> AsyncIterator[list[ServerHandle]]:
    """Handles the test opened; stopped at the end (hosts last, as when people quit)."""
    opened: list[ServerHandle] = []
    yield opened
    for handle in sorted(opened, key=lambda h: h.mode is ServerMode.HOSTING):
        await handle.stop()


def test_importing_it_and_the_session_loads_no_network_stack() -> None:
    """The window needs ServerMode and LinkState before the network stack is imported."""
    script = (
        "import sys, app.kit.local_server, app.kit.account\n"
        "heavy = ('aiohttp', 'socketio', 'pydantic', 'jwt', 'signaling.server', "
        "'signaling.client', 'signaling.protocol', 'signaling.auth')\n"
        "heavy_dot = tuple(name + '.' for name in heavy)\n"
        "print(sorted(m for m in sys.modules if m in heavy or m.startswith(heavy_dot)))\n"
    )
    out = subprocess.run(
        [sys.executable, "-c", script], capture_output=True, text=True, check=True, timeout=60
    )
    assert out.stdout.strip() == "[]"


def test_the_secret_file_is_private_and_reused(tmp_path: Path) -> None:
    path = tmp_path / "config" / "parley" / "local-secret"
    secret = load_or_create_secret(path)
    assert len(secret) == 48
    assert stat.S_IMODE(path.stat().st_mode) == 0o600
    assert stat.S_IMODE(path.parent.stat().st_mode) == 0o700
    assert load_or_create_secret(path) == secret
    assert [p.name for p in path.parent.iterdir()] == ["local-secret"]


def test_a_loosened_secret_file_is_made_private_again(tmp_path: Path) -> None:
    path = tmp_path / "local-secret"
    secret = load_or_create_secret(path)
    path.chmod(0o644)
    assert load_or_create_secret(path) == secret
    assert stat.S_IMODE(path.stat().st_mode) == 0o600


def test_an_unusable_secret_file_is_a_clear_error(tmp_path: Path) -> None:
    path = tmp_path / "local-secret"
    path.write_text("short\n")
    with pytest.raises(ServerError, match="does not hold a usable secret"):
        load_or_create_secret(path)


def test_settings_come_from_the_environment(tmp_path: Path) -> None:
    env = {"XDG_CONFIG_HOME": str(tmp_path), "PARLEY_LOCAL_PORT": "9001"}
    settings = ServerSettings.from_env(env)
    assert settings.port == 9001
    assert settings.remote_url is None
    assert settings.secret_path == tmp_path / "parley" / "local-secret"
    remote = ServerSettings.from_env(
        {"PARLEY_SERVER_URL": "http://example.invalid:8719", "PARLEY_SECRET": "x" * 40}
    )
    assert remote.remote_url == "http://example.invalid:8719"
    with_secret = {**env, "PARLEY_SECRET": "x" * 40}
    assert ServerSettings.from_env(with_secret, server_url="http://other").remote_url == (
        "http://other"
    )
    # Without its secret a server is one to sign in to with an account; the local
    # server opens as usual.
    accounts = ServerSettings.from_env(env, server_url="https://parley.example")
    assert (accounts.remote_url, accounts.account_url) == (None, "https://parley.example")
    with pytest.raises(ServerError, match="PARLEY_LOCAL_PORT"):
        ServerSettings.from_env({"PARLEY_LOCAL_PORT": "eighty"})


async def test_the_first_instance_starts_the_server_and_the_second_reuses_it(
    tmp_path: Path, unused_tcp_port: int, handles: list[ServerHandle]
) -> None:
    first = await open_server(settings_for(tmp_path, unused_tcp_port))
    handles.append(first)
    assert first.mode is ServerMode.HOSTING
    assert first.url == f"http://127.0.0.1:{unused_tcp_port}"
    assert await probe_parley("127.0.0.1", unused_tcp_port)

    second = await open_server(settings_for(tmp_path, unused_tcp_port))
    handles.append(second)
    assert second.mode is ServerMode.SHARED
    assert second.url == first.url

    # Both mint tokens the one server accepts: they share the secret file.
    client = SignalingClient(second.url, second.mint_token("alice", "Alice"), reconnect=False)
    try:
        assert (await client.connect()).user_id == "alice"
    finally:
        await client.close()


async def test_a_port_taken_by_something_else_is_a_clear_error(
    tmp_path: Path, unused_tcp_port: int
) -> None:
    async def healthz(request: web.Request) -> web.Response:
        return web.json_response({"status": "fine"})

    other = web.Application()
    other.router.add_get("/healthz", healthz)
    runner = web.AppRunner(other)
    await runner.setup()
    await web.TCPSite(runner, "127.0.0.1", unused_tcp_port).start()
    try:
        assert not await probe_parley("127.0.0.1", unused_tcp_port)
        with pytest.raises(ServerError, match="not a Parley server") as caught:
            await open_server(settings_for(tmp_path, unused_tcp_port))
        assert "PARLEY_LOCAL_PORT" in str(caught.value)
    finally:
        await runner.cleanup()


async def test_a_remote_server_opened_at_start_needs_its_secret(tmp_path: Path) -> None:
    with pytest.raises(ServerError, match="PARLEY_SECRET"):
        await open_server(ServerSettings(remote_url="http://example.invalid"))
    with pytest.raises(ServerError, match="at least 32 bytes"):
        await open_server(ServerSettings(remote_url="http://example.invalid", remote_secret="s"))
    remote = await open_server(
        ServerSettings(remote_url="http://example.invalid/", remote_secret="r" * 40)
    )
    assert remote.mode is ServerMode.REMOTE
    assert remote.url == "http://example.invalid"
    assert not await remote.take_over()


def link_states(recorder: Recorder) -> list[LinkState]:
    return [e.state for e in recorder.events if isinstance(e, LinkChanged)]


def fast_client(handle: ServerHandle, user_id: str) -> SignalingClient:
    return SignalingClient(
        handle.url,
        lambda: handle.mint_token(user_id, user_id.title()),
        backoff_initial_s=0.1,
        backoff_max_s=0.3,
    )


async def test_when_the_host_quits_exactly_one_other_instance_takes_over(
    tmp_path: Path, unused_tcp_port: int, handles: list[ServerHandle]
) -> None:
    host = await open_server(settings_for(tmp_path, unused_tcp_port))
    bob_side = await open_server(settings_for(tmp_path, unused_tcp_port))
    carol_side = await open_server(settings_for(tmp_path, unused_tcp_port))
    handles += [host, bob_side, carol_side]
    assert [bob_side.mode, carol_side.mode] == [ServerMode.SHARED, ServerMode.SHARED]
    modes: list[ServerMode] = []
    bob_side.subscribe(modes.append)
    carol_side.subscribe(modes.append)
    bob = Account(lambda u, n: fast_client(bob_side, u), on_server_lost=bob_side.take_over)
    carol = Account(lambda u, n: fast_client(carol_side, u), on_server_lost=carol_side.take_over)
    bob_events, carol_events = Recorder(bob), Recorder(carol)
    try:
        await bob.sign_in("bob", "Bob")
        await carol.sign_in("carol", "Carol")
        bob_events.events.clear()
        carol_events.events.clear()

        await host.stop()

        back = [LinkState.RECONNECTING, LinkState.ONLINE]
        await bob_events.until(lambda: link_states(bob_events) == back, timeout=10)
        await carol_events.until(lambda: link_states(carol_events) == back, timeout=10)
        await bob_events.until(lambda: {u.user_id for u in bob.users} == {"bob", "carol"})
        assert modes == [ServerMode.HOSTING]
        assert sorted([bob_side.mode, carol_side.mode]) == [ServerMode.HOSTING, ServerMode.SHARED]
        assert await probe_parley("127.0.0.1", unused_tcp_port)
    finally:
        await bob.close()
        await carol.close()
