"""Parley's pytest plugin: a running server, headless bots and real windows for your tests.

Installed with Parley and registered through the ``pytest11`` entry point, so any test
suite with Parley installed has these fixtures (see ``docs/testing.md``):

- ``parley_server`` — a real ``parley-server`` on 127.0.0.1, on a free port, with a
  fresh secret; ``@pytest.mark.parley_server(rejoin_grace_s=0.5)`` configures it;
- ``parley_token(user_id, name=None)`` — a token for that server;
- ``parley_bot(user_id, on_invited=Answer.IGNORE, ...)`` — a signed-in :class:`Bot`
  with synthetic camera and microphone; closed after the test;
- ``parley_room_bot(user_id, on_seat_invitation=Answer.IGNORE, ...)`` — a signed-in
  :class:`~app.kit.bots.RoomBot` for audio rooms (``await bot.join(room, host=True)``);
- ``parley_window(user_id)`` — Parley's real window, wired as ``parley`` wires it,
  signed in on that server, with synthetic devices and its own settings and data
  folders; closed and checked clean after the test. Tests using it run on a qasync loop.

and :func:`wait_until`, to poll a condition from an async test.

Imports of Qt and the media stack happen inside the fixtures: plugins load before a
suite's own ``conftest.py``, which may first have to set up virtual sound devices.
"""

from __future__ import annotations

import asyncio
import inspect
import os
import secrets
from collections.abc import AsyncIterator, Awaitable, Callable
from pathlib import Path
from typing import TYPE_CHECKING, Any, Generic, Protocol, TypeVar

import pytest
import pytest_asyncio

if TYPE_CHECKING:
    from PySide6.QtCore import QPoint
    from PySide6.QtWidgets import QMenu, QWidget

    from app.kit.bots import Answer, Bot, RoomBot
    from app.kit.views.history import CallEntry
    from app.main import Application, Options
    from signaling.server.app import RunningServer

TokenFactory = Callable[..., str]
BotFactory = Callable[..., Awaitable["Bot"]]
RoomBotFactory = Callable[..., Awaitable["RoomBot"]]
WindowFactory = Callable[..., Awaitable["ParleyWindow"]]

#: The marker that configures ``parley_server`` (``ServerConfig`` fields).
SERVER_MARKER = "parley_server"
#: The fixture whose tests need Qt's event loop under asyncio.
WINDOW_FIXTURE = "parley_window"


def pytest_configure(config: pytest.Config) -> None:
    config.addinivalue_line(
        "markers",
        f"{SERVER_MARKER}(**config): keyword arguments for parley_server's ServerConfig "
        "(e.g. rejoin_grace_s=0.5)",
    )


def pytest_asyncio_loop_factories(
    config: pytest.Config, item: pytest.Item
) -> dict[str, Callable[[], asyncio.AbstractEventLoop]]:
    """A qasync loop (Qt's event loop under asyncio) for tests with a window; the usual
    asyncio loop for the others. A suite's own hook (in a conftest) wins over this one."""
    if WINDOW_FIXTURE in getattr(item, "fixturenames", ()):
        return {"qasync": qt_event_loop}
    return {"asyncio": asyncio.new_event_loop}


def qt_event_loop() -> asyncio.AbstractEventLoop:
    """A fresh qasync loop on the (one) QApplication, offscreen when there is no display."""
    if not (os.environ.get("DISPLAY") or os.environ.get("WAYLAND_DISPLAY")):
        os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")
    from PySide6.QtWidgets import QApplication

    from app.qt.loop import QtEventLoop

    app = QApplication.instance() or QApplication([])
    assert isinstance(app, QApplication)
    # Windows closing must not make Qt quit the loop a test is running on.
    app.setQuitOnLastWindowClosed(False)
    loop: asyncio.AbstractEventLoop = QtEventLoop(app)
    _process_qt_events_in(loop)
    return loop


_qt_loop: asyncio.AbstractEventLoop | None = None
_events_routed = False


