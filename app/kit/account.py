"""The signed-in session: one user's connection, the online roster and its presence (no Qt).

:class:`Session` signs in through a :class:`~signaling.client.SignalingClient`, subscribes
to presence and keeps the list of online users with what each is doing. It announces
every change as a small frozen event to plain listeners, so it is testable without Qt;
``app.qt.account`` turns those events into Qt signals for the widgets.

Importing this module is cheap: the window needs :class:`LinkState` and friends before
the network stack (python-socketio, aiohttp, the pydantic protocol) is imported, which
happens once the first page is on screen.
"""

from __future__ import annotations

import logging
import re
from collections.abc import Awaitable, Callable, Coroutine
from dataclasses import dataclass
from enum import StrEnum
from typing import TYPE_CHECKING, Any

from app.kit.listeners import Listeners
from app.kit.tasks import TaskKeeper
from signaling.client_events import ConnectionState, ConnectionStateChanged
from signaling.enums import PresenceState
from signaling.errors import REFUSED_TOKEN, ErrorCode, SignalingError

if TYPE_CHECKING:
    from signaling.client import SignalingClient
    from signaling.protocol import PresenceChangedEvent, PresenceInfo

log = logging.getLogger("parley.account")

ClientFactory = Callable[[str, str], "SignalingClient"]
SignOutHook = Callable[[], Awaitable[None]]
"""Builds the client for ``(user_id, name)``; the composition root knows the server."""


class LinkState(StrEnum):
    """The session's connection as the user sees it."""

    SIGNED_OUT = "signed_out"
    SIGNING_IN = "signing_in"
    ONLINE = "online"
    RECONNECTING = "reconnecting"
    OFFLINE = "offline"  # gave up reconnecting
    SIGNED_IN_ELSEWHERE = "signed_in_elsewhere"


class SignInProblem(StrEnum):
    """Why signing in failed; the widgets turn it into translated text."""

    INVALID_INPUT = "invalid_input"
    UNREACHABLE = "unreachable"
    REFUSED = "refused"
    FAILED = "failed"


@dataclass(frozen=True)
class OnlineUser:
    """Someone online, with what they are doing; ``is_self`` marks the signed-in user."""

    user_id: str
    name: str
    state: PresenceState
    is_self: bool = False


@dataclass(frozen=True)
class RosterReset:
    """The whole online list was (re)loaded: after signing in and after a reconnect."""

    users: tuple[OnlineUser, ...]


@dataclass(frozen=True)
class UserPresenceChanged:
    """One user came online, went offline or changed state."""

    user: OnlineUser
    online: bool


@dataclass(frozen=True)
class LinkChanged:
    """The connection state changed; ``detail`` is a server or network message, if any."""

    state: LinkState
    detail: str = ""


@dataclass(frozen=True)
class SignedIn:
    """Signed in as ``me``: the kits may start on :attr:`Account.client`."""

    me: OnlineUser


@dataclass(frozen=True)
class SignedOut:
    """Signed out (by the user; a kick or a lost server says so in :class:`LinkChanged`)."""


AccountEvent = RosterReset | UserPresenceChanged | LinkChanged | SignedIn | SignedOut
AccountListener = Callable[[AccountEvent], None]


class SignInError(Exception):
    """Signing in failed; ``problem`` is the kind, the message the detail."""

    def __init__(self, problem: SignInProblem, detail: str) -> None:
        super().__init__(detail)
        self.problem = problem
        self.detail = detail


_URL_RE = re.compile(r"cannot connect to \S+: ")


