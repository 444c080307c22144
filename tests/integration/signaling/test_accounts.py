"""The sign-in API against a real server with a real account database: sign in, sign up
with an invite code, refresh (rotating, a replay ends the sign-in), log out, log out
everywhere; wrong passwords limited; every bad body refused with a clear code."""

from __future__ import annotations

import asyncio
import json
import sqlite3
import time
from pathlib import Path

import aiohttp
import pytest

from signaling.accounts_client import AccessTokens, AccountsClient
from signaling.client import SignalingClient
from signaling.client_events import ConnectionState, ConnectionStateChanged
from signaling.errors import ErrorCode, SignalingError
from signaling.protocol_accounts import Registration
from signaling.server.accounts import AccountDb, default_hasher
from signaling.server.app import start_server
from tests.support.accounts import PASSWORD, AccountsServer, start_accounts_server

pytestmark = pytest.mark.timeout(60)


async def post(url: str, path: str, body: object) -> tuple[int, dict[str, object], dict[str, str]]:
    data = body if isinstance(body, bytes) else json.dumps(body).encode()
    async with (
        aiohttp.ClientSession() as http,
        http.post(url + path, data=data) as response,
    ):
        return response.status, await response.json(content_type=None), dict(response.headers)


async def test_a_password_signs_in_and_its_access_token_opens_a_session(
    accounts_server: AccountsServer,
) -> None:
    accounts_server.add("alice", "Alice Liddell")
    pair = await AccountsClient(accounts_server.url).login("alice", PASSWORD)

    assert pair.user.user_id == "alice"
    assert pair.user.name == "Alice Liddell"
    assert pair.expires_in == 15 * 60
    client = SignalingClient(accounts_server.url, pair.access_token)
    try:
        me = await client.connect()
        assert (me.user_id, me.name) == ("alice", "Alice Liddell")
    finally:
        await client.close()


async def test_a_wrong_password_and_an_unknown_id_get_the_same_answer(
    accounts_server: AccountsServer,
) -> None:
    accounts_server.add("alice")
    wrong = await post(accounts_server.url, "/v1/login", {"user_id": "alice", "password": "nope"})
    unknown = await post(
        accounts_server.url, "/v1/login", {"user_id": "nobody", "password": "nope"}
    )

    assert wrong[0] == unknown[0] == 401
    assert (
        wrong[1]
        == unknown[1]
        == {
            "ok": False,
            "error": {
                "code": "invalid_credentials",
                "message": "the user ID or the password is wrong",
            },
        }
    )


async def test_guessing_a_password_locks_the_account_with_a_retry_after(
    accounts_server: AccountsServer,
) -> None:
    accounts_server.add("alice")
    client = AccountsClient(accounts_server.url)
    for _ in range(5):  # the free mistakes
        with pytest.raises(SignalingError) as wrong:
            await client.login("alice", "guess")
        assert wrong.value.code is ErrorCode.INVALID_CREDENTIALS
    with pytest.raises(SignalingError):
        await client.login("alice", "guess")  # the sixth locks it for a second

    status, body, headers = await post(
        accounts_server.url, "/v1/login", {"user_id": "alice", "password": PASSWORD}
    )
    assert status == 429
    error = body["error"]
    assert isinstance(error, dict)
    assert error["code"] == "too_many_attempts"
    assert error["retry_after"] == 1
    assert headers["Retry-After"] == "1"
    # Someone else is not locked by it.
    accounts_server.add("bob")
    assert (await client.login("bob", PASSWORD)).user.user_id == "bob"
    await asyncio.sleep(1.1)
    assert (await client.login("alice", PASSWORD)).user.user_id == "alice"


