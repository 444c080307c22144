"""Answering calls by themselves (the preference "Answer calls automatically"): a call
that rings here is accepted after a short ring, so the person hears that it came.

Not while an audio room is open: answering would leave the room without asking.
"""

from __future__ import annotations

from collections.abc import Callable

from PySide6.QtCore import QObject, QTimer, Slot

from app.kit.call.invitations import Phase
from app.kit.preferences import PreferenceStore
from app.qt.call import CallPresenter

__all__ = ["RING_BEFORE_ANSWER_MS", "AutoAnswer"]

#: How long a call rings before it is answered.
RING_BEFORE_ANSWER_MS = 1500


class AutoAnswer(QObject):
    """Accepts the call ringing here when the preference says so."""

    def __init__(
        self,
        calls: CallPresenter,
        preferences: PreferenceStore,
        in_room: Callable[[], bool],
        *,
        ring_ms: int = RING_BEFORE_ANSWER_MS,
        parent: QObject | None = None,
    ) -> None:
        super().__init__(parent)
        self._calls = calls
        self._preferences = preferences
        self._in_room = in_room
        self._timer = QTimer(self)
        self._timer.setSingleShot(True)
        self._timer.setInterval(ring_ms)
        self._timer.timeout.connect(self._answer)
        calls.phase_changed.connect(self._on_phase)

    @Slot(Phase)
    def _on_phase(self, phase: Phase) -> None:
        if phase is not Phase.INCOMING:
            self._timer.stop()
        elif self._preferences.current.auto_answer and not self._in_room():
            self._timer.start()

    def _answer(self) -> None:
        if self._calls.phase is Phase.INCOMING and self._preferences.current.auto_answer:
            self._calls.accept()
