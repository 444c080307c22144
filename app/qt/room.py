"""The room presenter: the audio room kit's changes become views, the page's intents tasks.

:class:`RoomPresenter` follows :meth:`AudioRoomKit.subscribe` and the kit's minimize
controller and emits the immutable :class:`~app.kit.views.audio_room.AudioRoomView` (and
the overlay's :class:`~app.kit.views.call.CallView`) as typed Qt signals; its slots take
the page's intents (``AudioRoomPage``'s signals, see ``docs/audio-room-ui.md``) and run
them on the kit's controller as tasks. It holds no widget. A refused action is reported
by the kit itself (``on_error``, a toast by default); an action with no room in
progress is reported through :attr:`RoomPresenter.error`. Removing a speaker and leaving
one's seat are confirmed first (``confirm``).
"""

from __future__ import annotations

import logging
from collections.abc import Awaitable, Callable
from typing import Any

from PySide6.QtCore import QObject, QTimer, Signal, Slot

from app.kit.audio_room.kit import AudioRoomKit
from app.kit.config.audio_room import AudioRoomConfig
from app.kit.listeners import Unsubscribe
from app.kit.media import LocalMedia, MediaFactory, MediaOptions
from app.kit.room.session import Change
from app.kit.tasks import TaskKeeper
from app.kit.types import ConfirmationDialog, KitException, MinimizeState, User
from app.kit.views.audio_room import AudioRoomView, SeatAction, overlay_view
from app.kit.views.call import CallView
from signaling.client import SignalingClient

log = logging.getLogger("parley.qt.room")

__all__ = ["RoomPresenter", "SeatConfirmation"]

#: Asks the user to confirm a seat action; True to go ahead.
SeatConfirmation = Callable[[ConfirmationDialog], Awaitable[bool]]


async def _approve(texts: ConfirmationDialog) -> bool:
    return True


