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

from app.local_server import ServerHandle, ServerMode
from app.session import (
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
    """The session and the server for the widgets: Qt signals out, slots in."""

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

    def __init__(
        self,
        session: Session,
        server: ServerHandle,
        tasks: TaskKeeper,
        parent: QObject | None = None,
    ) -> None:
        super().__init__(parent)
        self._session = session
        self._server = server
        self._tasks = tasks
        self._unsubscribe = session.subscribe(self._on_session_event)
        self.before_sign_out: Callable[[], Awaitable[None]] | None = None
        """Runs before the session signs out (the call kit hangs up while still connected)."""
        server.on_mode_changed(self.server_mode_changed.emit)

    # --- what widgets read ------------------------------------------------------------

    @property
    def server_url(self) -> str:
        """The server's URL, for the status line."""
        return self._server.url

    @property
    def server_mode(self) -> ServerMode:
        """Hosting here, shared or remote."""
        return self._server.mode

    @property
    def link_state(self) -> LinkState:
        """The session's connection state now."""
        return self._session.state

    @property
    def me(self) -> OnlineUser | None:
        """The signed-in user, or None."""
        return self._session.me

    @property
    def users(self) -> tuple[OnlineUser, ...]:
        """Everyone online now, yourself first."""
        return self._session.users

    # --- what widgets ask for ---------------------------------------------------------

    @Slot(str, str)
    def sign_in(self, user_id: str, name: str) -> None:
        """Sign in; the answer is :attr:`signed_in` or :attr:`sign_in_failed`."""
        self._tasks.spawn(self._sign_in(user_id, name), "sign in")

    async def _sign_in(self, user_id: str, name: str) -> None:
        try:
            me = await self._session.sign_in(user_id, name)
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
        if self.before_sign_out is not None:
            await self.before_sign_out()
        await self._session.sign_out()
        self.signed_out.emit()

    def detach(self) -> None:
        """Stop forwarding session events (before the session closes at shutdown)."""
        self._unsubscribe()

    def _on_session_event(self, event: SessionEvent) -> None:
        if isinstance(event, LinkChanged):
            self.link_changed.emit(event.state, event.detail)
        elif isinstance(event, RosterReset):
            self.roster_reset.emit(event.users)
        elif isinstance(event, UserPresenceChanged):
            self.user_changed.emit(event.user, event.online)
