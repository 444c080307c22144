"""The one way Parley shows a modal dialog from async code.

A modal dialog runs a nested event loop (``QDialog.exec``). Started from inside an
asyncio task, that loop would step other tasks while the first one is still executing,
which asyncio refuses. :func:`run_modal` runs the dialog through ``qasync.asyncWrap``
instead: outside any task, with the loop working underneath, its answer awaited.

:class:`Dialogs` holds the application's modal dialogs. ``app/qt`` never imports
``widgets``, so the composition root hands in the functions that build and run them.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import TypeVar

import qasync
from PySide6.QtWidgets import QWidget

from app.kit.types import AudioRoomRole, ConfirmationDialog

__all__ = ["AskConfirmation", "ChooseRoom", "Dialogs", "run_modal"]

T = TypeVar("T")

#: Shows a confirmation modally over ``parent``: True when the user confirms.
AskConfirmation = Callable[[ConfirmationDialog, QWidget | None], bool]
#: Asks which audio room to join (the last one pre-filled) and as what; None to cancel.
ChooseRoom = Callable[[QWidget | None, str], tuple[str, AudioRoomRole] | None]


async def run_modal(show: Callable[[], T]) -> T:
    """Run ``show`` (which shows a modal dialog and returns its answer) off the tasks."""
    result: T = await qasync.asyncWrap(show)
    return result


class Dialogs:
    """The application's modal dialogs, awaitable."""

    def __init__(self, *, confirm: AskConfirmation, choose_room: ChooseRoom) -> None:
        self._confirm = confirm
        self._choose_room = choose_room

    async def confirm(self, texts: ConfirmationDialog, parent: QWidget | None) -> bool:
        """Ask the user to confirm (hang up, leave, remove a speaker …)."""
        return bool(await run_modal(lambda: self._confirm(texts, parent)))

    async def choose_room(
        self, parent: QWidget | None, last_room_id: str = ""
    ) -> tuple[str, AudioRoomRole] | None:
        """Which audio room to join, and as host or audience; None when cancelled."""
        return await run_modal(lambda: self._choose_room(parent, last_room_id))