async def test_a_refresh_token_is_spent_once_and_a_replay_ends_the_sign_in(
    accounts_server: AccountsServer,
) -> None:
    accounts_server.add("alice")
    client = AccountsClient(accounts_server.url)
    first = await client.login("alice", PASSWORD)
    second = await client.refresh(first.refresh_token)
    assert second.refresh_token != first.refresh_token
    assert second.access_token != first.access_token

    with pytest.raises(SignalingError) as replay:
        await client.refresh(first.refresh_token)  # a stolen copy used after its owner
    assert replay.value.code is ErrorCode.TOKEN_REVOKED
    with pytest.raises(SignalingError) as ended:
        await client.refresh(second.refresh_token)
    assert ended.value.code is ErrorCode.UNAUTHORIZED
    # Another device's sign-in is untouched.
    other = await client.login("alice", PASSWORD)
    assert (await client.refresh(other.refresh_token)).user.user_id == "alice"


async def test_logout_ends_one_sign_in_and_everywhere_ends_them_all(
    accounts_server: AccountsServer,
) -> None:
    accounts_server.add("alice")
    client = AccountsClient(accounts_server.url)
    laptop = await client.login("alice", PASSWORD)
    phone = await client.login("alice", PASSWORD)
    desk = await client.login("alice", PASSWORD)

    await client.logout(laptop.refresh_token)
    await client.logout(laptop.refresh_token)  # twice is fine
    with pytest.raises(SignalingError):
        await client.refresh(laptop.refresh_token)
    phone = await client.refresh(phone.refresh_token)

    live = SignalingClient(accounts_server.url, desk.access_token)
    await live.connect()
    try:
        await client.logout(phone.refresh_token, everywhere=True)
        await live.wait_for(
            ConnectionStateChanged, lambda e: e.state is not ConnectionState.CONNECTED, 5
        )
        for pair in (phone, desk):
            with pytest.raises(SignalingError):
                await client.refresh(pair.refresh_token)
        # The access tokens issued before are refused too.
        again = SignalingClient(accounts_server.url, desk.access_token)
        with pytest.raises(SignalingError) as refused:
            await again.connect()
        assert refused.value.code is ErrorCode.TOKEN_REVOKED
    finally:
        await live.close()


@pytest.mark.parley_server(registration=Registration.INVITE)
async def test_an_invite_code_creates_one_account_and_is_spent_only_by_success(
    accounts_server: AccountsServer,
) -> None:
    client = AccountsClient(accounts_server.url)
    code = accounts_server.db.create_invite(uses=1)
    accounts_server.add("taken")

    with pytest.raises(SignalingError) as no_code:
        await client.sign_up("bob", "Bob", "long enough")
    assert no_code.value.code is ErrorCode.REGISTRATION_CLOSED
    with pytest.raises(SignalingError) as bad_code:
        await client.sign_up("bob", "Bob", "long enough", "not-a-real-code")
    assert bad_code.value.code is ErrorCode.INVITE_INVALID
    with pytest.raises(SignalingError) as taken:
        await client.sign_up("taken", "Someone", "long enough", code)
    assert taken.value.code is ErrorCode.USER_EXISTS
    with pytest.raises(SignalingError) as short:
        await client.sign_up("bob", "Bob", "short", code)
    assert short.value.code is ErrorCode.BAD_REQUEST
    assert "password" in short.value.message

    pair = await client.sign_up("bob", "Bob Builder", "long enough", code)
    assert (pair.user.user_id, pair.user.name) == ("bob", "Bob Builder")
    assert (await client.login("bob", "long enough")).user.name == "Bob Builder"
    with pytest.raises(SignalingError) as used_up:
        await client.sign_up("carol", "Carol", "long enough", code)
    assert used_up.value.code is ErrorCode.INVITE_INVALID
    assert [u.user_id for u in accounts_server.db.users()] == ["bob", "taken"]


@pytest.mark.parley_server(registration=Registration.OPEN)
async def test_open_registration_needs_no_code(accounts_server: AccountsServer) -> None:
    client = AccountsClient(accounts_server.url)
    assert (await client.server_info()).registration is Registration.OPEN
    assert (await client.sign_up("dave", "", "long enough")).user.name == "dave"


