"""ICE servers for clients: STUN as configured, TURN with credentials in coturn's REST
scheme (user "<expiry>:<user_id>", password base64(HMAC-SHA1(secret, user))), in the
welcome, on request and over HTTP, renewed by the client when they get old."""

from __future__ import annotations

import base64
import hashlib
import hmac
import time

import aiohttp
import pytest

from signaling.auth import mint_token
from signaling.client import SignalingClient
from signaling.server.app import RunningServer
from signaling.server.hub import ServerConfig
from signaling.server.turn import turn_credentials
from tests.support.raw_socketio import RawSocket
from tests.support.server_process import run_cli
from tests.support.signaling import TEST_SECRET

TURN_SECRET = "turn-static-auth-secret"
TURN_URIS = ("turn:turn.parley.example:3478?transport=udp", "turns:turn.parley.example:5349")
ICE: dict[str, object] = {
    "stun_uris": ("stun:stun.parley.example:3478",),
    "turn_uris": TURN_URIS,
    "turn_secret": TURN_SECRET,
    "turn_ttl_s": 600,
}


def check_turn(server: dict[str, object], user_id: str, ttl_s: int) -> None:
    """``server`` carries credentials coturn would accept for ``user_id``."""
    username, credential = str(server["username"]), str(server["credential"])
    expiry, _, named = username.partition(":")
    assert named == user_id
    assert 0 < int(expiry) - time.time() <= ttl_s + 1
    expected = hmac.new(TURN_SECRET.encode(), username.encode(), hashlib.sha1).digest()
    assert base64.b64decode(credential) == expected


def test_credentials_follow_the_turn_rest_scheme() -> None:
    username, password = turn_credentials("secret", "alice", 3600, now=1_000_000)

    assert username == "1003600:alice"
    expected = hmac.new(b"secret", b"1003600:alice", hashlib.sha1).digest()
    assert password == base64.b64encode(expected).decode()


def test_turn_without_a_secret_is_refused() -> None:
    with pytest.raises(ValueError, match="turn_secret"):
        ServerConfig(secret=TEST_SECRET, turn_uris=("turn:x:3478",))


@pytest.mark.parley_server(**ICE)
async def test_the_welcome_and_a_request_give_stun_and_fresh_turn(server: RunningServer) -> None:
    sock = await RawSocket.open(server.url, mint_token(TEST_SECRET, "alice", "Alice"))
    welcome = await sock.wait_for(lambda f: isinstance(f, str) and "session.welcome" in f)
    assert isinstance(welcome, str)

    answer = await sock.request("session.ice_servers", {})

    stun, turn = answer["ice_servers"]
    assert stun == {"urls": ["stun:stun.parley.example:3478"], "username": "", "credential": ""}
    assert turn["urls"] == list(TURN_URIS)
    check_turn(turn, "alice", 600)
    assert '"turn:turn.parley.example:3478?transport=udp"' in welcome
    await sock.close()


async def test_a_server_without_ice_servers_gives_none(server: RunningServer) -> None:
    client = SignalingClient(server.url, mint_token(TEST_SECRET, "alice", "Alice"))
    await client.connect()

    assert await client.ice_servers() == []
    await client.close()


@pytest.mark.parley_server(**ICE)
async def test_over_http_with_the_socket_token(server: RunningServer) -> None:
    token = mint_token(TEST_SECRET, "bob", "Bob")
    url = f"{server.url}/v1/ice-servers"
    async with aiohttp.ClientSession() as http:
        async with http.get(url, headers={"Authorization": f"Bearer {token}"}) as response:
            assert response.status == 200
            body = await response.json()
        check_turn(body["ice_servers"][1], "bob", 600)
        for headers in ({}, {"Authorization": "Bearer forged"}, {"Authorization": token}):
            async with http.get(url, headers=headers) as refused:
                assert refused.status == 401
                assert (await refused.json())["error"]["code"] == "unauthorized"


@pytest.mark.parley_server(**ICE)
async def test_a_signed_out_token_gets_no_turn_credentials(server: RunningServer) -> None:
    token = mint_token(TEST_SECRET, "bob", "Bob")
    sock = await RawSocket.open(server.url, token)
    await sock.request("session.sign_out", {})
    await sock.close()
    async with (
        aiohttp.ClientSession() as http,
        http.get(
            f"{server.url}/v1/ice-servers", headers={"Authorization": f"Bearer {token}"}
        ) as refused,
    ):
        assert refused.status == 401
        assert (await refused.json())["error"]["code"] == "token_revoked"


@pytest.mark.parley_server(**ICE)
async def test_the_client_renews_old_credentials(server: RunningServer) -> None:
    client = SignalingClient(server.url, mint_token(TEST_SECRET, "carol", "Carol"))
    await client.connect()
    first = await client.ice_servers()
    before = server.hub.metrics.requests["session.ice_servers"]

    same = await client.ice_servers()
    renewed = await client.ice_servers(max_age_s=0)

    assert same == first
    assert server.hub.metrics.requests["session.ice_servers"] == before + 1
    check_turn(renewed[1].model_dump(), "carol", 600)
    await client.close()


def test_the_cli_wants_a_secret_for_turn() -> None:
    result = run_cli("--port", "0", "--secret", TEST_SECRET, "--turn-uri", "turn:turn.example:3478")

    assert result.returncode == 2
    assert "--turn-uri needs --turn-secret" in result.stderr
