"""Qt side of the session: its events become Qt signals, widget requests become tasks.

Widgets connect to :class:`SessionBridge`'s signals and call its slots; they never see
the signaling client. Work started from a slot runs as an asyncio task on the qasync loop,
kept referenced by :class:`TaskKeeper` until done, with any failure logged and reported
through :attr:`TaskKeeper.failed` — qasync 0.28's ``asyncSlot`` keeps no reference to its
task and reports failures only through ``sys.excepthook``, so it is not used here.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Awaitable, Callable, Coroutine
from typing import Any

from PySide6.QtCore import QObject, Signal, Slot

from app.kit.account import (
    LinkChanged,
    LinkState,
    OnlineUser,
    RosterReset,
    Session,
    SessionEvent,
    SignInError,
    SignInProblem,
    UserPresenceChanged,
)
from app.kit.local_server import ServerHandle, ServerMode

log = logging.getLogger("parley.qt_bridge")


class TaskKeeper(QObject):
    """Runs fire-and-forget coroutines on the loop, keeps them referenced, surfaces errors."""

    failed = Signal(str)
    """A background task raised; the argument is a one-line description."""

    def __init__(self, parent: QObject | None = None) -> None:
        super().__init__(parent)
        self._tasks: set[asyncio.Task[None]] = set()

    def spawn(self, coro: Coroutine[Any, Any, None], what: str) -> asyncio.Task[None]:
        """Start ``coro`` now; ``what`` names it in error reports."""
        task = asyncio.get_running_loop().create_task(coro, name=what)
        self._tasks.add(task)
        task.add_done_callback(self._done)
        return task

    def _done(self, task: asyncio.Task[None]) -> None:
        self._tasks.discard(task)
        if task.cancelled():
            return
        error = task.exception()
        if error is not None:
            log.error("%s failed", task.get_name(), exc_info=error)
            self.failed.emit(f"{task.get_name()}: {error}")

    @property
    def pending(self) -> int:
        """How many tasks are still running."""
        return len(self._tasks)

    async def close(self) -> None:
        """Cancel what is still running and wait for it to finish. Idempotent."""
        for task in list(self._tasks):
            task.cancel()
        while self._tasks:
            await asyncio.gather(*self._tasks, return_exceptions=True)


class SessionBridge(QObject):
    """The session and the server for the widgets: Qt signals out, slots in.

    The window is built before the server is open (the first page must not wait for the
    network stack): then the bridge starts with no session and no server, sign-in
    requests wait, and :meth:`attach` (or :meth:`fail`) later lets them go on.
    """

    link_changed = Signal(object, str)
    """``(LinkState, detail)``."""
    roster_reset = Signal(object)
    """``tuple[OnlineUser, ...]``: the whole online list."""
    user_changed = Signal(object, bool)
    """``(OnlineUser, online)``."""
    signed_in = Signal(object)
    """``OnlineUser``: yourself, once signed in."""
    sign_in_failed = Signal(object, str)
    """``(SignInProblem, detail)``."""
    signed_out = Signal()
    server_mode_changed = Signal(object)
    """``ServerMode``: this instance took over hosting the local server."""
    server_ready = Signal()
    """The session and its server are attached: signing in works now."""
    server_failed = Signal(str)
    """The server could not be started or reached; the argument says why."""

    def __init__(
        self,
        session: Session | None,
        server: ServerHandle | None,
        tasks: TaskKeeper,
        parent: QObject | None = None,
        *,
        remote: bool = False,
    ) -> None:
        """Pass ``None`` for ``session`` and ``server`` while the server is still being
        opened, and ``remote`` if it is a remote server rather than the local one."""
        super().__init__(parent)
        if (session is None) != (server is None):
            raise ValueError("pass both the session and its server, or neither")
        self._session: Session | None = None
        self._server: ServerHandle | None = None
        self._remote = remote
        self._tasks = tasks
        self._unsubscribe: Callable[[], None] | None = None
        self._server_error: str | None = None
        self._waiting: list[asyncio.Future[None]] = []
        self.before_sign_out: Callable[[], Awaitable[None]] | None = None
        """Runs before the session signs out (the call kit hangs up while still connected)."""
        if session is not None and server is not None:
            self.attach(session, server)

    def attach(self, session: Session, server: ServerHandle) -> None:
        """The server is open and everything that listens to this bridge is wired:
        requests that waited for it go on. Emits :attr:`server_ready`."""
        if self._session is not None or self._server_error is not None:
            raise RuntimeError("the bridge already has a session, or its server failed")
        self._session, self._server = session, server
        self._remote = server.mode is ServerMode.REMOTE
        self._unsubscribe = session.subscribe(self._on_session_event)
        server.on_mode_changed(self.server_mode_changed.emit)
        self.server_ready.emit()
        self._wake_waiting()

    def fail(self, message: str) -> None:
        """The server cannot be opened: waiting and later sign-ins fail with ``message``.
        Emits :attr:`server_failed`."""
        if self._session is not None:
            raise RuntimeError("the bridge already has its session")
        self._server_error = message
        self.server_failed.emit(message)
        self._wake_waiting()

    def _wake_waiting(self) -> None:
        waiting, self._waiting = self._waiting, []
        for waiter in waiting:
            if not waiter.done():
                waiter.set_result(None)

    async def _wait_for_session(self) -> Session | None:
        """The session once the server is open; None if it failed."""
        while self._session is None and self._server_error is None:
            waiter = asyncio.get_running_loop().create_future()
            self._waiting.append(waiter)
            await waiter
        return self._session

    # --- what widgets read ------------------------------------------------------------

    @property
    def is_ready(self) -> bool:
        """Whether the server is open and signing in can start at once."""
        return self._session is not None

    @property
    def server_error(self) -> str | None:
        """Why the server could not be opened, or None."""
        return self._server_error

    @property
    def is_remote(self) -> bool:
        """Whether the server is (or will be) a remote one rather than the local server."""
        return self._remote

    @property
    def server_url(self) -> str:
        """The server's URL, for the status line; empty until the server is open."""
        return "" if self._server is None else self._server.url

    @property
    def server_mode(self) -> ServerMode | None:
        """Hosting here, shared or remote; None until the server is open."""
        return None if self._server is None else self._server.mode

    @property
    def link_state(self) -> LinkState:
        """The session's connection state now."""
        return LinkState.SIGNED_OUT if self._session is None else self._session.state

    @property
    def me(self) -> OnlineUser | None:
        """The signed-in user, or None."""
        return None if self._session is None else self._session.me

    @property
    def users(self) -> tuple[OnlineUser, ...]:
        """Everyone online now, yourself first."""
        return () if self._session is None else self._session.users

    # --- what widgets ask for ---------------------------------------------------------

    @Slot(str, str)
    def sign_in(self, user_id: str, name: str) -> None:
        """Sign in (once the server is open); the answer is :attr:`signed_in` or
        :attr:`sign_in_failed`."""
        self._tasks.spawn(self._sign_in(user_id, name), "sign in")

    async def _sign_in(self, user_id: str, name: str) -> None:
        session = await self._wait_for_session()
        if session is None:
            self.sign_in_failed.emit(SignInProblem.UNREACHABLE, self._server_error or "")
            return
        try:
            me = await session.sign_in(user_id, name)
        except SignInError as exc:
            self.sign_in_failed.emit(exc.problem, exc.detail)
            return
        except Exception as exc:
            self.sign_in_failed.emit(SignInProblem.FAILED, str(exc) or type(exc).__name__)
            raise
        self.signed_in.emit(me)

    @Slot()
    def sign_out(self) -> None:
        """Sign out; :attr:`signed_out` follows."""
        self._tasks.spawn(self._sign_out(), "sign out")

    async def _sign_out(self) -> None:
        if self._session is not None:
            if self.before_sign_out is not None:
                await self.before_sign_out()
            await self._session.sign_out()
        self.signed_out.emit()

    def detach(self) -> None:
        """Stop forwarding session events (before the session closes at shutdown)."""
        if self._unsubscribe is not None:
            self._unsubscribe()
            self._unsubscribe = None

    def _on_session_event(self, event: SessionEvent) -> None:
        if isinstance(event, LinkChanged):
            self.link_changed.emit(event.state, event.detail)
        elif isinstance(event, RosterReset):
            self.roster_reset.emit(event.users)
        elif isinstance(event, UserPresenceChanged):
            self.user_changed.emit(event.user, event.online)
