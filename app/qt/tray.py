"""Parley in the desktop's tray: still running while the window is closed, so calls
still ring; the signed-in state and missed calls at a glance; quit from there.

Only where the desktop has a tray (a StatusNotifierItem host on D-Bus, or an XEmbed
tray on X11): elsewhere nothing changes and closing the window quits, as before.
Two choices live in the tray's menu and in the settings: keep running when the window
is closed (on by default) and start in the tray (off).
"""

from __future__ import annotations

from collections.abc import Callable

from PySide6.QtCore import QObject, QSettings, Signal, Slot
from PySide6.QtGui import QAction, QIcon
from PySide6.QtWidgets import QMenu, QSystemTrayIcon

__all__ = ["KEEP_RUNNING_KEY", "START_IN_TRAY_KEY", "TrayIcon"]

KEEP_RUNNING_KEY = "desktop/keep_running"
START_IN_TRAY_KEY = "desktop/start_in_tray"


class TrayIcon(QObject):
    """The tray icon and its menu; says what the person chose, never acts on the window
    itself (the composition root connects its signals)."""

    #: Show the window (the icon clicked, "Show Parley", a missed call chosen).
    show_requested = Signal()
    #: Hide the window (the icon clicked while the window is shown).
    hide_requested = Signal()
    quit_requested = Signal()

    def __init__(
        self,
        icon: QIcon,
        settings: QSettings,
        window_shown: Callable[[], bool],
        parent: QObject | None = None,
    ) -> None:
        """``window_shown`` says whether the window is on screen (a click hides it then)."""
        super().__init__(parent)
        self._settings = settings
        self._window_shown = window_shown
        self._icon = QSystemTrayIcon(icon, self)
        self._status = self.tr("Not signed in")
        self._missed = 0
        # A tray menu has no parent widget: it must not close with the window.
        self.menu = QMenu()
        self.show_action = self.menu.addAction(self.tr("Show Parley"))
        self.status_action = self.menu.addAction(self._status)
        self.status_action.setEnabled(False)
        self.missed_action = self.menu.addAction("")
        self.missed_action.setVisible(False)
        self.menu.addSeparator()
        self.keep_running_action = self._choice(
            self.tr("Keep running when the window is closed"), KEEP_RUNNING_KEY, default=True
        )
        self.start_in_tray_action = self._choice(
            self.tr("Start in the tray"), START_IN_TRAY_KEY, default=False
        )
        self.menu.addSeparator()
        self.quit_action = self.menu.addAction(self.tr("Quit Parley"))
        self.show_action.triggered.connect(self.show_requested)
        self.missed_action.triggered.connect(self.show_requested)
        self.quit_action.triggered.connect(self.quit_requested)
        self._icon.setContextMenu(self.menu)
        self._icon.activated.connect(self._on_activated)
        self._update_tool_tip()

    def _choice(self, text: str, key: str, *, default: bool) -> QAction:
        action = self.menu.addAction(text)
        action.setCheckable(True)
        action.setChecked(_flag(self._settings.value(key, default)))
        action.toggled.connect(lambda on: self._settings.setValue(key, on))
        return action

    @staticmethod
    def available() -> bool:
        """Whether the desktop shows tray icons."""
        return QSystemTrayIcon.isSystemTrayAvailable()

    def show(self) -> None:
        """Put the icon in the tray, where there is one."""
        if self.available():
            self._icon.show()

    def hide(self) -> None:
        self._icon.hide()

    def keeps_running(self) -> bool:
        """Closing the window leaves Parley running in the tray."""
        return self._icon.isVisible() and self.keep_running_action.isChecked()

    def starts_in_tray(self) -> bool:
        """Parley starts with its window hidden, in the tray."""
        return self._icon.isVisible() and self.start_in_tray_action.isChecked()

    def tell(self, title: str, text: str) -> None:
        """A short message from the tray icon (the desktop's notification)."""
        self._icon.showMessage(title, text, QSystemTrayIcon.MessageIcon.Information, 8000)

    def set_signed_in(self, name: str | None) -> None:
        """Who is signed in (None: nobody)."""
        self._status = self.tr("{} · online").format(name) if name else self.tr("Not signed in")
        self.status_action.setText(self._status)
        self._update_tool_tip()

    @Slot(int)
    def set_missed(self, count: int) -> None:
        """Missed calls not looked at yet."""
        self._missed = count
        self.missed_action.setText(self._missed_text())
        self.missed_action.setVisible(count > 0)
        self._update_tool_tip()

    def _missed_text(self) -> str:
        if self._missed == 1:
            return self.tr("1 missed call")
        return self.tr("%n missed calls", "", self._missed)

    def _update_tool_tip(self) -> None:
        lines = [f"Parley · {self._status}"]
        if self._missed:
            lines.append(self._missed_text())
        self._icon.setToolTip("\n".join(lines))

    def _on_activated(self, reason: QSystemTrayIcon.ActivationReason) -> None:
        if reason is not QSystemTrayIcon.ActivationReason.Trigger:
            return  # the context menu opens by itself
        if self._window_shown():
            self.hide_requested.emit()
        else:
            self.show_requested.emit()


def _flag(value: object) -> bool:
    # QSettings hands back "true"/"false" strings from INI files.
    return value in (True, "true", "1", 1)
