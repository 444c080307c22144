"""UI tests run as coroutines on a qasync loop: widgets, real clients and the real server
share it. The hook lives here, not in a suite-wide plugin, so only tests/ui use qasync."""

from __future__ import annotations

import threading
from collections.abc import AsyncIterator, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any

import pytest
import pytest_asyncio
from PySide6.QtCore import QSettings, QtMsgType
from pytestqt.qtbot import QtBot

from app.kit.account import Session
from app.kit.local_server import ServerHandle, ServerMode
from app.main import make_client_factory
from app.qt.account import SessionBridge, TaskKeeper
from app.testing import BotPool
from signaling.server.app import RunningServer
from tests.support.qt import qasync_loop
from tests.support.signaling import TEST_SECRET
from widgets.main_window import MainWindow
from widgets.theme import LIGHT

if TYPE_CHECKING:
    from app.kit.bots.call import Answer
    from app.testing import RoomBotFactory
    from tests.ui.call_app import BotFactory, CallApp
    from tests.ui.room_app import RoomApp


def pytest_asyncio_loop_factories(config: pytest.Config, item: pytest.Item) -> dict[str, object]:
    return {"qasync": qasync_loop}


@pytest.fixture(autouse=True)
def _no_qt_warnings_or_new_threads(qtlog: object) -> Iterator[None]:
    """Fail a test that makes Qt warn or leaves a thread behind."""
    threads_before = set(threading.enumerate())
    yield
    records = getattr(qtlog, "records", [])
    warnings = [
        r.message for r in records if r.type in (QtMsgType.QtWarningMsg, QtMsgType.QtCriticalMsg)
    ]
    assert warnings == []
    leftover = [t for t in threading.enumerate() if t not in threads_before and t.is_alive()]
    assert leftover == []


@dataclass
class Parley:
    """The app's parts as main() wires them, against the test server."""

    window: MainWindow
    bridge: SessionBridge
    session: Session
    tasks: TaskKeeper
    settings: QSettings


def build_parley(qtbot: QtBot, server: ServerHandle, settings_path: Path) -> Parley:
    tasks = TaskKeeper()
    session = Session(make_client_factory(server), on_server_lost=server.take_over)
    bridge = SessionBridge(session, server, tasks)
    settings = QSettings(str(settings_path), QSettings.Format.IniFormat)
    window = MainWindow(bridge, settings, LIGHT)
    # Not qtbot.addWidget: pytest-qt would close it before close_parley signs out.
    window.show()
    return Parley(window, bridge, session, tasks, settings)


async def close_parley(parley: Parley) -> None:
    await parley.tasks.close()
    await parley.session.close()
    assert parley.tasks.pending == 0
    parley.window.close_for_good()
    parley.window.deleteLater()


@pytest_asyncio.fixture
async def parley(qtbot: QtBot, server: RunningServer, tmp_path: Path) -> AsyncIterator[Parley]:
    """Parley's window, signed out, talking to the real test server."""
    handle = ServerHandle(server.url, TEST_SECRET, ServerMode.REMOTE)
    app = build_parley(qtbot, handle, tmp_path / "settings.ini")
    yield app
    await close_parley(app)


# --- the wired call app and bots (tests/ui/call_app.py) ------------------------------


@pytest_asyncio.fixture
async def alice(qtbot: QtBot, server: RunningServer, tmp_path: Path) -> AsyncIterator[CallApp]:
    """Alice's Parley window with its call kit, signed in, with 2 s invitation timeouts."""
    from tests.ui.call_app import start_call_app, stop_call_app

    app = await start_call_app(qtbot, server, tmp_path / "alice.ini", invitation_timeout_s=2)
    yield app
    await stop_call_app(app)


def _test_token(user_id: str, name: str) -> str:
    from signaling.auth import mint_token

    return mint_token(TEST_SECRET, user_id, name)


@pytest_asyncio.fixture
async def bots(server: RunningServer) -> AsyncIterator[BotFactory]:
    """Signs in bots on the test server: ``bob = await bots("bob", Answer.ANSWER)``."""
    from app.kit.bots.call import Bot

    pool = BotPool(server.url, _test_token, Bot)

    async def make(user_id: str, on_invited: Answer | None = None, **options: Any) -> Bot:
        from app.kit.bots.call import Answer

        return await pool.make(user_id, on_invited=on_invited or Answer.IGNORE, **options)

    yield make
    await pool.close()


# --- the wired audio room app and room bots (tests/ui/room_app.py) -------------------


@pytest_asyncio.fixture
async def room_app(qtbot: QtBot, server: RunningServer, tmp_path: Path) -> AsyncIterator[RoomApp]:
    """Alice's Parley window with its audio room kit, signed in, in no room yet."""
    from tests.ui.room_app import start_room_app, stop_room_app

    app = await start_room_app(qtbot, server, tmp_path / "alice.ini", "alice", "Alice")
    yield app
    await stop_room_app(app)


@pytest_asyncio.fixture
async def room_bots(server: RunningServer) -> AsyncIterator[RoomBotFactory]:
    """Room bots on the window's server: ``host = await room_bots("host")``."""
    from app.kit.bots.audio_room import RoomBot
    from app.kit.bots.call import Answer

    pool = BotPool(server.url, _test_token, RoomBot)

    async def make(user_id: str, on_seat_invitation: Answer | None = None) -> RoomBot:
        return await pool.make(user_id, on_seat_invitation=on_seat_invitation or Answer.IGNORE)

    yield make
    await pool.close()