def _process_qt_events_in(loop: asyncio.AbstractEventLoop) -> None:
    """Have pytest-qt process Qt events by running ``loop`` while it is open.

    pytest-qt calls ``QApplication.processEvents()`` between a test's phases. On a qasync
    loop that runs asyncio's pending callbacks outside their loop: a task step finds no
    running loop ("no running event loop"), and a coroutine it was about to await is
    reported "never awaited" in a later test. Running the loop for one turn processes
    the same events with the loop in place. (``_process_events`` is pytest-qt's private
    helper; the version is locked.)
    """
    global _qt_loop, _events_routed
    _qt_loop = loop
    if _events_routed:
        return
    try:
        from pytestqt import plugin as qt_plugin
    except ImportError:  # without pytest-qt nobody processes events between phases
        return
    original: Callable[[], None] = qt_plugin._process_events

    def process_events() -> None:
        current = _qt_loop
        if current is not None and not current.is_closed() and not current.is_running():
            current.run_until_complete(asyncio.sleep(0))
        else:
            original()

    qt_plugin._process_events = process_events
    _events_routed = True


async def wait_until(
    predicate: Callable[[], object], timeout: float = 10.0, message: str = ""
) -> None:
    """Poll ``predicate()`` every 10 ms until it is true; ``AssertionError`` (with
    ``message``) when it is still false after ``timeout`` seconds. Never a fixed sleep.
    ``predicate`` may be an async function (its result is awaited each time)."""
    loop = asyncio.get_running_loop()
    deadline = loop.time() + timeout

    async def holds() -> bool:
        value = predicate()
        if inspect.isawaitable(value):
            value = await value
        return bool(value)

    while not await holds():
        if loop.time() > deadline:
            raise AssertionError(message or f"condition not met within {timeout} s")
        await asyncio.sleep(0.01)


# --- the server, tokens and bots -------------------------------------------------------


@pytest_asyncio.fixture
async def parley_server(request: pytest.FixtureRequest) -> AsyncIterator[RunningServer]:
    """A real signaling server on 127.0.0.1 and a free port, stopped after the test;
    ``@pytest.mark.parley_server(**config)`` sets its ``ServerConfig`` (timeouts …)."""
    from signaling.server.app import start_server
    from signaling.server.hub import ServerConfig

    marker = request.node.get_closest_marker(SERVER_MARKER)
    options = dict(marker.kwargs) if marker else {}
    config = ServerConfig(secret=secrets.token_urlsafe(48), **options)
    server = await start_server(config, "127.0.0.1", 0)
    try:
        yield server
    finally:
        await server.stop()


@pytest_asyncio.fixture
async def parley_token(parley_server: RunningServer) -> TokenFactory:
    """Mints tokens for ``parley_server``: ``parley_token("alice", "Alice")``."""
    from signaling.auth import mint_token

    def make(user_id: str, name: str | None = None) -> str:
        return mint_token(parley_server.hub.config.secret, user_id, name or user_id.title())

    return make


class _Signable(Protocol):
    async def sign_in(self) -> None: ...

    async def close(self) -> None: ...


B = TypeVar("B", bound=_Signable)


class BotPool(Generic[B]):
    """Signs in bots of one kind on one server, and signs them all out again.

    ``kind(url, token, user, **options)`` builds a bot (:class:`Bot` or
    :class:`~app.kit.bots.RoomBot`); ``token(user_id, name)`` mints its token. The
    fixtures here and Parley's own UI tests share it.
    """

    def __init__(self, url: str, token: Callable[[str, str], str], kind: Callable[..., B]) -> None:
        self._url, self._token, self._kind = url, token, kind
        self._bots: list[B] = []

    async def make(self, user_id: str, name: str | None = None, **options: Any) -> B:
        """A signed-in bot; its display name defaults to the title-cased user ID."""
        from app.kit.types import User

        display = name or user_id.title()
        bot = self._kind(
            self._url, self._token(user_id, display), User(user_id, display), **options
        )
        await bot.sign_in()
        self._bots.append(bot)
        return bot

    async def close(self) -> None:
        """Sign every bot out, the newest first."""
        while self._bots:
            await self._bots.pop().close()


@pytest_asyncio.fixture
async def parley_bot(
    parley_server: RunningServer, parley_token: TokenFactory
) -> AsyncIterator[BotFactory]:
    """Signs in bots: ``bob = await parley_bot("bob", on_invited=Answer.ANSWER)``."""
    from app.kit.bots import Answer, Bot

    pool = BotPool(parley_server.url, parley_token, Bot)

    async def make(
        user_id: str, name: str | None = None, on_invited: Answer = Answer.IGNORE, **options: Any
    ) -> Bot:
        return await pool.make(user_id, name, on_invited=on_invited, **options)

    try:
        yield make
    finally:
        await pool.close()


