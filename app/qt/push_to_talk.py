"""Push to talk (the preference): in a call, or on a seat in an audio room, the
microphone is on only while Space is held down in Parley's window.

A call joins with the microphone off (one that starts without ringing, a group call
placed here, turns it off as it starts). Space typed into a text field (the chat) is text,
not talk; key repeat while held changes nothing. Global push-to-talk (with another
application in front) is not offered.
"""

from __future__ import annotations

from PySide6.QtCore import QEvent, QObject, Qt, Slot
from PySide6.QtGui import QKeyEvent
from PySide6.QtWidgets import (
    QAbstractSpinBox,
    QApplication,
    QLineEdit,
    QPlainTextEdit,
    QTextEdit,
    QWidget,
)

from app.kit.call.invitations import Phase
from app.kit.preferences import Preferences, PreferenceStore
from app.kit.types import AudioRoomRole
from app.qt.call import CallPresenter
from app.qt.room import RoomPresenter

__all__ = ["TALK_KEY", "PushToTalk"]

TALK_KEY = Qt.Key.Key_Space
_TYPING = (QLineEdit, QTextEdit, QPlainTextEdit, QAbstractSpinBox)


class PushToTalk(QObject):
    """Turns the microphone on while the talk key is held, off when it is let go."""

    def __init__(
        self,
        window: QWidget,
        calls: CallPresenter,
        rooms: RoomPresenter,
        preferences: PreferenceStore,
    ) -> None:
        super().__init__(window)
        self._window = window
        self._calls = calls
        self._rooms = rooms
        self._preferences = preferences
        self.talking = False
        calls.phase_changed.connect(self._on_phase)
        calls.call_started.connect(self._silence)
        # The application sees every key first, wherever the focus is in the window; it
        # also sees every other event, so the filter is there only while the preference
        # is on (Qt drops it with this object, a child of the window).
        self._filtering = False
        self._follow(preferences.current)
        preferences.subscribe(self._follow)

    def _follow(self, preferences: Preferences) -> None:
        app = QApplication.instance()
        assert app is not None
        if preferences.push_to_talk and not self._filtering:
            app.installEventFilter(self)
        elif not preferences.push_to_talk and self._filtering:
            app.removeEventFilter(self)
        self._filtering = preferences.push_to_talk

    @Slot(Phase)
    def _on_phase(self, phase: Phase) -> None:
        # While it rings: the call then joins with the microphone off (the ringing
        # page's toggle), silent until the key is held.
        if phase in (Phase.OUTGOING, Phase.INCOMING):
            self._silence()

    def _silence(self, _config: object = None) -> None:
        # Also when a call starts without ringing first (a group call placed here).
        if self._preferences.current.push_to_talk:
            self.talking = False
            self._calls.set_microphone(False)

    def eventFilter(self, watched: QObject, event: QEvent) -> bool:  # noqa: N802
        kind = event.type()
        if kind not in (QEvent.Type.KeyPress, QEvent.Type.KeyRelease):
            return False
        if not isinstance(event, QKeyEvent) or event.key() != TALK_KEY or event.isAutoRepeat():
            return False
        if QApplication.activeWindow() is not self._window or isinstance(
            QApplication.focusWidget(), _TYPING
        ):
            return False
        if not self._can_talk():
            return False
        self._talk(kind == QEvent.Type.KeyPress)
        return True  # Space must not also press the button that has the focus

    def _can_talk(self) -> bool:
        if self._calls.phase is Phase.IN_CALL:
            return True
        session = self._rooms.kit.session
        return session is not None and session.view().local_role in (
            AudioRoomRole.HOST,
            AudioRoomRole.SPEAKER,
        )

    def _talk(self, on: bool) -> None:
        if on == self.talking:
            return
        self.talking = on
        if self._calls.phase is Phase.IN_CALL:
            self._calls.set_microphone(on)
        else:
            self._rooms.set_microphone(on)
