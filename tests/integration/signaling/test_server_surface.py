"""Authentication, HTTP endpoints, the command line and rate limiting."""

from __future__ import annotations

import asyncio
import json
import os
import stat
import subprocess
import sys
import time
from pathlib import Path

import aiohttp
import jwt
import pytest

from signaling.auth import mint_token, verify_token
from signaling.client import SignalingClient
from signaling.enums import CallType
from signaling.errors import ErrorCode, SignalingError
from signaling.server.app import RunningServer
from signaling.server.child_processes import die_with_parent
from tests.support.server_process import CLI_ENV, run_cli
from tests.support.signaling import TEST_SECRET, ClientFactory


@pytest.mark.parametrize(
    ("token", "code"),
    [
        ("", ErrorCode.UNAUTHORIZED),
        ("not-a-jwt", ErrorCode.UNAUTHORIZED),
        (
            mint_token("another-secret-of-enough-length-000000", "alice", "A"),
            ErrorCode.UNAUTHORIZED,
        ),
        (
            jwt.encode(
                {"sub": "alice", "name": "A", "exp": int(time.time()) - 5}, TEST_SECRET, "HS256"
            ),
            ErrorCode.TOKEN_EXPIRED,
        ),
        (
            jwt.encode({"sub": "../../etc", "exp": 2**40}, TEST_SECRET, "HS256"),
            ErrorCode.UNAUTHORIZED,
        ),
    ],
    ids=["missing", "garbage", "forged", "expired", "bad-user-id"],
)
async def test_bad_tokens_are_refused_at_connect(
    server: RunningServer, token: str, code: ErrorCode
) -> None:
    client = SignalingClient(server.url, token, reconnect=False)
    with pytest.raises(SignalingError) as err:
        await client.connect()
    assert err.value.code is code
    assert err.value.message  # a clear message, not an empty refusal
    await client.close()
    assert server.hub.metrics.connections == 0


def test_verify_token_round_trip() -> None:
    identity = verify_token(TEST_SECRET, mint_token(TEST_SECRET, "alice", "Alice Liddell", 60))
    assert (identity.user_id, identity.name) == ("alice", "Alice Liddell")
    with pytest.raises(ValueError, match="at least 32 bytes"):
        mint_token("short", "alice", "Alice")
    with pytest.raises(ValueError, match="invalid user id"):
        mint_token(TEST_SECRET, "has space", "Alice")


async def test_healthz_and_metrics(server: RunningServer, make_client: ClientFactory) -> None:
    alice, bob = await make_client("alice"), await make_client("bob")
    await alice.join_room("r")
    await alice.send_invitation(["nobody"], CallType.VOICE)
    with pytest.raises(SignalingError):
        await bob.leave_room("r")
    async with aiohttp.ClientSession() as http:
        async with http.get(f"{server.url}/healthz") as response:
            assert response.status == 200
            assert await response.json() == {"ok": True}
        async with http.get(f"{server.url}/metrics") as response:
            assert response.status == 200
            text = await response.text()
    assert "parley_connections 2" in text
    assert "parley_rooms 1" in text  # r; the failed invitation's call left nothing behind
    assert 'parley_invitations_total{outcome="offline"} 1' in text
    assert 'parley_errors_total{code="not_in_room"} 1' in text


@pytest.mark.parley_server(rate_per_s=5, rate_burst=10)
async def test_flood_is_rate_limited_and_connection_survives(make_client: ClientFactory) -> None:
    alice = await make_client("alice")
    results = await asyncio.gather(
        *(alice.list_online() for _ in range(40)), return_exceptions=True
    )
    limited = [r for r in results if isinstance(r, SignalingError)]
    assert limited
    assert all(e.code is ErrorCode.RATE_LIMITED for e in limited)
    assert len(results) - len(limited) <= 11
    await asyncio.sleep(0.5)  # the bucket refills
    assert [p.user_id for p in await alice.list_online()] == ["alice"]


def test_cli_token_uses_secret_from_env() -> None:
    result = run_cli(
        "token",
        "--user-id",
        "alice",
        "--name",
        "Alice",
        "--ttl",
        "60",
        env={"PARLEY_SECRET": TEST_SECRET},
    )
    assert result.returncode == 0, result.stderr
    identity = verify_token(TEST_SECRET, result.stdout.strip())
    assert (identity.user_id, identity.name) == ("alice", "Alice")
    claims = jwt.decode(result.stdout.strip(), TEST_SECRET, algorithms=["HS256"])
    assert 0 < claims["exp"] - time.time() <= 61