@pytest_asyncio.fixture
async def parley_room_bot(
    parley_server: RunningServer, parley_token: TokenFactory
) -> AsyncIterator[RoomBotFactory]:
    """Signs in audio-room bots: ``host = await parley_room_bot("host")``, then
    ``await host.join("room-1", host=True)``; each leaves and signs out after the test."""
    from app.kit.bots import Answer, RoomBot

    pool = BotPool(parley_server.url, parley_token, RoomBot)

    async def make(
        user_id: str,
        name: str | None = None,
        on_seat_invitation: Answer = Answer.IGNORE,
        **options: Any,
    ) -> RoomBot:
        return await pool.make(user_id, name, on_seat_invitation=on_seat_invitation, **options)

    try:
        yield make
    finally:
        await pool.close()


# --- the window -----------------------------------------------------------------------


class MenuRecorder:
    """Stands in for ``QMenu.popup`` (offscreen Qt cannot pop menus up): keeps the menus a
    page would have shown, newest last."""

    def __init__(self) -> None:
        self.menus: list[QMenu] = []

    def __call__(self, menu: QMenu, at: QPoint) -> None:
        self.menus.append(menu)


class ParleyWindow:
    """One signed-in Parley window, as ``parley`` builds it, and ways to use it from a test.

    Widgets are found by their stable ``objectName`` (``docs/testing.md`` lists them):
    ``window.click("video_call_button")``.
    """

    def __init__(self, app: Application, server: RunningServer, menus: MenuRecorder) -> None:
        self.app = app
        self._server = server
        #: Every menu a page popped, oldest first.
        self.menus = menus.menus

    @property
    def user_id(self) -> str:
        return self.app.options.user_id

    # --- finding and using widgets ----------------------------------------------------

    def find(self, name: str, within: str = "") -> QWidget:
        """The visible widget named ``name`` (in the page named ``within``, if given).

        A name may stand on several pages (``accept_button``: banner and incoming page);
        the one shown wins. ``AssertionError`` when none is shown.
        """
        from PySide6.QtWidgets import QApplication, QWidget

        roots: list[QWidget] = [w for w in QApplication.topLevelWidgets() if w.isVisible()]
        if within:
            roots = [self.find(within)]
        for root in roots:
            if root.objectName() == name and root.isVisible():
                return root
            for widget in root.findChildren(QWidget, name):
                if widget.isVisible():
                    return widget
        raise AssertionError(f"no visible {name!r} in {within or 'the windows'}")

    def shows(self, name: str, within: str = "") -> bool:
        """Whether a widget named ``name`` is visible (for ``wait_until``)."""
        try:
            self.find(name, within)
        except AssertionError:
            return False
        return True

    def click(self, name: str, within: str = "") -> None:
        """Click the visible widget named ``name`` with the left mouse button."""
        from PySide6.QtCore import Qt
        from PySide6.QtTest import QTest

        QTest.mouseClick(self.find(name, within), Qt.MouseButton.LeftButton)

    @property
    def page(self) -> str:
        """The ``objectName`` of the page the window shows (``home_page``, ``call_page``…)."""
        current = self.app.window.stack.currentWidget()
        return current.objectName() if current is not None else ""

    async def wait_for_page(self, name: str, timeout: float = 10.0) -> None:
        """Until the window shows the page named ``name``."""
        await wait_until(lambda: self.page == name, timeout, f"{name} not shown ({self.page})")

    # --- what a person does -----------------------------------------------------------

    def call(self, user_ids: str, *, video: bool = True) -> None:
        """Type the user IDs on the home page and press Video call (or Voice call)."""
        from PySide6.QtWidgets import QLineEdit

        field = self.find("callee_edit", "home_page")
        assert isinstance(field, QLineEdit)
        field.setText(user_ids)
        self.click("video_call_button" if video else "voice_call_button", "home_page")

    def shows_video_of(self, user_id: str) -> bool:
        """Whether the call page has been handed a frame of ``user_id``'s video."""
        calls = self.app.calls
        return calls is not None and calls.session is not None and user_id in calls.first_frame_at

    def recent_calls(self) -> tuple[CallEntry, ...]:
        """The home page's Recent calls, newest first."""
        history = self.app.history
        return history.entries() if history is not None else ()

    # --- life -------------------------------------------------------------------------

    async def close(self) -> None:
        """Hang up, sign out and close the window; then wait until the server has let
        the user go, so nothing is still in flight when the test ends."""
        await self.app.shutdown()
        self.app.window.deleteLater()
        store = self._server.hub.store
        loop = asyncio.get_running_loop()
        deadline = loop.time() + 10.0
        while self.user_id in {p.user_id for p in await store.online()}:
            assert loop.time() < deadline, f"{self.user_id} is still online on the server"
            await asyncio.sleep(0.01)