class Account:
    """One user's sign-in; ``sign_in`` and ``sign_out`` may repeat. ``close`` is final."""

    def __init__(
        self,
        make_client: ClientFactory,
        *,
        on_server_lost: Callable[[], Awaitable[object]] | None = None,
    ) -> None:
        """``on_server_lost`` runs when the link drops (the local server's take-over)."""
        self._make_client = make_client
        self._on_server_lost = on_server_lost
        self._client: SignalingClient | None = None
        self._unsubscribe: Callable[[], None] | None = None
        self._listeners: Listeners[[AccountEvent]] = Listeners("account events")
        self._users: dict[str, OnlineUser] = {}
        self._me: OnlineUser | None = None
        self._state = LinkState.SIGNED_OUT
        self._sign_out_hooks: list[SignOutHook] = []
        self.tasks = TaskKeeper("account")

    # --- observing --------------------------------------------------------------------

    def subscribe(self, listener: AccountListener) -> Callable[[], None]:
        """Call ``listener`` with every account event; returns an unsubscribe function."""
        return self._listeners.subscribe(listener)

    def before_sign_out(self, hook: SignOutHook) -> Callable[[], None]:
        """Await ``hook`` before signing out, while still connected (the call kit hangs
        up, the room is left); hooks run newest first. Returns a function removing it."""
        self._sign_out_hooks.append(hook)
        return lambda: self._sign_out_hooks.remove(hook) if hook in self._sign_out_hooks else None

    @property
    def state(self) -> LinkState:
        """The connection state as the user sees it."""
        return self._state

    @property
    def me(self) -> OnlineUser | None:
        """The signed-in user, or None."""
        return self._me

    @property
    def client(self) -> SignalingClient | None:
        """The signed-in connection, shared with the call kit (``kit.init(client=...)``)."""
        return self._client

    @property
    def users(self) -> tuple[OnlineUser, ...]:
        """Everyone online (yourself first, then by name)."""
        return tuple(sorted(self._users.values(), key=_roster_order))

    def _emit(self, event: AccountEvent) -> None:
        self._listeners.emit(event)

    def _set_state(self, state: LinkState, detail: str = "") -> None:
        if state is not self._state:
            self._state = state
            self._emit(LinkChanged(state, detail))

    # --- signing in and out -----------------------------------------------------------

    async def sign_in(self, user_id: str, name: str) -> OnlineUser:
        """Connect as ``user_id`` and load who is online; raises :class:`SignInError`."""
        from app.kit.identity import validate_name, validate_user_id

        name = name.strip() or user_id
        problem = validate_user_id(user_id) or validate_name(name)
        if problem is not None:
            raise SignInError(SignInProblem.INVALID_INPUT, problem.value)
        if self._client is not None:
            await self.sign_out()
        self._set_state(LinkState.SIGNING_IN)
        client = self._make_client(user_id, name)
        self._client = client
        self._unsubscribe = client.subscribe(self._on_client_event)
        try:
            info = await client.connect()
            users = await client.subscribe_presence()
        except SignalingError as exc:
            await self._drop_client()
            self._set_state(LinkState.SIGNED_OUT, exc.message)
            raise _sign_in_error(exc) from None
        except BaseException:
            await self._drop_client()
            self._set_state(LinkState.SIGNED_OUT)
            raise
        self._me = OnlineUser(info.user_id, info.name, PresenceState.IDLE, is_self=True)
        self._reset_roster(users)
        self._set_state(LinkState.ONLINE)
        self._emit(SignedIn(self._me))
        return self._me

    async def sign_out(self, *, everywhere: bool = False) -> None:
        """Run the sign-out hooks, revoke this sign-in's token on the server (with
        ``everywhere`` every token of this user, on every device), disconnect and forget
        the roster. Idempotent."""
        if self._client is not None:
            for hook in reversed(self._sign_out_hooks):
                try:
                    await hook()
                except Exception:  # signing out must not fail half-way
                    log.exception("a sign-out hook failed")
        was_signed_in = self._me is not None
        await self._drop_client(sign_out=True, everywhere=everywhere)
        self._users.clear()
        self._me = None
        self._set_state(LinkState.SIGNED_OUT)
        if was_signed_in:
            self._emit(SignedOut())

    async def close(self) -> None:
        """Sign out and wait for background work (re-syncs, take-overs). Idempotent."""
        await self.sign_out()
        await self.tasks.close()

    async def _drop_client(self, *, sign_out: bool = False, everywhere: bool = False) -> None:
        client, self._client = self._client, None
        if self._unsubscribe is not None:
            self._unsubscribe()
            self._unsubscribe = None
        if client is not None and sign_out:
            await client.sign_out(everywhere=everywhere)
        elif client is not None:
            await client.close()

    # --- what the client reports ------------------------------------------------------

    def _on_client_event(self, event: object) -> None:
        from signaling.protocol import PresenceChangedEvent  # loaded by the client already

        if isinstance(event, PresenceChangedEvent):
            self._on_presence(event)
        elif isinstance(event, ConnectionStateChanged):
            self._on_connection(event)

    def _on_presence(self, event: PresenceChangedEvent) -> None:
        is_self = self._me is not None and event.user_id == self._me.user_id
        user = OnlineUser(event.user_id, event.name, event.state, is_self)
        if event.online:
            self._users[user.user_id] = user
        elif self._users.pop(user.user_id, None) is None:
            return  # never listed; nothing to take away
        if is_self:
            self._me = user
        self._emit(UserPresenceChanged(user, event.online))

    def _on_connection(self, event: ConnectionStateChanged) -> None:
        if self._state is LinkState.SIGNING_IN:
            return  # sign_in reports its own outcome
        state = event.state
        if state is ConnectionState.RECONNECTING:
            self._set_state(LinkState.RECONNECTING, event.detail)
            if self._on_server_lost is not None:
                self._spawn(self._run_server_lost(self._on_server_lost))
        elif state is ConnectionState.CONNECTED and self._state is LinkState.RECONNECTING:
            # A new connection is not subscribed to presence: subscribe and reload.
            self._spawn(self._resync())
        elif state is ConnectionState.KICKED:
            self._users.clear()
            self._set_state(LinkState.SIGNED_IN_ELSEWHERE, event.detail)
        elif state is ConnectionState.DISCONNECTED and self._client is not None:
            self._users.clear()
            self._set_state(LinkState.OFFLINE, event.detail)

    async def _run_server_lost(self, handler: Callable[[], Awaitable[object]]) -> None:
        await handler()

    async def _resync(self) -> None:
        client = self._client
        if client is None:
            return
        try:
            users = await client.subscribe_presence()
        except SignalingError as exc:
            log.warning("could not reload presence after reconnecting: %s", exc)
            return
        if client is self._client:
            self._reset_roster(users)
            self._set_state(LinkState.ONLINE)

    def _reset_roster(self, users: list[PresenceInfo]) -> None:
        me = self._me
        self._users = {
            u.user_id: OnlineUser(
                u.user_id, u.name, u.state, is_self=me is not None and u.user_id == me.user_id
            )
            for u in users
        }
        if me is not None:
            self._me = self._users.setdefault(me.user_id, me)
        self._emit(RosterReset(self.users))

    def _spawn(self, coro: Coroutine[Any, Any, None]) -> None:
        self.tasks.spawn(coro, "account")


def _roster_order(user: OnlineUser) -> tuple[bool, str, str]:
    return (not user.is_self, user.name.casefold(), user.user_id)


def _sign_in_error(exc: SignalingError) -> SignInError:
    if exc.code in REFUSED_TOKEN:
        return SignInError(SignInProblem.REFUSED, exc.message)
    if exc.code is ErrorCode.NOT_CONNECTED:
        return SignInError(SignInProblem.UNREACHABLE, _URL_RE.sub("", exc.message))
    return SignInError(SignInProblem.FAILED, exc.message)
