"""Every default action of the bus, in one place: what happens when no hook says otherwise.

:class:`DefaultActions` installs, for both kits: the hang-up and leave confirmation
dialogs, the navigation when a call or room ends (back to the page shown before, or the
overlay hidden), error toasts (on the call or room page when it is shown, else in the
window's status line), and toasts for remote device failures. An integrator's hook in
the events objects replaces any of them (``default_action`` lets it run them too).
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Protocol

from PySide6.QtCore import QObject

from app.kit.bus import EventBus
from app.kit.call.invitations import USER_OFFLINE
from app.kit.minimize import MinimizeController
from app.kit.types import (
    AudioRoomEndEvent,
    AudioRoomEndReason,
    CallEndEvent,
    HangUpConfirmationEvent,
    KitError,
    LeaveConfirmationEvent,
)
from app.qt.dialogs import Dialogs
from app.qt.navigation import Navigator
from media.errors import DeviceExceptionType

__all__ = ["DefaultActions", "StatusLine"]


class StatusLine(Protocol):
    """The window's status line."""

    def show_error(self, text: str) -> None: ...

    def show_notice(self, text: str) -> None: ...


class DefaultActions(QObject):
    """The kit's default actions for the window (QObject for ``tr``)."""

    def __init__(
        self,
        bus: EventBus,
        navigator: Navigator,
        dialogs: Dialogs,
        status: StatusLine,
        *,
        call_minimize: MinimizeController,
        room_minimize: MinimizeController,
        room_joining: Callable[[], bool] | None = None,
        parent: QObject | None = None,
    ) -> None:
        super().__init__(parent)
        self._navigator = navigator
        self._dialogs = dialogs
        self._status = status
        self._call_minimize = call_minimize
        self._room_minimize = room_minimize
        self._room_joining = room_joining or (lambda: False)
        call, invitation, room = bus.call, bus.invitation, bus.audio_room
        call.set_end_default(lambda e: e.on_call_end, self.end_call)
        call.set_confirm_default(lambda e: e.on_hang_up_confirmation, self.confirm_hang_up)
        room.set_end_default(lambda e: e.on_ended, self.end_room)
        room.set_confirm_default(lambda e: e.on_leave_confirmation, self.confirm_leave)
        for channel in (call, invitation, room):
            channel.set_default(lambda e: e.on_error, self.show_kit_error)
        # An application for a seat nobody can answer (the host left): say so, instead
        # of a button that seems to do nothing.
        room.set_default(
            lambda e: e.seat.audience.on_taking_request_failed,
            lambda: self.show_message(
                self.tr(
                    "Your request to speak did not reach a host: there is none in the room now."
                )
            ),
        )
        # Seats opened (by the host, or because the host and co-host left and nobody
        # could let anyone speak): a listener would not know they may simply sit down.
        room.set_default(lambda e: e.seat.on_opened, self.seats_opened)
        # A device problem is told to its owner, in plain words; the others see its
        # effect on the tile (no picture, the microphone off), not a red toast in the
        # device layer's words (the remote events still fire for integrators).
        call.set_default(
            lambda e: e.audio_video.on_local_camera_exception_occurred,
            lambda kind: self.own_device_failed("camera", kind),
        )
        call.set_default(
            lambda e: e.audio_video.on_local_microphone_exception_occurred,
            lambda kind: self.own_device_failed("microphone", kind),
        )

    # --- the ends ---------------------------------------------------------------------

    def end_call(self, event: CallEndEvent) -> None:
        """``on_call_end``: back to the page shown before, or the overlay hidden."""
        self._navigator.end_call()
        self._call_minimize.hide()

    def end_room(self, event: AudioRoomEndEvent) -> None:
        """``on_ended``: back to the page shown before, or the overlay hidden."""
        self._navigator.end_room()
        self._room_minimize.hide()
        if event.reason is AudioRoomEndReason.KICK_OUT:
            self._status.show_notice(self.tr("You were removed from the room."))

    # --- confirmations ----------------------------------------------------------------

    async def confirm_hang_up(self, event: HangUpConfirmationEvent) -> bool:
        """``on_hang_up_confirmation``: the configured dialog, or yes when there is none."""
        if event.dialog is None:
            return True
        parent = self._navigator.call_page or self._navigator.window
        return await self._dialogs.confirm(event.dialog, parent)

    async def confirm_leave(self, event: LeaveConfirmationEvent) -> bool:
        """``on_leave_confirmation``: the configured dialog, or yes when there is none."""
        page = self._navigator.room_page
        if event.dialog is None or page is None:
            return True
        return await self._dialogs.confirm(event.dialog, page)

    # --- messages ---------------------------------------------------------------------

    def show_kit_error(self, error: KitError) -> None:
        """``on_error`` of every kit; an invitee who is not online is news, not a failure."""
        if error.code != USER_OFFLINE:
            self.show_message(error.message or error.code)
        elif not self._navigator.toast(error.message):  # a group call goes on: its page
            self._status.show_notice(error.message)

    def own_device_failed(self, device: str, kind: DeviceExceptionType | None) -> None:
        """This user's camera or microphone failed: say what happened and what to do."""
        self.show_message(self._device_problem_text(device, kind))

    def _device_problem_text(self, device: str, kind: DeviceExceptionType | None) -> str:
        camera = device == "camera"
        texts = {
            DeviceExceptionType.INVALID_ID: (
                self.tr("Your camera is not there any more. Choose one in Devices.")
                if camera
                else self.tr("Your microphone is not there any more. Choose one in Devices.")
            ),
            DeviceExceptionType.DEVICE_UNPLUGGED: (
                self.tr("Your camera was unplugged.")
                if camera
                else self.tr("Your microphone was unplugged.")
            ),
            DeviceExceptionType.DEVICE_OCCUPIED: (
                self.tr("Another program is using your camera.")
                if camera
                else self.tr("Another program is using your microphone.")
            ),
            DeviceExceptionType.PERMISSION_NOT_GRANTED: (
                self.tr("Parley may not use your camera: check the system's privacy settings.")
                if camera
                else self.tr(
                    "Parley may not use your microphone: check the system's privacy settings."
                )
            ),
            DeviceExceptionType.ZERO_CAPTURE_FPS: (
                self.tr("Your camera sends no picture. Choose another one in Devices.")
                if camera
                else self.tr("Your microphone sends no sound. Choose another one in Devices.")
            ),
        }
        fallback = (
            self.tr("Your camera stopped working.")
            if camera
            else self.tr("Your microphone stopped working.")
        )
        return texts.get(kind or DeviceExceptionType.UNKNOWN, fallback)

    def seats_opened(self) -> None:
        """``seat.on_opened``: the status line says anyone may sit down now (news, not
        an error: no red toast)."""
        self._status.show_notice(self.tr("The seats are open: anyone may take a free seat."))

    def show_message(self, text: str) -> None:
        """A toast on the call or room page when it is shown, else the status line."""
        navigator = self._navigator
        # While a room is being joined its page is empty: the status line says it better.
        joining = navigator.session_page_shown() is navigator.room_page and self._room_joining()
        if joining or not navigator.toast(text):
            self._status.show_error(text)
