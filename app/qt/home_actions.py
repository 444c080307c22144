"""The home page's actions that need a question first: clearing Recent calls, and a call
button pressed while a call is in progress (which invites into that call)."""

from __future__ import annotations

from collections.abc import Callable

from PySide6.QtCore import QCoreApplication
from PySide6.QtWidgets import QWidget

from app.kit.history.recorder import CallHistory
from app.kit.types import ConfirmationDialog
from app.qt.call import CallPresenter
from app.qt.dialogs import Dialogs

__all__ = ["call_after_asking", "clear_after_asking"]


def _tr(text: str) -> str:
    return QCoreApplication.translate("home", text)


async def call_after_asking(
    calls: CallPresenter,
    dialogs: Dialogs,
    parent: QWidget,
    user_ids: list[str],
    is_video: bool,
    name_of: Callable[[str], str],
) -> bool:
    """Call ``user_ids``; while a call is in progress that invites them into it, so ask
    first (it used to happen without a word from the home page of a minimised call).
    True when the call or invitation was sent."""
    session = calls.session
    if session is not None:
        others = [name_of(uid) for uid in session.members] or [_tr("nobody yet")]
        invited = ", ".join(name_of(uid) for uid in user_ids)
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