class RoomPresenter(QObject):
    """Views out (signals), the room page's intents in (slots); one per application."""

    room_started = Signal(AudioRoomConfig)
    """The config of a room being joined: build its page now."""
    view_changed = Signal(AudioRoomView)
    """For the room page."""
    overlay_view_changed = Signal(CallView)
    """The room as the minimize overlay shows it."""
    minimized_changed = Signal(bool)
    error = Signal(str)
    """An action could not even be tried (no room in progress)."""

    def __init__(
        self,
        kit: AudioRoomKit,
        tasks: TaskKeeper,
        *,
        media: MediaOptions | None = None,
        media_factory: MediaFactory = LocalMedia,
        confirm: SeatConfirmation = _approve,
        parent: QObject | None = None,
    ) -> None:
        """``media_factory`` opens each room's devices (the device settings' choices);
        ``confirm`` asks before removing a speaker or leaving one's seat."""
        super().__init__(parent)
        self.kit = kit
        self.controller = kit.controller
        self._tasks = tasks
        self._media = media or MediaOptions()
        self._media_factory = media_factory
        self._confirm = confirm
        self.joining = False
        # Level changes arrive up to 10 times a second per speaker: one render per turn
        # of the loop is enough, whatever changed.
        self._render = QTimer(self)
        self._render.setSingleShot(True)
        self._render.setInterval(0)
        self._render.timeout.connect(self.render)
        self._unsubscribe: list[Unsubscribe] = [
            kit.subscribe(self._on_changed),
            kit.controller.minimize.subscribe(self._on_minimize),
        ]

    @property
    def in_room(self) -> bool:
        """A room is being joined or is in progress."""
        return self.joining or self.kit.session is not None

    # --- joining ----------------------------------------------------------------------

    async def join(
        self, user: User, client: SignalingClient, room_id: str, config: AudioRoomConfig
    ) -> bool:
        """Join ``room_id`` on ``client`` as ``config`` says; False if it failed (the kit
        has published ``on_error``)."""
        self.joining = True
        self.room_started.emit(config)
        try:
            await self.kit.join(
                user,
                client,
                room_id,
                config,
                media=self._media,
                media_factory=self._media_factory,
            )
        except KitException as exc:
            log.info("joining %s failed: %s", room_id, exc)
            return False
        finally:
            self.joining = False
        self.render()
        return True

    # --- what the kit reports ---------------------------------------------------------

    def _on_changed(self, change: Change) -> None:
        if change is not Change.ENDED and not self._render.isActive():
            self._render.start()

    @Slot()
    def render(self) -> None:
        """Emit the room's view now (it also follows every change by itself)."""
        session = self.kit.session
        if session is not None and not session.ended.is_set():
            view = session.view()
            self.view_changed.emit(view)
            self.overlay_view_changed.emit(overlay_view(view))

    def _on_minimize(self, state: MinimizeState) -> None:
        self.minimized_changed.emit(state is MinimizeState.MINIMIZING)

    # --- intents ----------------------------------------------------------------------

    def _run(self, what: str, action: Callable[[], Awaitable[Any]]) -> None:
        async def run() -> None:
            try:
                await action()
            except KitException as exc:
                self.error.emit(exc.error.message or exc.error.code)

        self._tasks.spawn(run(), what)

    @Slot(int)
    def seat_clicked(self, index: int) -> None:
        session = self.kit.session
        if session is not None:
            self._run("report a seat click", lambda: session.seat_clicked(index))

    @Slot(SeatAction, int, str)
    def seat_action(self, action: SeatAction, index: int, user_id: str) -> None:
        """A seat menu's choice on seat ``index`` held by ``user_id``; removing a speaker
        and leaving one's seat are confirmed first."""
        action = SeatAction(action)  # a page may hand over the plain string
        seat = self.controller.seat
        actions: dict[SeatAction, Callable[[], Awaitable[Any]]] = {
            SeatAction.TAKE: lambda: seat.audience.take(index),
            SeatAction.SWITCH: lambda: seat.speaker.switch(index),
            SeatAction.LEAVE: seat.speaker.leave,
            SeatAction.APPLY: seat.audience.apply_to_take,
            SeatAction.CANCEL_APPLY: seat.audience.cancel_taking_request,
            SeatAction.REMOVE: lambda: seat.host.remove_speaker(user_id),
            SeatAction.MUTE: lambda: seat.host.mute(user_id),
            SeatAction.ASK_UNMUTE: lambda: seat.host.ask_unmute(user_id),
            SeatAction.ASSIGN_COHOST: lambda: seat.host.set_cohost(user_id),
            SeatAction.REVOKE_COHOST: seat.host.revoke_cohost,
            SeatAction.LOCK: lambda: seat.host.close(index),
            SeatAction.UNLOCK: lambda: seat.host.open(index),
        }
        run = actions.get(action)
        if run is None:
            return  # CANCEL: the menu closed
        texts = self._confirmation(action, user_id)
        if texts is None:
            self._run(f"seat {index}: {action}", run)
            return

        async def confirmed() -> None:
            if await self._confirm(texts):
                await run()

        self._run(f"seat {index}: {action}", confirmed)

    def _confirmation(self, action: SeatAction, user_id: str) -> ConfirmationDialog | None:
        tr = self.tr
        if action is SeatAction.LEAVE:
            return ConfirmationDialog(
                title=tr("Leave the seat"),
                message=tr("Are you sure to leave the seat?"),
                confirm_text=tr("Leave"),
            )
        if action is SeatAction.REMOVE:
            session = self.kit.session
            name = (session.state.user(user_id).name if session else "") or user_id
            return ConfirmationDialog(
                title=tr("Remove from the seat"),
                message=tr("Are you sure to remove {name} from the seat?").format(name=name),
                confirm_text=tr("Remove"),
            )
        return None

    @Slot()
    def leave_seat(self) -> None:
        """The bottom bar's leave-seat button (confirmed first, as from the seat menu)."""
        self.seat_action(SeatAction.LEAVE, -1, "")

    @Slot(bool)
    def set_microphone(self, on: bool) -> None:
        self._run("turn the microphone on or off", lambda: self._microphone(on))

    async def _microphone(self, on: bool) -> None:
        await self.controller.seat.speaker.turn_microphone_on(on)
        self.render()  # the bar shows what the session really did

    @Slot(bool)
    def set_speaker(self, on: bool) -> None:
        session = self.kit.session
        if session is not None:
            session.set_speaker(on)

    @Slot(bool)
    def lock_all(self, locked: bool) -> None:
        host = self.controller.seat.host
        self._run("lock or unlock the seats", host.close if locked else host.open)

    @Slot()
    def apply(self) -> None:
        self._run("apply for a seat", self.controller.seat.audience.apply_to_take)

    @Slot()
    def cancel_apply(self) -> None:
        self._run("cancel the application", self.controller.seat.audience.cancel_taking_request)

    @Slot(str)
    def agree(self, user_id: str) -> None:
        host = self.controller.seat.host
        self._run("accept a request", lambda: host.accept_taking_request(user_id))

    @Slot(str)
    def disagree(self, user_id: str) -> None:
        host = self.controller.seat.host
        self._run("reject a request", lambda: host.reject_taking_request(user_id))

    @Slot(str)
    def invite(self, user_id: str) -> None:
        host = self.controller.seat.host
        self._run("invite to a seat", lambda: host.invite_to_take(user_id))

    @Slot(str)
    def kick(self, user_id: str) -> None:
        """Remove ``user_id`` from the room (asked first); they see why it ended."""
        session = self.kit.session
        name = (session.state.user(user_id).name if session else "") or user_id
        texts = ConfirmationDialog(
            title=self.tr("Remove from the room"),
            message=self.tr("Remove {name} from the room?").format(name=name),
            confirm_text=self.tr("Remove"),
        )
        users = self.controller.user

        async def confirmed() -> None:
            if await self._confirm(texts):
                await users.kick(user_id)

        self._run("remove from the room", confirmed)

    @Slot(str)
    def member_clicked(self, user_id: str) -> None:
        session = self.kit.session
        if session is not None:
            self._run("report a member click", lambda: session.member_clicked(user_id))

    @Slot(str)
    def member_more_pressed(self, user_id: str) -> None:
        session = self.kit.session
        if session is not None:
            self._run("report a more button", lambda: session.member_more_pressed(user_id))

    @Slot(str)
    def send_message(self, text: str) -> None:
        self._run("send a message", lambda: self.controller.message.send(text))

    @Slot(str)
    def resend_message(self, message_id: str) -> None:
        self._run("resend a message", lambda: self.controller.message.resend(message_id))

    @Slot(str)
    def message_clicked(self, message_id: str) -> None:
        session = self.kit.session
        if session is not None:
            self._run("report a message click", lambda: session.message_clicked(message_id))

    @Slot(str)
    def message_long_pressed(self, message_id: str) -> None:
        session = self.kit.session
        if session is not None:
            self._run("report a long press", lambda: session.message_long_pressed(message_id))

    @Slot()
    def accept_invitation(self) -> None:
        audience = self.controller.seat.audience
        self._run("accept the invitation", audience.accept_taking_invitation)

    @Slot()
    def decline_invitation(self) -> None:
        audience = self.controller.seat.audience
        self._run("decline the invitation", audience.decline_taking_invitation)

    @Slot()
    def minimize(self) -> None:
        self.controller.minimize.minimize()

    @Slot()
    def restore(self) -> None:
        self.controller.minimize.restore()

    @Slot()
    def leave(self) -> None:
        """Leave the room; ``on_leave_confirmation`` (a dialog by default) may veto it."""
        self._run("leave the room", lambda: self.controller.room.leave(show_confirmation=True))

    async def close(self) -> None:
        """Leave without asking and sign out what the kit opened (the app's shutdown)."""
        self._render.stop()
        for unsubscribe in self._unsubscribe:
            unsubscribe()
        await self.kit.close()
