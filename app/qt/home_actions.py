"""The home page's actions that need a question first: clearing Recent calls, and a call
button pressed while a call is in progress (which invites into that call) or in an audio
room (which leaves it); and leaving a room to accept a call."""

from __future__ import annotations

from collections.abc import Callable

from PySide6.QtCore import QCoreApplication
from PySide6.QtWidgets import QWidget

from app.kit.history.recorder import CallHistory
from app.kit.types import ConfirmationDialog
from app.qt.call import CallPresenter
from app.qt.dialogs import Dialogs
from app.qt.room import RoomPresenter

__all__ = ["call_after_asking", "clear_after_asking", "leave_room_for_call"]


def _tr(text: str) -> str:
    return QCoreApplication.translate("home", text)


async def call_after_asking(
    calls: CallPresenter,
    rooms: RoomPresenter,
    dialogs: Dialogs,
    parent: QWidget,
    user_ids: list[str],
    is_video: bool,
    name_of: Callable[[str], str],
) -> bool:
    """Call ``user_ids``; while a call is in progress that invites them into it, and in
    an audio room it means leaving the room (one at a time: the person would hear both),
    so ask first. True when the call or invitation was sent."""
    invited = ", ".join(name_of(uid) for uid in user_ids)
    if rooms.in_room and calls.session is None:
        texts = ConfirmationDialog(
            title=_tr("Leave the audio room?"),
            message=_tr("You are in an audio room. Leave it to call {invited}?").format(
                invited=invited
            ),
            cancel_text=_tr("Stay in the room"),
            confirm_text=_tr("Leave and call"),
        )
        if not await dialogs.confirm(texts, parent) or not await rooms.kit.leave(confirm=False):
            return False
    session = calls.session
    if session is not None:
        others = [name_of(uid) for uid in session.members] or [_tr("nobody yet")]
        texts = ConfirmationDialog(
            title=_tr("Add to your call?"),
            message=_tr("You are in a call with {others}. Invite {invited} into it?").format(
                others=", ".join(others), invited=invited
            ),
            cancel_text=_tr("Cancel"),
            confirm_text=_tr("Add to call"),
        )
        if not await dialogs.confirm(texts, parent):
            return False
    calls.call(user_ids, is_video)
    return True


async def clear_after_asking(history: CallHistory, dialogs: Dialogs, parent: QWidget) -> bool:
    """Ask before clearing Recent calls (saying so when missed calls not looked at yet
    are among them); clear when confirmed. True when cleared."""
    entries = len(history.entries())
    if not entries:
        return False
    unseen = history.unseen_missed_count()
    message = _tr("Every call will be gone from Recent calls on this computer.")
    if unseen:
        message += " " + _tr("Among them: %n missed call(s) you have not looked at yet.").replace(
            "%n", str(unseen)
        )
    texts = ConfirmationDialog(
        title=_tr("Clear Recent calls?"),
        message=message,
        cancel_text=_tr("Keep them"),
        confirm_text=_tr("Clear"),
    )
    if not await dialogs.confirm(texts, parent):
        return False
    history.clear()
    return True


async def leave_room_for_call(rooms: RoomPresenter, status: Callable[[str], None]) -> bool:
    """Before accepting a call: leave the audio room in progress, if any (accepting is the
    person's choice of the call over the room), and say so. False if it could not be left."""
    if not rooms.in_room:
        return True
    if not await rooms.kit.leave(confirm=False):
        return False
    status(_tr("You left the audio room to take the call."))
    return True
