"""Recent calls' actions that need a question first."""

from __future__ import annotations

from PySide6.QtCore import QCoreApplication
from PySide6.QtWidgets import QWidget

from app.kit.history.recorder import CallHistory
from app.kit.types import ConfirmationDialog
from app.qt.dialogs import Dialogs

__all__ = ["clear_after_asking"]


def _tr(text: str) -> str:
    return QCoreApplication.translate("history", text)


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
