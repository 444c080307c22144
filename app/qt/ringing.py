"""The ringing pages' side of the call presenter: outgoing and incoming views, outcomes,
and the caller's toggles, which the kit carries into the call the ringing becomes.

:class:`RingingViews` is fed by :class:`~app.qt.call.CallPresenter` (phases, bus
outcomes, the user's toggles) and emits the views the outgoing page, the incoming page,
the banner and the overlay render. It holds no widget.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Callable

from PySide6.QtCore import QObject, Signal

from app.kit.call.invitations import Ringing
from app.kit.call.service import CallInvitationService
from app.kit.types import User
from app.kit.views.call import IncomingCallView, OutgoingCallView, OutgoingState

_OUTCOMES = {
    "invitation.on_outgoing_call_declined": OutgoingState.DECLINED,
    "invitation.on_outgoing_call_rejected_cause_busy": OutgoingState.BUSY,
    "invitation.on_outgoing_call_timeout": OutgoingState.NO_ANSWER,
}


class RingingViews(QObject):
    """What the ringing pages show, and what the caller chose there."""

    outgoing_view_changed = Signal(OutgoingCallView)
    """For the outgoing page (and the overlay while ringing)."""
    incoming_view_changed = Signal(IncomingCallView)
    """For the banner and the incoming page."""
    outcome_without_ringing = Signal()
    """A call was refused before it rang (busy): show the outgoing page's outcome briefly."""

    def __init__(
        self,
        kit: CallInvitationService,
        name_of: Callable[[str], str | None],
        parent: QObject | None = None,
    ) -> None:
        super().__init__(parent)
        self._kit = kit
        self._name_of = name_of
        self.outgoing: OutgoingCallView | None = None
        """The outgoing call's view; kept after it ends so its outcome can be shown."""
        self._last_is_video = True

    def named(self, user: User) -> User:
        """``user`` with a display name (invitations carry only IDs)."""
        if user.name and user.name != user.id:
            return user
        return User(user.id, self._name_of(user.id) or user.id)

    def calling(self, is_video: bool) -> None:
        """The user placed a call (the home page's buttons)."""
        self._last_is_video = is_video
        self.outgoing = None

    def ring_out(self, ringing: Ringing) -> None:
        """A one-to-one call rings out: a fresh outgoing view, toggles all on."""
        self.outgoing = OutgoingCallView(
            callees=tuple(self.named(u) for u in ringing.callees), is_video=ringing.is_video
        )
        self.outgoing_view_changed.emit(self.outgoing)

    def ring_in(self, ringing: Ringing) -> None:
        """A call rings here."""
        self.incoming_view_changed.emit(
            IncomingCallView(
                call_id=ringing.call_id,
                caller=ringing.caller,
                is_video=ringing.is_video,
                invitees=ringing.callees,
                custom_data=ringing.custom_data,
            )
        )

    def call_began(self) -> None:
        """The ringing became a call: nothing left to show."""
        self.outgoing = None

    def on_bus_event(self, path: str, args: tuple[object, ...], *, idle: bool) -> None:
        """Show a declined, busy or unanswered outcome (called outside a call only)."""
        outcome = _OUTCOMES.get(path)
        if outcome is None:
            return
        if self.outgoing is not None:
            self.outgoing = dataclasses.replace(self.outgoing, state=outcome)
            self.outgoing_view_changed.emit(self.outgoing)
        elif idle and len(args) > 1 and isinstance(args[1], User):
            # Refused at once (busy): it never rang, but the caller should see why.
            view = OutgoingCallView(
                callees=(self.named(args[1]),), is_video=self._last_is_video, state=outcome
            )
            self.outgoing_view_changed.emit(view)
            self.outcome_without_ringing.emit()

    def set_toggle(
        self,
        *,
        microphone: bool | None = None,
        camera: bool | None = None,
        speaker: bool | None = None,
    ) -> None:
        """The user flipped a toggle while ringing out (ignored when nothing rings out):
        the kit joins the call with it."""
        if self.outgoing is None:
            return
        choices = {
            name: value
            for name, value in (
                ("microphone", microphone),
                ("camera", camera),
                ("speaker", speaker),
            )
            if value is not None
        }
        self._kit.choose_joining_devices(**choices)
        current = self.outgoing
        self.outgoing = dataclasses.replace(
            current,
            microphone_on=current.microphone_on if microphone is None else microphone,
            camera_on=current.camera_on if camera is None else camera,
            speaker_on=current.speaker_on if speaker is None else speaker,
        )
        self.outgoing_view_changed.emit(self.outgoing)
