"""The settings window: how Parley behaves for calls, notifications, the desktop and
its colours, with the device settings one button away.

It shows a :class:`~app.kit.preferences.Preferences` and says every change at once
(``changed``), whole; the composition root keeps them and the parts follow. Nothing
waits for an OK button: closing the window loses nothing.
"""

from __future__ import annotations

from dataclasses import replace
from typing import Any

from PySide6.QtCore import Signal
from PySide6.QtWidgets import (
    QCheckBox,
    QComboBox,
    QDialog,
    QHBoxLayout,
    QPushButton,
    QVBoxLayout,
    QWidget,
)

from app.kit.preferences import Preferences, ThemeChoice
from widgets.call_style import call_style_sheet
from widgets.plain_text import PlainLabel
from widgets.theme import Colors


class SettingsDialog(QDialog):
    """Calls, notifications, desktop, appearance; ``devices_requested`` for the rest."""

    #: The preferences as the person just set them.
    changed = Signal(Preferences)
    devices_requested = Signal()

    def __init__(
        self,
        preferences: Preferences,
        colors: Colors,
        *,
        tray_available: bool,
        parent: QWidget | None = None,
    ) -> None:
        super().__init__(parent)
        self.setObjectName("settings_dialog")
        self.setProperty("kind", "page")
        self.setStyleSheet(call_style_sheet(colors))
        self.setWindowTitle(self.tr("Settings"))
        self._preferences = preferences
        title = PlainLabel(self.tr("Settings"), self)
        title.setObjectName("panelTitle")

        self.do_not_disturb_box = self._box(
            "do_not_disturb",
            self.tr("Do not disturb"),
            self.tr("Calls are refused as busy, without a sound; they wait in Recent calls."),
        )
        self.auto_answer_box = self._box(
            "auto_answer",
            self.tr("Answer calls automatically"),
            self.tr("After a short ring; not while you are in an audio room."),
        )
        self.push_to_talk_box = self._box(
            "push_to_talk",
            self.tr("Push to talk: hold Space to speak"),
            self.tr("In a call or on a seat, the microphone is on only while Space is held."),
        )
        self.notifications_box = self._box(
            "call_notifications",
            self.tr("Notify calls while Parley is in the background"),
            self.tr("A desktop notification with Accept and Decline, when the window is away."),
        )
        self.keep_running_box = self._box(
            "keep_running",
            self.tr("Keep running in the tray when the window is closed"),
            self.tr("Calls still ring. Quit from the tray icon's menu or with Ctrl+Q."),
        )
        self.start_in_tray_box = self._box("start_in_tray", self.tr("Start in the tray"))
        self.start_at_login_box = self._box(
            "start_at_login",
            self.tr("Start Parley when I log in"),
            self.tr("So that calls ring from the start of the day."),
        )
        desktop_note = PlainLabel(self.tr("This desktop shows no tray icons."), self)
        desktop_note.setObjectName("panelMuted")
        desktop_note.setVisible(not tray_available)
        for box in (self.keep_running_box, self.start_in_tray_box):
            box.setEnabled(tray_available)

        self.theme_combo = QComboBox(self)
        self.theme_combo.setObjectName("theme_combo")
        self.theme_combo.setAccessibleName(self.tr("Colours"))
        for text, choice in (
            (self.tr("Like the desktop"), ThemeChoice.AUTO),
            (self.tr("Light"), ThemeChoice.LIGHT),
            (self.tr("Dark"), ThemeChoice.DARK),
        ):
            self.theme_combo.addItem(text, choice.value)
        self.theme_combo.setCurrentIndex(self.theme_combo.findData(preferences.theme.value))
        self.theme_combo.currentIndexChanged.connect(self._theme_chosen)
        theme_note = PlainLabel(self.tr("Takes effect the next time Parley starts."), self)
        theme_note.setObjectName("panelMuted")

        self.devices_button = QPushButton(self.tr("Devices…"), self)
        self.devices_button.setObjectName("settings_devices_button")
        self.devices_button.setToolTip(self.tr("Camera, microphone, speaker and echo cancellation"))
        self.devices_button.clicked.connect(self.devices_requested)
        self.close_button = QPushButton(self.tr("Close"), self)
        self.close_button.setDefault(True)
        self.close_button.clicked.connect(self.accept)

        column = QVBoxLayout(self)
        column.setContentsMargins(24, 20, 24, 18)
        column.setSpacing(8)
        column.addWidget(title)
        for heading, widgets in (
            (
                self.tr("CALLS"),
                [self.do_not_disturb_box, self.auto_answer_box, self.push_to_talk_box],
            ),
            (self.tr("NOTIFICATIONS"), [self.notifications_box]),
            (
                self.tr("DESKTOP"),
                [
                    self.start_at_login_box,
                    self.keep_running_box,
                    self.start_in_tray_box,
                    desktop_note,
                ],
            ),
            (self.tr("COLOURS"), [self.theme_combo, theme_note]),
        ):
            section = PlainLabel(heading, self)
            section.setObjectName("section")
            column.addSpacing(6)
            column.addWidget(section)
            for widget in widgets:
                column.addWidget(widget)
        column.addSpacing(10)
        buttons = QHBoxLayout()
        buttons.addWidget(self.devices_button)
        buttons.addStretch(1)
        buttons.addWidget(self.close_button)
        column.addLayout(buttons)
        self.setMinimumWidth(460)
        # Size the window before it is created, so showing it does not resize it again.
        column.activate()

    def _box(self, name: str, text: str, detail: str = "") -> QCheckBox:
        box = QCheckBox(text, self)
        box.setObjectName(f"{name}_box")
        box.setChecked(bool(getattr(self._preferences, name)))
        if detail:
            box.setToolTip(detail)
            box.setAccessibleDescription(detail)
        box.toggled.connect(lambda on: self._set(**{name: on}))
        return box

    def _theme_chosen(self, _index: int) -> None:
        self._set(theme=ThemeChoice(str(self.theme_combo.currentData())))

    def _set(self, **changes: Any) -> None:
        self._preferences = replace(self._preferences, **changes)
        self.changed.emit(self._preferences)