def window_options(folder: Path, running: RunningServer | None = None, **options: Any) -> Options:
    """What a test window is built with: its settings, data and kept sign-ins in
    ``folder``, synthetic devices, no sounds, no desktop notifications, no echo user, no
    signal handlers, menus recorded (not shown); on the test server ``running`` if given
    (else as ``options`` say: ``server=``, or the local server as ``parley`` runs);
    ``options`` are more :class:`app.main.Options` (``user_id=`` signs it in at start)."""
    from PySide6.QtCore import QSettings

    from app.kit.credentials import Credentials, FileStore
    from app.kit.local_server import ServerHandle, ServerMode
    from app.kit.media import MediaOptions
    from app.kit.notifications import NoNotifications
    from app.main import Options

    _make_folder(folder)
    defaults: dict[str, Any] = {
        "settings": QSettings(str(folder / "settings.ini"), QSettings.Format.IniFormat),
        # Sign-ins to servers are kept in the folder, never in the desktop's keyring;
        # nothing pops up on the desktop of whoever runs the tests.
        "credentials": Credentials(FileStore(folder / "sign-ins.json")),
        "notifier": NoNotifications(),
        "data_dir": folder,
        "media": MediaOptions(synthetic=True),
        "sounds": False,
        "echo": False,
        "handle_signals": False,
        "outcome_linger_ms": 300,
        "menu_popper": MenuRecorder(),
    }
    if running is not None:
        secret = running.hub.config.secret
        defaults["server"] = ServerHandle(running.url, secret, ServerMode.REMOTE)
    return Options(**(defaults | options))


async def open_window(
    server: RunningServer,
    folder: Path,
    user_id: str,
    name: str | None = None,
    **options: Any,
) -> ParleyWindow:
    """Parley's window signed in as ``user_id`` on ``server``, its settings and data in
    ``folder``, with synthetic devices; ``options`` are more :class:`app.main.Options`."""
    from PySide6.QtWidgets import QApplication

    from app.main import Application

    built = window_options(folder, server, user_id=user_id, name=name or user_id.title(), **options)
    menus = built.menu_popper
    assert isinstance(menus, MenuRecorder), "a test window records its menus"
    qt_app = QApplication.instance()
    assert isinstance(qt_app, QApplication), "parley_window needs the qasync loop"
    app = Application(qt_app, built)
    window = ParleyWindow(app, server, menus)
    assert await app.start(), "the window could not open its server"
    kit = app.call_kit
    await wait_until(
        lambda: (
            app.window.stack.currentWidget() is app.window.home_page
            and kit is not None
            and kit.invitations is not None
        ),
        10,
        f"{user_id} did not get signed in",
    )
    return window


def _make_folder(folder: Path) -> None:
    folder.mkdir(parents=True, exist_ok=True)


@pytest_asyncio.fixture
async def parley_window(
    parley_server: RunningServer, tmp_path: Path
) -> AsyncIterator[WindowFactory]:
    """Opens Parley windows: ``alice = await parley_window("alice")`` — signed in on
    ``parley_server``, synthetic camera and microphone, its own settings and data."""
    windows: list[ParleyWindow] = []

    async def make(user_id: str, name: str | None = None, **options: Any) -> ParleyWindow:
        window = await open_window(parley_server, tmp_path / user_id, user_id, name, **options)
        windows.append(window)
        return window

    try:
        yield make
    finally:
        while windows:
            await windows.pop().close()


__all__ = [
    "Answer",
    "BotFactory",
    "BotPool",
    "MenuRecorder",
    "ParleyWindow",
    "RoomBotFactory",
    "TokenFactory",
    "WindowFactory",
    "open_window",
    "parley_bot",
    "parley_room_bot",
    "parley_server",
    "parley_token",
    "parley_window",
    "wait_until",
]


def __getattr__(name: str) -> Any:
    # ``from app.testing import Answer`` without importing the media stack at plugin load.
    if name == "Answer":
        from app.kit.bots import Answer

        return Answer
    raise AttributeError(name)
