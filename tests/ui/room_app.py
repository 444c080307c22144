"""Alice's wired window (as ``parley`` builds it), for audio-room UI tests."""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field
from pathlib import Path

from PySide6.QtCore import Qt
from PySide6.QtTest import QTest
from PySide6.QtWidgets import QApplication, QWidget

from app.kit.audio_room.kit import AudioRoomKit
from app.kit.bots import RoomBot
from app.kit.config.audio_room import AudioRoomConfig
from app.kit.types import AudioRoomEndEvent, AudioRoomEndReason, AudioRoomRole
from app.kit.views.audio_room import AudioRoomView
from app.main import Application
from app.qt.room_entry import RoomEntry
from app.testing import ParleyWindow, open_window, wait_until
from signaling.server.app import RunningServer
from signaling.store import Store
from tests.support.qt import MenuRecorder
from tests.ui.conftest import media_tasks
from widgets.audio_room_page import AudioRoomPage
from widgets.minimize_overlay import MinimizeOverlay


@dataclass
class RoomApp:
    """One signed-in Parley window, and every bus event."""

    window: ParleyWindow
    menus: MenuRecorder
    server: RunningServer
    events: list[tuple[str, tuple[object, ...]]] = field(default_factory=list)

    @property
    def app(self) -> Application:
        return self.window.app

    @property
    def kit(self) -> AudioRoomKit:
        assert self.app.room_kit is not None
        return self.app.room_kit

    @property
    def entry(self) -> RoomEntry:
        assert self.app.room_entry is not None
        return self.app.room_entry

    @property
    def overlay(self) -> MinimizeOverlay:
        assert self.app.overlay is not None
        return self.app.overlay

    @property
    def room_page(self) -> AudioRoomPage | None:
        navigator = self.app.navigator
        page = navigator.room_page if navigator is not None else None
        assert page is None or isinstance(page, AudioRoomPage)
        return page

    @property
    def current(self) -> QWidget | None:
        return self.app.window.stack.currentWidget()

    @property
    def page(self) -> AudioRoomPage:
        page = self.room_page
        assert page is not None, "no room page"
        return page

    def fired(self, path: str) -> list[tuple[object, ...]]:
        return [args for p, args in self.events if p == path]

    async def join(
        self, room_id: str, role: AudioRoomRole, config: AudioRoomConfig | None = None
    ) -> bool:
        """Join as the home page's dialog does (the role's preset unless ``config``)."""
        return await self.entry.join(room_id, role, config)

    async def wait_for_room_page(self, timeout: float = 10.0) -> AudioRoomPage:
        await wait_until(
            lambda: (
                self.room_page is not None
                and self.current is self.room_page
                and self.room_page.view is not None
            ),
            timeout,
            "the room page never showed",
        )
        return self.page

    async def wait_home(self, timeout: float = 10.0) -> None:
        home = self.app.window.home_page
        await wait_until(lambda: self.current is home, timeout, "home never shown")

    def click(self, widget: QWidget | None) -> None:
        assert widget is not None
        assert widget.isVisible(), f"{widget} is not shown"
        QTest.mouseClick(widget, Qt.MouseButton.LeftButton)

    @property
    def view(self) -> AudioRoomView:
        """The room page's view now (read afresh: mypy keeps earlier narrowing)."""
        view = self.page.view
        assert view is not None
        return view

    def role(self) -> AudioRoomRole:
        return self.view.local_role

    def end_reasons(self) -> list[AudioRoomEndReason]:
        """The reasons of every ``on_ended`` published so far."""
        events = [args[0] for args in self.fired("audio_room.on_ended")]
        return [e.reason for e in events if isinstance(e, AudioRoomEndEvent)]

    @property
    def in_room(self) -> bool:
        return self.kit.session is not None

    async def settle(self, *bots: RoomBot) -> None:
        """Everyone leaves their room; returns once the server has forgotten those rooms.

        Ends a test with nothing in flight (see :func:`server_quiet`).
        """
        kits = [self.kit, *(bot.kit for bot in bots)]
        rooms = {kit.session.room_id for kit in kits if kit.session is not None}
        for kit in kits:
            await kit.leave(confirm=False)
            await kit.bus.drain()
        store = self.server.hub.store
        await wait_until_async(
            lambda: _no_rooms(store, rooms), 10, f"the server still holds {rooms}"
        )

    def seat_user(self, index: int) -> str | None:
        user = self.view.seat(index).user
        return user.id if user else None


async def modal_dialog(kind: type[QWidget], timeout: float = 5.0) -> QWidget:
    """The modal dialog of type ``kind`` once it is up (it runs a nested loop)."""
    await wait_until(
        lambda: isinstance(QApplication.activeModalWidget(), kind), timeout, f"no {kind}"
    )
    dialog = QApplication.activeModalWidget()
    assert isinstance(dialog, kind)
    return dialog


async def start_room_app(
    server: RunningServer, folder: Path, user_id: str = "alice", name: str = "Alice"
) -> RoomApp:
    menus = MenuRecorder()
    window = await open_window(server, folder, user_id, name, menu_popper=menus)
    window.app.window.resize(1000, 680)
    app = RoomApp(window, menus, server)
    bus = window.app.bus
    assert bus is not None
    bus.subscribe(lambda path, args: app.events.append((path, args)))
    return app


async def stop_room_app(app: RoomApp) -> None:
    await app.window.close()
    await server_quiet(app.server)


async def _no_rooms(store: Store, rooms: set[str]) -> bool:
    return all([await store.room(room_id) is None for room_id in rooms])


async def wait_until_async(
    condition: Callable[[], Awaitable[bool]], timeout: float, message: str
) -> None:
    """Like ``wait_until`` for a condition that has to await (the server's store)."""
    loop = asyncio.get_running_loop()
    deadline = loop.time() + timeout
    while not await condition():
        assert loop.time() < deadline, message
        await asyncio.sleep(0.01)


async def server_quiet(server: RunningServer) -> None:
    """Until every client has gone and the server has sent its last words.

    pytest-qt processes Qt events between test phases, outside the asyncio loop: a
    broadcast still being sent then is never awaited, and the next test fails on it.
    """
    store = server.hub.store

    async def nobody_online() -> bool:
        return not await store.online()

    await wait_until_async(nobody_online, 10, "clients are still online")

    async def no_media_tasks() -> bool:
        return not media_tasks()

    # A peer link still connecting when its room closed ends a moment later; left to the
    # next test's set-up it would run outside the loop (aioice's consent task).
    with contextlib.suppress(AssertionError):
        await wait_until_async(no_media_tasks, 3, "")
    assert not media_tasks(), [t.get_coro() for t in media_tasks()]
    for _ in range(10):  # the offline broadcasts that followed the last disconnect
        await asyncio.sleep(0.01)
