"""Alice's wired window (as ``parley`` builds it) and bots, for call-flow UI tests."""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field
from pathlib import Path

from PySide6.QtCore import Qt
from PySide6.QtTest import QTest
from PySide6.QtWidgets import QMenu, QWidget

from app import CallMenuButton, PresenceState
from app.kit.bots import Bot
from app.kit.call.service import CallConfigFactory, CallInvitationService
from app.kit.config import CallInvitationConfig
from app.main import Application
from app.qt.call import CallPresenter
from app.qt.navigation import Navigator
from app.testing import ParleyWindow, open_window, wait_until
from signaling.server.app import RunningServer
from tests.ui.conftest import media_tasks
from widgets.call_page import CallPage
from widgets.incoming_call import IncomingCallBanner, IncomingCallPage
from widgets.minimize_overlay import MinimizeOverlay
from widgets.outgoing_call_page import OutgoingCallPage

BotFactory = Callable[..., Awaitable[Bot]]


@dataclass
class CallApp:
    """One signed-in Parley window, and every bus event it published."""

    window: ParleyWindow
    events: list[tuple[str, tuple[object, ...]]] = field(default_factory=list)

    @property
    def app(self) -> Application:
        return self.window.app

    @property
    def menus(self) -> list[QMenu]:
        """Every menu a page popped, oldest first (offscreen Qt warns on real popups)."""
        return self.window.menus

    @property
    def kit(self) -> CallInvitationService:
        assert self.app.call_kit is not None
        return self.app.call_kit

    @property
    def presenter(self) -> CallPresenter:
        assert self.app.calls is not None
        return self.app.calls

    @property
    def navigator(self) -> Navigator:
        assert self.app.navigator is not None
        return self.app.navigator

    @property
    def outgoing_page(self) -> OutgoingCallPage:
        assert self.app.outgoing_page is not None
        return self.app.outgoing_page

    @property
    def incoming_page(self) -> IncomingCallPage:
        assert self.app.incoming_page is not None
        return self.app.incoming_page

    @property
    def banner(self) -> IncomingCallBanner:
        assert self.app.banner is not None
        return self.app.banner

    @property
    def overlay(self) -> MinimizeOverlay:
        assert self.app.overlay is not None
        return self.app.overlay

    @property
    def call_page(self) -> CallPage | None:
        page = self.navigator.call_page
        assert page is None or isinstance(page, CallPage)
        return page

    @property
    def current(self) -> QWidget | None:
        return self.app.window.stack.currentWidget()

    @property
    def home(self) -> QWidget:
        return self.app.window.home_page

    @property
    def page(self) -> CallPage:
        page = self.call_page
        assert page is not None, "no call page"
        return page

    def fired(self, path: str) -> list[tuple[object, ...]]:
        return [args for p, args in self.events if p == path]

    async def wait_for_page(self, page: QWidget | None, timeout: float = 10.0) -> None:
        await wait_until(lambda: self.current is page, timeout, f"{page} never shown")

    async def wait_for_call_page(self, timeout: float = 10.0) -> CallPage:
        await wait_until(
            lambda: self.call_page is not None and self.current is self.call_page,
            timeout,
            "the call page never showed",
        )
        return self.page

    async def wait_home(self, timeout: float = 10.0) -> None:
        await self.wait_for_page(self.home, timeout)

    def tile_names(self) -> list[str]:
        view = self.page.view
        assert view is not None
        return [t.display_name for t in view.tiles]

    def click_bar(self, name: CallMenuButton) -> None:
        page = self.page
        for bar in (page.bottom_bar, page.top_bar):
            button = bar.buttons.get(name)
            if button is not None:
                QTest.mouseClick(button, Qt.MouseButton.LeftButton)
                return
        for bar in (page.bottom_bar, page.top_bar):
            # Past the bar's max_count, behind "More": its menu's entry.
            if (action := bar.overflow_actions.get(name)) is not None:
                action.trigger()
                return
        raise AssertionError(f"no {name} button on the call page")

    async def wait_idle(self, *user_ids: str) -> None:
        """Until the home page lists these users as available again.

        Ends a test after the server has finished its last broadcast: pytest-qt processes
        Qt events between test phases, outside the asyncio loop, so nothing may be in
        flight when a test returns.
        """

        def idle() -> bool:
            states = {u.user_id: u.state for u in self.app.window.home_page.model.users()}
            return all(states.get(uid) is PresenceState.IDLE for uid in user_ids)

        await wait_until(idle, 10, f"{user_ids} not shown as available")

    async def settle(self, *bots: Bot) -> None:
        """Let every side finish what the last step started (see :meth:`wait_idle`)."""
        for bot in bots:
            await bot.bus.drain()
        await self.kit.bus.drain()
        me = self.app.bridge.me
        ids = [bot.user.id for bot in bots if bot.session is None]
        if me is not None and self.kit.session is None:
            ids.append(me.user_id)
        await self.wait_idle(*ids)

    def call(self, ids: str, *, video: bool = True) -> None:
        """Type the IDs on the home page and press Video call (or Voice call)."""
        self.window.call(ids, video=video)


async def start_call_app(
    server: RunningServer,
    folder: Path,
    user_id: str = "alice",
    name: str = "Alice",
    *,
    invitation_timeout_s: float = 60.0,
    call_config: CallConfigFactory | None = None,
) -> CallApp:
    """Alice's window signed in; ``call_config`` gives each call its config (presets)."""
    window = await open_window(
        server,
        folder,
        user_id,
        name,
        invitation=CallInvitationConfig(timeout_s=invitation_timeout_s),
        call_config=call_config,
    )
    window.app.window.resize(900, 640)
    app = CallApp(window)
    bus = window.app.bus
    assert bus is not None
    bus.subscribe(lambda path, args: app.events.append((path, args)))
    return app


async def stop_call_app(app: CallApp) -> None:
    await app.window.close()
    assert app.presenter.video_tasks == 0
    assert not media_tasks(), [t.get_coro() for t in media_tasks()]


def short_timeouts(bot: Bot, seconds: float = 2) -> None:
    """Invitations this bot sends time out after ``seconds``."""
    assert bot.kit.invitations is not None
    bot.kit.invitations.config = CallInvitationConfig(timeout_s=seconds)