def test_token_without_any_secret_says_where_one_comes_from(tmp_path: Path) -> None:
    no_secret = run_cli(
        "token", "--user-id", "alice", "--name", "Alice", "--data-dir", str(tmp_path / "none")
    )
    assert no_secret.returncode == 2
    assert "PARLEY_SECRET" in no_secret.stderr
    assert "start the server once" in no_secret.stderr


def test_cli_serves_and_stops_on_sigterm() -> None:
    process = subprocess.Popen(
        [sys.executable, "-m", "signaling.server.cli", "--port", "0", "--secret", TEST_SECRET],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
        preexec_fn=die_with_parent(),
    )
    try:
        assert process.stdout is not None
        line = process.stdout.readline()
        assert line.startswith("parley-server listening on http://127.0.0.1:")
        url = line.split()[-1]
        import urllib.request

        with urllib.request.urlopen(f"{url}/healthz", timeout=5) as response:
            assert json.load(response) == {"ok": True}
    finally:
        process.terminate()
        assert process.wait(timeout=10) == 0
        if process.stdout:
            process.stdout.close()
        if process.stderr:
            process.stderr.close()


def _serve_briefly(*args: str) -> tuple[str, str]:
    """Start ``parley-server --port 0 *args`` without $PARLEY_SECRET, wait until it
    listens, stop it; its first stdout line and its stderr."""
    env = {k: v for k, v in os.environ.items() if k not in CLI_ENV}
    process = subprocess.Popen(
        [sys.executable, "-m", "signaling.server.cli", "--port", "0", *args],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
        env=env,
        preexec_fn=die_with_parent(),
    )
    try:
        assert process.stdout is not None
        line = process.stdout.readline()
    finally:
        process.terminate()
        _, stderr = process.communicate(timeout=10)
    return line, stderr


def test_without_a_secret_the_server_keeps_its_own_and_token_uses_it(tmp_path: Path) -> None:
    data = tmp_path / "data"
    for _ in range(2):
        line, stderr = _serve_briefly("--data-dir", str(data))
        assert line.startswith("parley-server listening on http://127.0.0.1:"), stderr
        assert f"accounts in {data / 'accounts.db'}" in stderr
    secret_file = data / "secret"
    secret = secret_file.read_text().strip()
    assert len(secret) >= 32
    assert stat.S_IMODE(secret_file.stat().st_mode) == 0o600
    assert stat.S_IMODE(data.stat().st_mode) == 0o700
    assert secret not in stderr  # never printed: it stays on the server

    minted = run_cli("token", "--user-id", "alice", "--name", "Alice", "--data-dir", str(data))
    assert minted.returncode == 0, minted.stderr
    assert verify_token(secret, minted.stdout.strip()).user_id == "alice"


def test_a_public_address_needs_no_secret_flag_any_more(tmp_path: Path) -> None:
    line, stderr = _serve_briefly("--host", "0.0.0.0", "--data-dir", str(tmp_path))
    assert line.startswith("parley-server listening on http://0.0.0.0:"), stderr


def test_a_secret_that_starts_with_a_dash_is_accepted() -> None:
    line, stderr = _serve_briefly("--secret", "-" + TEST_SECRET)

    assert line.startswith("parley-server listening on"), stderr


async def test_background_work_not_yet_started_when_the_server_stops_is_dropped_cleanly() -> None:
    """A presence push deferred by the batch window and cancelled by a stop before it
    ran left a coroutine that was never awaited (a warning, an error in this suite)."""
    from signaling.server.app import start_server
    from signaling.server.hub import ServerConfig

    server = await start_server(ServerConfig(secret=TEST_SECRET), "127.0.0.1", 0)
    ran = []

    async def work() -> None:
        ran.append(True)

    server.hub.spawn(work())  # scheduled, not started: the stop comes first
    await server.hub.close()  # what stopping the server begins with
    server.hub.spawn(work())  # a connection closing during the stop hands work in
    await server.stop()
    assert ran == []