@pytest.mark.parley_server(registration=Registration.CLOSED)
async def test_closed_registration_refuses_even_a_valid_code(
    accounts_server: AccountsServer,
) -> None:
    client = AccountsClient(accounts_server.url)
    code = accounts_server.db.create_invite()
    with pytest.raises(SignalingError) as closed:
        await client.sign_up("erin", "Erin", "long enough", code)
    assert closed.value.code is ErrorCode.REGISTRATION_CLOSED
    assert accounts_server.db.users() == []


@pytest.mark.parametrize(
    ("body", "status", "code"),
    [
        pytest.param(b"not json", 400, "bad_request", id="not-json"),
        pytest.param(b"[1, 2]", 400, "bad_request", id="array"),
        pytest.param(b"[" * 5000 + b"]" * 5000, 413, "payload_too_large", id="deep-nesting"),
        pytest.param(
            b'{"user_id": "a", "password": "' + b"x" * 9000 + b'"}',
            413,
            "payload_too_large",
            id="huge",
        ),
        pytest.param(
            {"user_id": "a", "password": "x" * 1025}, 400, "bad_request", id="long-password"
        ),
        pytest.param({"user_id": 5, "password": "x"}, 400, "bad_request", id="wrong-type"),
        pytest.param({"user_id": "a b", "password": "x"}, 400, "bad_request", id="bad-id"),
        pytest.param(
            {"user_id": "a", "password": "x", "admin": True}, 400, "bad_request", id="extra-key"
        ),
        pytest.param({}, 400, "bad_request", id="empty"),
    ],
)
async def test_a_bad_login_body_gets_a_clear_error_and_changes_nothing(
    accounts_server: AccountsServer, body: object, status: int, code: str
) -> None:
    accounts_server.add("a")
    answer = await post(accounts_server.url, "/v1/login", body)
    assert answer[0] == status
    error = answer[1]["error"]
    assert isinstance(error, dict)
    assert error["code"] == code
    assert "x" * 20 not in str(error["message"])  # a password is never echoed
    assert (await AccountsClient(accounts_server.url).login("a", PASSWORD)).user.user_id == "a"


@pytest.mark.parametrize("path", ["/v1/refresh", "/v1/logout", "/v1/signup"])
async def test_other_endpoints_refuse_bad_bodies_too(
    accounts_server: AccountsServer, path: str
) -> None:
    for body in (b"{", {"refresh_token": "a b"}, {"refresh_token": "x" * 200}, {"extra": 1}):
        status, answer, _ = await post(accounts_server.url, path, body)
        assert status == 400, (path, body, answer)


async def test_access_tokens_renew_before_expiry_and_never_spend_a_token_twice(
    accounts_server: AccountsServer,
) -> None:
    accounts_server.add("alice")
    client = AccountsClient(accounts_server.url)
    now = [0.0]
    rotated: list[str] = []
    tokens = AccessTokens(
        client, await client.login("alice", PASSWORD), rotated.append, clock=lambda: now[0]
    )
    first = await tokens.access_token()
    assert await tokens.access_token() == first
    assert rotated == []

    now[0] = 15 * 60 - 30  # within a minute of expiry
    renewed = await asyncio.gather(*(tokens.access_token() for _ in range(5)))
    assert len(set(renewed)) == 1
    assert renewed[0] != first
    assert rotated == [tokens.refresh_token]  # one refresh for five callers
    assert (await client.refresh(tokens.refresh_token)).user.user_id == "alice"  # still alive


