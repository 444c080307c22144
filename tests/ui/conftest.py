"""UI tests run as coroutines on a qasync loop: windows, real clients and the real server
share it. Every window is Parley's own :class:`app.main.Application`, built as ``parley``
builds it (through the pytest plugin's :func:`app.testing.open_window`), so the tests
run the app's wiring, not a copy of it."""

from __future__ import annotations

import asyncio
import threading
from collections.abc import AsyncIterator, Callable, Iterator
from pathlib import Path
from typing import TYPE_CHECKING, Any

import pytest
import pytest_asyncio
from PySide6.QtCore import QtMsgType
from PySide6.QtWidgets import QApplication
from pytestqt.qtbot import QtBot

import media
from app.main import Application
from app.testing import BotPool, qt_event_loop, window_options
from signaling.server.app import RunningServer
from tests.support.signaling import TEST_SECRET
from tests.support.tasks import running_tasks

if TYPE_CHECKING:
    from app.kit.bots import Answer
    from app.testing import RoomBotFactory
    from tests.ui.call_app import BotFactory, CallApp
    from tests.ui.room_app import RoomApp


def pytest_asyncio_loop_factories(
    config: pytest.Config, item: pytest.Item
) -> dict[str, Callable[[], asyncio.AbstractEventLoop]]:
    return {"qasync": qt_event_loop}


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


async def close_app(app: Application) -> None:
    """Shut the window down and check it left no task behind."""
    await app.shutdown()
    assert app.tasks.pending == 0, app.tasks.tasks
    app.window.deleteLater()


@pytest_asyncio.fixture
async def parley(qtbot: QtBot, server: RunningServer, tmp_path: Path) -> AsyncIterator[Application]:
    """Parley's window, signed out, talking to the real test server."""
    qt_app = QApplication.instance()
    assert isinstance(qt_app, QApplication)
    app = Application(qt_app, window_options(tmp_path, server))
    assert await app.start()
    yield app
    await close_app(app)


# --- the wired call app and bots (tests/ui/call_app.py) ------------------------------


@pytest_asyncio.fixture
async def alice(server: RunningServer, tmp_path: Path) -> AsyncIterator[CallApp]:
    """Alice's Parley window, signed in, with 2 s invitation timeouts."""
    from tests.ui.call_app import start_call_app, stop_call_app

    app = await start_call_app(server, tmp_path / "alice", invitation_timeout_s=2)
    yield app
    await stop_call_app(app)


def _test_token(user_id: str, name: str) -> str:
    from signaling.auth import mint_token

    return mint_token(TEST_SECRET, user_id, name)


@pytest_asyncio.fixture
async def bots(server: RunningServer) -> AsyncIterator[BotFactory]:
    """Signs in bots on the test server: ``bob = await bots("bob", Answer.ANSWER)``."""
    from app.kit.bots import Bot

    pool = BotPool(server.url, _test_token, Bot)

    async def make(user_id: str, on_invited: Answer | None = None, **options: Any) -> Bot:
        from app.kit.bots import Answer

        return await pool.make(user_id, on_invited=on_invited or Answer.IGNORE, **options)

    yield make
    await pool.close()


# --- the wired audio room app and room bots (tests/ui/room_app.py) -------------------


@pytest_asyncio.fixture
async def room_app(server: RunningServer, tmp_path: Path) -> AsyncIterator[RoomApp]:
    """Alice's Parley window, signed in, in no room yet."""
    from tests.ui.room_app import start_room_app, stop_room_app

    app = await start_room_app(server, tmp_path / "alice")
    yield app
    await stop_room_app(app)


@pytest_asyncio.fixture
async def room_bots(server: RunningServer) -> AsyncIterator[RoomBotFactory]:
    """Room bots on the window's server: ``host = await room_bots("host")``."""
    from app.kit.bots import Answer, RoomBot

    pool = BotPool(server.url, _test_token, RoomBot)

    async def make(user_id: str, on_seat_invitation: Answer | None = None) -> RoomBot:
        return await pool.make(user_id, on_seat_invitation=on_seat_invitation or Answer.IGNORE)

    yield make
    await pool.close()


_MEDIA_DIR = str(Path(media.__file__).resolve().parent)


def media_tasks() -> list[asyncio.Task[object]]:
    """Unfinished tasks running aiortc's, aioice's or our media layer's code."""
    return running_tasks(
        lambda path: "/aioice/" in path or "/aiortc/" in path or path.startswith(_MEDIA_DIR)
    )
