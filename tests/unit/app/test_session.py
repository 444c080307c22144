"""The Qt-free session service against a real server, with real clients as other users."""

from __future__ import annotations

from collections.abc import AsyncIterator

import pytest
import pytest_asyncio

from app import PresenceState
from app.kit.account import (
    Account,
    LinkChanged,
    LinkState,
    OnlineUser,
    RosterReset,
    SignInError,
    SignInProblem,
    UserPresenceChanged,
)
from app.kit.identity import IdentityProblem, parse_user_ids, validate_name, validate_user_id
from signaling.auth import mint_token
from signaling.client import SignalingClient
from signaling.errors import ErrorCode, SignalingError
from signaling.protocol import PresenceChangedEvent
from signaling.server.app import RunningServer
from tests.support.signaling import TEST_SECRET, ClientFactory
from tests.unit.app.recorder import Recorder


@pytest.fixture
def made() -> list[str]:
    """User IDs the session built a client for."""
    return []


@pytest_asyncio.fixture
async def alice(server: RunningServer, made: list[str]) -> AsyncIterator[Recorder]:
    def make(user_id: str, name: str) -> SignalingClient:
        made.append(user_id)
        return SignalingClient(server.url, mint_token(TEST_SECRET, user_id, name))

    session = Account(make)
    recorder = Recorder(session)
    yield recorder
    await session.close()


async def test_signing_in_loads_yourself_and_the_others(
    alice: Recorder, make_client: ClientFactory
) -> None:
    await make_client("bob", "Bob")
    me = await alice.session.sign_in("alice", "Alice")

    assert me == OnlineUser("alice", "Alice", PresenceState.IDLE, is_self=True)
    assert alice.session.state is LinkState.ONLINE
    assert [u.user_id for u in alice.session.users] == ["alice", "bob"]
    assert [e.state for e in alice.events if isinstance(e, LinkChanged)] == [
        LinkState.SIGNING_IN,
        LinkState.ONLINE,
    ]
    (reset,) = alice.of(RosterReset)
    assert reset == RosterReset(alice.session.users)


async def test_presence_changes_are_announced(alice: Recorder, make_client: ClientFactory) -> None:
    await alice.session.sign_in("alice", "Alice")
    bob = await make_client("bob", "Bob")
    await alice.until(lambda: "bob" in {u.user_id for u in alice.session.users})

    await bob.join_room("room-1", "call")
    await alice.until(
        lambda: (
            UserPresenceChanged(OnlineUser("bob", "Bob", PresenceState.IN_CALL), True)
            in alice.events
        )
    )
    await bob.close()
    await alice.until(
        lambda: any(
            isinstance(e, UserPresenceChanged) and e.user.user_id == "bob" and not e.online
            for e in alice.events
        )
    )
    assert [u.user_id for u in alice.session.users] == ["alice"]


async def test_invalid_input_is_refused_before_anything_is_sent(
    alice: Recorder, made: list[str]
) -> None:
    with pytest.raises(SignInError) as caught:
        await alice.session.sign_in("not valid!", "Alice")
    assert caught.value.problem is SignInProblem.INVALID_INPUT
    assert made == []
    assert alice.events == []


async def test_an_empty_name_defaults_to_the_user_id(alice: Recorder) -> None:
    me = await alice.session.sign_in("alice", "  ")
    assert me.name == "alice"


async def test_a_refused_token_and_an_unreachable_server_say_so(
    server: RunningServer, unused_tcp_port: int
) -> None:
    forged = Account(lambda u, n: SignalingClient(server.url, mint_token("f" * 40, u, n)))
    with pytest.raises(SignInError) as refused:
        await forged.sign_in("alice", "Alice")
    assert refused.value.problem is SignInProblem.REFUSED
    assert forged.state is LinkState.SIGNED_OUT

    url = f"http://127.0.0.1:{unused_tcp_port}"
    nowhere = Account(lambda u, n: SignalingClient(url, mint_token(TEST_SECRET, u, n)))
    with pytest.raises(SignInError) as unreachable:
        await nowhere.sign_in("alice", "Alice")
    assert unreachable.value.problem is SignInProblem.UNREACHABLE
    await forged.close()
    await nowhere.close()


async def test_signing_in_elsewhere_ends_this_session(
    alice: Recorder, make_client: ClientFactory
) -> None:
    await alice.session.sign_in("alice", "Alice")
    await make_client("alice", "Alice")
    await alice.until(lambda: alice.session.state is LinkState.SIGNED_IN_ELSEWHERE)
    assert alice.session.users == ()


async def test_signing_out_forgets_the_roster_and_can_sign_in_again(
    alice: Recorder, make_client: ClientFactory
) -> None:
    bob = await make_client("bob", "Bob")
    await bob.subscribe_presence()
    await alice.session.sign_in("alice", "Alice")
    await alice.session.sign_out()
    assert alice.session.state is LinkState.SIGNED_OUT
    assert alice.session.users == ()
    assert alice.session.me is None
    await bob.expect(PresenceChangedEvent, lambda e: e.user_id == "alice" and not e.online)
    again = await alice.session.sign_in("alice2", "Alice")
    assert again.user_id == "alice2"
    assert again.is_self


@pytest.mark.parametrize("everywhere", [False, True], ids=["this-sign-in", "everywhere"])
async def test_signing_out_revokes_the_token_on_the_server(
    server: RunningServer, everywhere: bool
) -> None:
    tokens: list[str] = []

    def make(user_id: str, name: str) -> SignalingClient:
        tokens.append(mint_token(TEST_SECRET, user_id, name))
        return SignalingClient(server.url, tokens[-1])

    laptop = mint_token(TEST_SECRET, "alice", "Alice")  # alice's other device
    account = Account(make)
    await account.sign_in("alice", "Alice")

    await account.sign_out(everywhere=everywhere)

    for token in [tokens[0], laptop] if everywhere else [tokens[0]]:
        stolen = SignalingClient(server.url, token)
        with pytest.raises(SignalingError) as refused:
            await stolen.connect()
        assert refused.value.code is ErrorCode.TOKEN_REVOKED
        await stolen.close()
    # Signing in again mints a fresh token, which works.
    await account.sign_in("alice", "Alice")
    assert account.state is LinkState.ONLINE
    await account.close()


def test_the_id_rules_are_the_protocol_rules() -> None:
    assert validate_user_id("alice.m@example:1-2_3") is None
    assert validate_user_id("") is IdentityProblem.ID_EMPTY
    assert validate_user_id("a" * 65) is IdentityProblem.ID_TOO_LONG
    assert validate_user_id("a" * 64) is None
    assert validate_user_id("al ice") is IdentityProblem.ID_BAD_CHARACTERS
    assert validate_user_id("alice\n") is IdentityProblem.ID_BAD_CHARACTERS
    assert validate_name("n" * 65) is IdentityProblem.NAME_TOO_LONG
    assert validate_name("Zoë 🎧") is None
    assert parse_user_ids(" bob, carol  dave;bob ") == ["bob", "carol", "dave"]
