"""The ringing pages' side of the call presenter: outgoing and incoming views, outcomes,
and the caller's toggles carried into the call the ringing becomes.

:class:`RingingViews` is fed by :class:`~app.qt_call.CallPresenter` (phases, bus
outcomes, the user's toggles) and emits the views the outgoing page, the incoming page,
the banner and the overlay render. It holds no widget.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Callable

from PySide6.QtCore import QObject, Signal

from app.kit.call.invitations import Ringing
from app.kit.config import CallConfig
from app.kit.types import User
from app.kit.views.call import IncomingCallView, OutgoingCallView, OutgoingState

_OUTCOMES = {
    "invitation.on_outgoing_call_declined": OutgoingState.DECLINED,
    "invitation.on_outgoing_call_rejected_cause_busy": OutgoingState.BUSY,
    "invitation.on_outgoing_call_timeout": OutgoingState.NO_ANSWER,
}


class RingingViews(QObject):
    """What the ringing pages show, and what the caller chose there."""

    outgoing_view_changed = Signal(object)
    """``OutgoingCallView`` for the outgoing page (and the overlay while ringing)."""
    incoming_view_changed = Signal(object)
    """``IncomingCallView`` for the banner and the incoming page."""
    outcome_without_ringing = Signal()
    """A call was refused before it rang (busy): show the outgoing page's outcome briefly."""

    def __init__(self, name_of: Callable[[str], str | None], parent: QObject | None = None) -> None:
        super().__init__(parent)
        self._name_of = name_of
        self.outgoing: OutgoingCallView | None = None
        """The outgoing call's view; kept after it ends so its outcome can be shown."""
        # The toggles the caller flipped on the ringing page, for the call it becomes.
        self._choices: dict[str, bool] = {}
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
        self._choices = {}
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
        """The ringing became a call: nothing left to show or carry."""
        self.outgoing = None
        self._choices = {}

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

    def set_toggle(self, **toggles: bool) -> None:
        """The user flipped a toggle while ringing out (ignored when nothing rings out)."""
        if self.outgoing is None:
            return
        self._choices.update(toggles)
        current = self.outgoing
        values = {
            "microphone_on": current.microphone_on,
            "speaker_on": current.speaker_on,
            "camera_on": current.camera_on,
            **toggles,
        }
        self.outgoing = OutgoingCallView(
            callees=current.callees, is_video=current.is_video, state=current.state, **values
        )
        self.outgoing_view_changed.emit(self.outgoing)

    def joining_config(self, config: CallConfig, *, is_video: bool) -> CallConfig:
        """``config`` with the toggles the caller chose while ringing out."""
        choices = self._choices
        if not choices:
            return config
        camera = config.turn_on_camera_when_joining
        if is_video:  # a voice call has no camera to carry
            camera = choices.get("camera_on", camera)
        return dataclasses.replace(
            config,
            turn_on_microphone_when_joining=choices.get(
                "microphone_on", config.turn_on_microphone_when_joining
            ),
            turn_on_camera_when_joining=camera,
            use_speaker_when_joining=choices.get("speaker_on", config.use_speaker_when_joining),
        )
