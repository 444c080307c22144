"""The wired app (window + call kit as main() builds them) and bots, for call-flow UI tests."""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field
from pathlib import Path

from PySide6.QtCore import Qt
from PySide6.QtTest import QTest
from PySide6.QtWidgets import QMenu, QWidget
from pytestqt.qtbot import QtBot

from app import CallMenuButton, PresenceState
from app.compose.call_ui import CallUi
from app.kit.bots.call import Bot
from app.kit.bus import EventBus
from app.kit.call.service import CallConfigFactory, CallInvitationService
from app.kit.config import CallInvitationConfig
from app.kit.history.recorder import CallHistory
from app.kit.local_server import ServerHandle, ServerMode
from app.kit.media import MediaOptions
from signaling.server.app import RunningServer
from tests.support.qt import MenuRecorder, wait_until
from tests.support.signaling import TEST_SECRET
from tests.ui.conftest import Parley, build_parley, close_parley
from widgets.call_page import CallPage
from widgets.theme import LIGHT

BotFactory = Callable[..., Awaitable[Bot]]


@dataclass
class CallApp:
    """One signed-in Parley window with its call kit, and every bus event it published."""

    parley: Parley
    calls: CallUi
    events: list[tuple[str, tuple[object, ...]]] = field(default_factory=list)
    menus: list[QMenu] = field(default_factory=list)
    """Every menu a call page popped, oldest first (offscreen Qt warns on real popups)."""

    @property
    def current(self) -> QWidget | None:
        return self.parley.window.stack.currentWidget()

    @property
    def home(self) -> QWidget:
        return self.parley.window.home_page

    @property
    def kit(self) -> CallInvitationService:
        return self.calls.kit

    @property
    def page(self) -> CallPage:
        page = self.calls.call_page
        assert page is not None, "no call page"
        return page

    def fired(self, path: str) -> list[tuple[object, ...]]:
        return [args for p, args in self.events if p == path]

    async def wait_for_page(self, page: QWidget | None, timeout: float = 10.0) -> None:
        await wait_until(lambda: self.current is page, timeout, f"{page} never shown")

    async def wait_for_call_page(self, timeout: float = 10.0) -> CallPage:
        await wait_until(
            lambda: self.calls.call_page is not None and self.current is self.calls.call_page,
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
        raise AssertionError(f"no {name} button on the call page")

    async def wait_idle(self, *user_ids: str) -> None:
        """Until the home page lists these users as available again.

        Ends a test after the server has finished its last broadcast: pytest-qt processes
        Qt events between test phases, outside the asyncio loop, so nothing may be in
        flight when a test returns.
        """

        def idle() -> bool:
            states = {u.user_id: u.state for u in self.parley.window.home_page.model.users()}
            return all(states.get(uid) is PresenceState.IDLE for uid in user_ids)

        await wait_until(idle, 10, f"{user_ids} not shown as available")

    async def settle(self, *bots: Bot) -> None:
        """Let every side finish what the last step started (see :meth:`wait_idle`)."""
        for bot in bots:
            await bot.bus.drain()
        await self.kit.bus.drain()
        me = self.parley.session.me
        ids = [bot.user.id for bot in bots if bot.session is None]
        if me is not None and self.kit.session is None:
            ids.append(me.user_id)
        await self.wait_idle(*ids)

    async def call(self, ids: str, *, video: bool = True) -> None:
        """Type the IDs on the home page and press Video call (or Voice call)."""
        home = self.parley.window.home_page
        home.callee_edit.setText(ids)
        button = home.video_button if video else home.voice_button
        QTest.mouseClick(button, Qt.MouseButton.LeftButton)


async def start_call_app(
    qtbot: QtBot,
    server: RunningServer,
    settings_path: Path,
    user_id: str = "alice",
    name: str = "Alice",
    *,
    invitation_timeout_s: float = 60.0,
    call_config: CallConfigFactory | None = None,
    history: CallHistory | None = None,
) -> CallApp:
    """Alice's window signed in; ``call_config`` gives each call its config (presets)."""
    handle = ServerHandle(server.url, TEST_SECRET, ServerMode.REMOTE)
    parley = build_parley(qtbot, handle, settings_path)
    parley.window.resize(900, 640)
    calls = CallUi(
        parley.window,
        parley.bridge,
        parley.session,
        handle,
        CallInvitationService(EventBus()),
        parley.tasks,
        LIGHT,
        media=MediaOptions(synthetic=True),
        invitation_config=CallInvitationConfig(timeout_s=invitation_timeout_s),
        call_config=call_config,
        history=history,
        outcome_linger_ms=300,
    )
    app = CallApp(parley, calls)
    calls.kit.bus.add_listener(lambda path, args: app.events.append((path, args)))

    recorder = MenuRecorder()
    recorder.menus = app.menus  # the tests read app.menus
    calls.menu_popper = recorder
    parley.bridge.sign_in(user_id, name)
    await app.wait_home()
    await wait_until(lambda: calls.kit.invitations is not None, 5, "kit never started")
    return app


async def stop_call_app(app: CallApp) -> None:
    await app.calls.close()
    await close_parley(app.parley)
    app.calls.overlay.deleteLater()
    assert app.calls.presenter.video_tasks == 0


def short_timeouts(bot: Bot, seconds: float = 2) -> None:
    """Invitations this bot sends time out after ``seconds``."""
    assert bot.kit.invitations is not None
    bot.kit.invitations.config = CallInvitationConfig(timeout_s=seconds)
