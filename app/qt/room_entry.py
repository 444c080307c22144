"""Into an audio room from the home page: back to the room in progress, or ask and join."""

from __future__ import annotations

from collections.abc import Callable

from PySide6.QtCore import QObject, Slot

from app.kit.config.audio_room import AudioRoomConfig
from app.kit.tasks import TaskKeeper
from app.kit.types import AudioRoomRole, User
from app.qt.account import AccountBridge
from app.qt.defaults import StatusLine
from app.qt.dialogs import Dialogs
from app.qt.navigation import Navigator
from app.qt.room import RoomPresenter

__all__ = ["RoomEntry"]


class RoomEntry(QObject):
    """The home page's audio-room button, and joining a room by ID and role."""

    def __init__(
        self,
        rooms: RoomPresenter,
        bridge: AccountBridge,
        navigator: Navigator,
        dialogs: Dialogs,
        status: StatusLine,
        tasks: TaskKeeper,
        *,
        busy: Callable[[], bool] = lambda: False,
        parent: QObject | None = None,
    ) -> None:
        """``busy`` says whether a call is in progress (a room then waits for it to end)."""
        super().__init__(parent)
        self._rooms = rooms
        self._bridge = bridge
        self._navigator = navigator
        self._dialogs = dialogs
        self._status = status
        self._tasks = tasks
        self._busy = busy
        self._last_room_id = ""

    @Slot()
    def request(self, room_id: str = "") -> None:
        """The home page's room button: back to the room in progress, or ask which room
        (``room_id`` filled in: a ``parley://room/…`` link)."""
        if self._rooms.in_room:
            self._rooms.restore()
            self._navigator.show_room_page()
            if room_id:
                self._status.show_notice(
                    self.tr("Leave this room first to join {}.").format(room_id)
                )
            return
        if self._busy():
            self._status.show_notice(self.tr("Hang up the call before joining a room."))
            return
        self._tasks.spawn(self._ask_and_join(room_id or self._last_room_id), "join an audio room")

    async def _ask_and_join(self, room_id: str) -> None:
        answer = await self._dialogs.choose_room(self._navigator.window, room_id)
        if answer is not None:
            await self.join(*answer)

    async def join(
        self, room_id: str, role: AudioRoomRole, config: AudioRoomConfig | None = None
    ) -> bool:
        """Join ``room_id`` as ``role`` (the role's preset unless ``config`` is given)."""
        account = self._bridge.account
        client = account.client if account is not None else None
        me = self._bridge.me
        if client is None or me is None:
            self._status.show_notice(self.tr("Sign in before joining a room."))
            return False
        if self._rooms.in_room:
            await self._rooms.kit.leave(confirm=False)
        self._last_room_id = room_id
        if config is None:
            host = role is AudioRoomRole.HOST
            config = AudioRoomConfig.host() if host else AudioRoomConfig.audience()
        joined = await self._rooms.join(User(me.user_id, me.name), client, room_id, config)
        if not joined:
            self._navigator.end_room()
        return joined