async def test_a_session_outlives_its_access_token_and_reconnects_with_a_fresh_one(
    tmp_path: Path,
) -> None:
    path = tmp_path / "accounts.db"
    first = await start_accounts_server(path, access_ttl_s=1)
    port = first.server.port
    first.add("alice")
    accounts = AccountsClient(first.url)
    tokens = AccessTokens(accounts, await accounts.login("alice", PASSWORD))
    client = SignalingClient(
        first.url, tokens.access_token, backoff_initial_s=0.1, backoff_max_s=0.3
    )
    await client.connect()
    second: AccountsServer | None = None
    try:
        await asyncio.sleep(1.5)  # the token it signed in with has expired
        online = await client.subscribe_presence()  # the session goes on
        assert [u.user_id for u in online] == ["alice"]
        spent = tokens.refresh_token
        await first.server.stop()
        await client.wait_for(
            ConnectionStateChanged, lambda e: e.state is ConnectionState.RECONNECTING, 5
        )
        first.db.close()
        second = await start_accounts_server(path, port=port, access_ttl_s=1)
        await client.wait_for(
            ConnectionStateChanged, lambda e: e.state is ConnectionState.CONNECTED, 10
        )
        assert tokens.refresh_token != spent  # it signed in again with a renewed token
    finally:
        await client.close()
        if second is not None:
            await second.server.stop()
            second.db.close()


async def test_a_server_with_a_new_secret_takes_the_sign_in_back_without_a_password(
    tmp_path: Path,
) -> None:
    # The admin lost the server's secret (or replaced it): tokens signed with the old
    # one are refused, and the client renews its access token with its refresh token.
    path = tmp_path / "accounts.db"
    first = await start_accounts_server(path)
    port = first.server.port
    first.add("alice")
    accounts = AccountsClient(first.url)
    tokens = AccessTokens(accounts, await accounts.login("alice", PASSWORD))
    client = SignalingClient(
        first.url,
        tokens.access_token,
        backoff_initial_s=0.1,
        backoff_max_s=0.3,
        renew_token=tokens.renew,
    )
    await client.connect()
    second: AccountsServer | None = None
    try:
        before = await tokens.access_token()
        await first.server.stop()
        first.db.close()
        second = await start_accounts_server(path, port=port, secret="a-brand-new-secret-" * 3)
        await client.wait_for(
            ConnectionStateChanged, lambda e: e.state is ConnectionState.CONNECTED, 10
        )
        assert await tokens.access_token() != before
    finally:
        await client.close()
        if second is not None:
            await second.server.stop()
            second.db.close()


def test_passwords_are_hashed_with_argon2id_and_codes_stored_only_as_digests(
    tmp_path: Path,
) -> None:
    db = AccountDb(tmp_path / "data" / "accounts.db", default_hasher())
    db.add_user("alice", "Alice", PASSWORD)
    code = db.create_invite()
    refresh = db.issue_refresh_token("alice")
    db.close()

    raw = sqlite3.connect(tmp_path / "data" / "accounts.db")
    (stored,) = raw.execute("SELECT password_hash FROM users").fetchone()
    assert stored.startswith("$argon2id$v=19$m=65536,t=3,p=4$")
    dump = "\n".join(raw.iterdump())
    raw.close()
    for secret in (PASSWORD, code, refresh):
        assert secret not in dump
    assert oct((tmp_path / "data").stat().st_mode & 0o777) == "0o700"
    assert oct((tmp_path / "data" / "accounts.db").stat().st_mode & 0o777) == "0o600"


async def test_a_server_without_accounts_says_so(tmp_path: Path) -> None:
    from signaling.server.hub import ServerConfig
    from tests.support.signaling import TEST_SECRET

    server = await start_server(ServerConfig(secret=TEST_SECRET))
    try:
        info = await AccountsClient(server.url).server_info()
        assert (info.accounts, info.registration) == (False, Registration.CLOSED)
        with pytest.raises(SignalingError) as refused:
            await AccountsClient(server.url).login("alice", PASSWORD)
        assert refused.value.code is ErrorCode.NOT_CONNECTED
        assert "does not answer like a Parley server with accounts" in refused.value.message
    finally:
        await server.stop()


async def raw_request(url: str, head: bytes, body_parts: list[bytes], pause_s: float) -> bytes:
    """Send ``head`` then each part of the body ``pause_s`` apart; the raw answer."""
    host, port = url.removeprefix("http://").split(":")
    reader, writer = await asyncio.open_connection(host, int(port))
    try:
        writer.write(head)
        for part in body_parts:
            await asyncio.sleep(pause_s)
            writer.write(part)
            await writer.drain()
        return await asyncio.wait_for(reader.read(4096), 15)
    finally:
        writer.close()


