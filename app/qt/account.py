"""The account for Qt: its events become typed Qt signals, the pages' requests become tasks.

The composition root connects :class:`AccountBridge`'s signals to the sign-in page, the
home page and the window, and their intents (sign in, sign out) to its slots; the pages
never see the signaling client. Work started from a slot runs through the application's
:class:`~app.kit.tasks.TaskKeeper`.

The window is built before the server is open (the first page must not wait for the
network stack): the bridge then starts with no account and no server, sign-in requests
wait, and :meth:`AccountBridge.attach` (or :meth:`AccountBridge.fail`) later lets them go on.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Callable
from typing import TYPE_CHECKING

from PySide6.QtCore import QObject, Signal, Slot

from app.kit.account import (
    Account,
    AccountEvent,
    LinkChanged,
    LinkState,
    OnlineUser,
    RosterReset,
    SignedIn,
    SignedOut,
    SignInError,
    SignInProblem,
    UserPresenceChanged,
)
from app.kit.local_server import ServerHandle, ServerMode, ServerPhase, ServerStatus
from app.kit.sign_in_request import RemoteSignIn
from app.kit.tasks import TaskKeeper

if TYPE_CHECKING:
    from app.kit.connect import SignInTarget
    from app.kit.remote_account import RemoteAccounts, RemoteSession

log = logging.getLogger("parley.qt.account")

__all__ = ["AccountBridge"]


class AccountBridge(QObject):
    """The account and its server for the pages: typed signals out, slots in."""

    link_changed = Signal(LinkState, str)
    """``(LinkState, detail)``: the connection as the user sees it."""
    roster_reset = Signal(tuple)
    """``tuple[OnlineUser, ...]``: the whole online list."""
    user_changed = Signal(OnlineUser, bool)
    """``(OnlineUser, online)``: one user came, went or changed state."""
    signed_in = Signal(OnlineUser)
    """Yourself, once signed in."""
    sign_in_failed = Signal(SignInProblem, str)
    """``(SignInProblem, detail)``."""
    signed_out = Signal()
    server_status_changed = Signal(ServerStatus)
    """Opening the server began, ended (how and where) or failed (why); or the account
    signs in to another server."""
    resume_started = Signal()
    """A sign-in kept from the last run is being used (the page waits for it)."""
    notice = Signal(str)
    """Something the user should know that is not an error (where a sign-in is kept)."""

    def __init__(
        self, tasks: TaskKeeper, *, remote: bool = False, parent: QObject | None = None
    ) -> None:
        """``remote``: the server being opened is a remote one, not the local server."""
        super().__init__(parent)
        self._account: Account | None = None
        self._server: ServerHandle | None = None
        self._tasks = tasks
        self._unsubscribe: Callable[[], None] | None = None
        self._waiting: list[asyncio.Future[None]] = []
        self._status = ServerStatus(ServerPhase.STARTING, remote=remote)
        self._target: SignInTarget | None = None
        self._remote: RemoteAccounts | None = None
        self._ca_file: str | None = None

    def attach(
        self,
        account: Account,
        server: ServerHandle,
        target: SignInTarget | None = None,
        remote: RemoteAccounts | None = None,
        *,
        ca_file: str | None = None,
    ) -> None:
        """The server is open and everything that listens to this bridge is wired:
        requests that waited for it go on. With ``target`` and ``remote`` the account
        can also sign in to a server's account (:meth:`sign_in_remote`), verifying its
        certificate with ``ca_file`` when given."""
        if self._status.phase is not ServerPhase.STARTING:
            raise RuntimeError("the bridge already has its server, or it failed")
        self._account, self._server = account, server
        self._target, self._remote, self._ca_file = target, remote, ca_file
        self._unsubscribe = account.subscribe(self._on_account_event)
        server.subscribe(self._on_mode_changed)
        self._set_status(self._ready(server))
        self._wake_waiting()

    def fail(self, message: str) -> None:
        """The server cannot be opened: waiting and later sign-ins fail with ``message``."""
        if self._status.phase is not ServerPhase.STARTING:
            raise RuntimeError("the bridge already has its server, or it failed")
        self._set_status(ServerStatus(ServerPhase.FAILED, self._status.remote, error=message))
        self._wake_waiting()

    def _ready(self, server: ServerHandle) -> ServerStatus:
        from signaling.tls import plain_to_network

        remote = server.mode is ServerMode.REMOTE
        return ServerStatus(
            ServerPhase.READY,
            remote,
            server.mode,
            server.url,
            unencrypted=plain_to_network(server.url),
        )

    def _on_mode_changed(self, mode: ServerMode) -> None:
        if self._server is not None and (self._target is None or self._target.remote is None):
            self._set_status(self._ready(self._server))

    def _remote_status(self, session: RemoteSession) -> ServerStatus:
        from signaling.tls import plain_to_network

        return ServerStatus(
            ServerPhase.READY,
            True,
            ServerMode.REMOTE,
            session.url,
            unencrypted=plain_to_network(session.url),
        )

    def _set_status(self, status: ServerStatus) -> None:
        self._status = status
        self.server_status_changed.emit(status)

    def _wake_waiting(self) -> None:
        waiting, self._waiting = self._waiting, []
        for waiter in waiting:
            if not waiter.done():
                waiter.set_result(None)

    async def _wait_for_account(self) -> Account | None:
        """The account once the server is open; None if it failed."""
        while self._status.phase is ServerPhase.STARTING:
            waiter = asyncio.get_running_loop().create_future()
            self._waiting.append(waiter)
            await waiter
        return self._account

    # --- what the composition root reads ----------------------------------------------

    @property
    def server_status(self) -> ServerStatus:
        """Where opening the server stands now."""
        return self._status

    @property
    def account(self) -> Account | None:
        """The account, once the server is open."""
        return self._account

    @property
    def link_state(self) -> LinkState:
        """The connection state now."""
        return LinkState.SIGNED_OUT if self._account is None else self._account.state

    @property
    def me(self) -> OnlineUser | None:
        """The signed-in user, or None."""
        return None if self._account is None else self._account.me

    @property
    def users(self) -> tuple[OnlineUser, ...]:
        """Everyone online now, yourself first."""
        return () if self._account is None else self._account.users

    # --- what the pages ask for -------------------------------------------------------

    @Slot(str, str)
    def sign_in(self, user_id: str, name: str) -> None:
        """Sign in (once the server is open); :attr:`signed_in` or :attr:`sign_in_failed`
        follows."""
        self._tasks.spawn(self._sign_in(user_id, name), "sign in")

    async def _sign_in(self, user_id: str, name: str) -> None:
        account = await self._wait_for_account()
        if account is None:
            self.sign_in_failed.emit(SignInProblem.UNREACHABLE, self._status.error)
            return
        self._use_remote(None)
        try:
            await account.sign_in(user_id, name)
        except SignInError as exc:
            self.sign_in_failed.emit(exc.problem, exc.detail)
        except Exception as exc:
            self.sign_in_failed.emit(SignInProblem.FAILED, str(exc) or type(exc).__name__)
            raise

    @Slot(RemoteSignIn)
    def sign_in_remote(self, request: RemoteSignIn) -> None:
        """Sign in to (or sign up on) a server's account with a password;
        :attr:`signed_in` or :attr:`sign_in_failed` follows."""
        self._tasks.spawn(self._sign_in_remote(request), "sign in to a server")

    @Slot(str, str)
    def resume_remote(self, url: str, user_id: str) -> None:
        """Sign in again to ``url`` as ``user_id`` with the sign-in the keyring kept;
        nothing happens when there is none (the page asks for the password)."""
        self._tasks.spawn(self._resume_remote(url, user_id), "resume a sign-in")

    async def _sign_in_remote(self, request: RemoteSignIn) -> None:
        account = await self._wait_for_account()
        if account is None or self._remote is None:
            self.sign_in_failed.emit(SignInProblem.UNREACHABLE, self._status.error)
            return
        try:
            session = await self._remote.sign_in(request, self._ca_file)
        except SignInError as exc:
            self.sign_in_failed.emit(exc.problem, exc.detail)
            return
        await self._sign_in_to(account, session)

    async def _resume_remote(self, url: str, user_id: str) -> None:
        account = await self._wait_for_account()
        if account is None or self._remote is None:
            return
        found = False

        def on_found() -> None:
            nonlocal found
            found = True
            self.resume_started.emit()

        try:
            session = await self._remote.resume(url, user_id, self._ca_file, on_found=on_found)
        except SignInError as exc:
            self.sign_in_failed.emit(exc.problem, exc.detail)
            return
        if session is not None:
            await self._sign_in_to(account, session)
        elif found:
            # The kept sign-in was ended on the server (signed out everywhere, the password
            # changed, the account removed): the page waits for the password again.
            self.sign_in_failed.emit(
                SignInProblem.REFUSED, "your sign-in has ended; enter your password"
            )

    async def _sign_in_to(self, account: Account, session: RemoteSession) -> None:
        self._use_remote(session)
        try:
            await account.sign_in(session.user_id, session.name)
        except SignInError as exc:
            self._use_remote(None)
            self.sign_in_failed.emit(exc.problem, exc.detail)
            return
        if self._remote is not None and self._remote.credentials.warning:
            self.notice.emit(self._remote.credentials.warning)

    def _use_remote(self, session: RemoteSession | None) -> None:
        if self._target is None:
            return
        was = self._target.remote
        self._target.use_remote(session)
        if session is not None:
            self._set_status(self._remote_status(session))
        elif was is not None and self._server is not None:
            self._set_status(self._ready(self._server))

    @Slot()
    def sign_out(self) -> None:
        """Sign out; :attr:`signed_out` follows."""
        self._tasks.spawn(self._sign_out(), "sign out")

    async def _sign_out(self) -> None:
        if self._account is not None and self._account.me is not None:
            await self._account.sign_out()  # SignedOut follows
        else:
            self.signed_out.emit()
        session = self._target.remote if self._target is not None else None
        if session is not None and self._remote is not None:
            # Ends the sign-in on the server too and forgets the kept refresh token.
            await self._remote.end(session)
            self._use_remote(None)

    def detach(self) -> None:
        """Stop forwarding account events (before the account closes at shutdown)."""
        if self._unsubscribe is not None:
            self._unsubscribe()
            self._unsubscribe = None

    def _on_account_event(self, event: AccountEvent) -> None:
        if isinstance(event, LinkChanged):
            self.link_changed.emit(event.state, event.detail)
        elif isinstance(event, RosterReset):
            self.roster_reset.emit(event.users)
        elif isinstance(event, UserPresenceChanged):
            self.user_changed.emit(event.user, event.online)
        elif isinstance(event, SignedIn):
            self.signed_in.emit(event.me)
        elif isinstance(event, SignedOut):
            self.signed_out.emit()