async def test_a_body_sent_in_pieces_is_read_whole(accounts_server: AccountsServer) -> None:
    accounts_server.add("alice")
    body = json.dumps({"user_id": "alice", "password": PASSWORD}).encode()
    head = (
        f"POST /v1/login HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\n"
        f"Content-Length: {len(body)}\r\n\r\n"
    ).encode()
    answer = await raw_request(accounts_server.url, head, [body[:10], body[10:]], 0.2)
    assert answer.startswith(b"HTTP/1.1 200")
    assert b'"access_token"' in answer


async def test_a_body_that_never_finishes_is_refused_after_the_timeout(
    accounts_server: AccountsServer, monkeypatch: pytest.MonkeyPatch
) -> None:
    from signaling.server import http_accounts

    monkeypatch.setattr(http_accounts, "BODY_TIMEOUT_S", 0.5)
    head = (
        b"POST /v1/login HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\n"
        b"Content-Length: 100\r\n\r\n"
    )
    answer = await raw_request(accounts_server.url, head, [b'{"user_id": '], 0.0)
    assert answer.startswith(b"HTTP/1.1 408")
    assert b"did not arrive within" in answer


async def test_more_sign_ins_than_the_hash_queue_holds_are_refused_at_once(
    accounts_server: AccountsServer, monkeypatch: pytest.MonkeyPatch
) -> None:
    from signaling.server import http_accounts

    monkeypatch.setattr(http_accounts, "MAX_QUEUED_HASHES", 2)
    accounts_server.add("alice")
    check = accounts_server.db.check_password

    def slow_check(user_id: str, password: str) -> object:
        time.sleep(0.5)  # a real hash under load: the first two are still hashing
        return check(user_id, password)

    monkeypatch.setattr(accounts_server.db, "check_password", slow_check)
    answers = await asyncio.gather(
        *(
            post(accounts_server.url, "/v1/login", {"user_id": "alice", "password": PASSWORD})
            for _ in range(12)
        )
    )
    statuses = sorted(status for status, _, _ in answers)
    assert statuses == [200, 200] + [429] * 10  # "busy" at once, not a growing queue
    busy = next(body for status, body, _ in answers if status == 429)
    assert "busy" in str(busy["error"])


async def failures_from(url: str, forwarded_for: str, count: int, first: int = 0) -> list[int]:
    """Wrong passwords for ``count`` different IDs (``guess<first>``...): only the
    address's limit can stop them."""
    statuses = []
    async with aiohttp.ClientSession() as http:
        for n in range(first, first + count):
            async with http.post(
                f"{url}/v1/login",
                json={"user_id": f"guess{n}", "password": "nope"},
                headers={"X-Forwarded-For": forwarded_for},
            ) as response:
                statuses.append(response.status)
    return statuses


@pytest.mark.parley_server(trust_forwarded_for=True)
async def test_behind_a_proxy_each_forwarded_address_has_its_own_limit(
    accounts_server: AccountsServer,
) -> None:
    # The proxy appends the client's address; a client's own header comes first.
    guesser = await failures_from(accounts_server.url, "6.6.6.6, 203.0.113.9", 32)
    assert guesser[:29] == [401] * 29
    assert guesser[-1] == 429  # its bucket of 30 failures is full
    forged = await failures_from(accounts_server.url, "7.7.7.7, 203.0.113.9", 1, first=200)
    assert forged == [429]  # a new forged first entry does not make a new address
    bystander = await failures_from(accounts_server.url, "203.0.113.10", 1, first=100)
    assert bystander == [401]  # another address behind the same proxy is not locked


async def test_without_trusting_the_proxy_a_forged_header_changes_nothing(
    accounts_server: AccountsServer,
) -> None:
    statuses = []
    for n in range(32):
        statuses += await failures_from(accounts_server.url, f"198.51.100.{n}", 1, first=n)
    assert statuses[-1] == 429  # all from 127.0.0.1, whatever the header says
