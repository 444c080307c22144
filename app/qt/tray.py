"""Parley in the desktop's tray: still running while the window is closed, so calls
still ring; the signed-in state and missed calls at a glance; quit from there.

Only where the desktop has a tray (a StatusNotifierItem host on D-Bus, or an XEmbed
tray on X11): elsewhere nothing changes and closing the window quits, as before.
Three preferences are at hand in its menu as in the settings window: do not disturb,
keep running when the window is closed (on by default) and start in the tray (off).
"""

from __future__ import annotations

from collections.abc import Callable

from PySide6.QtCore import QObject, Signal, Slot
from PySide6.QtGui import QAction, QIcon
from PySide6.QtWidgets import QMenu, QSystemTrayIcon

from app.kit.preferences import Preferences, PreferenceStore

__all__ = ["TrayIcon"]


class TrayIcon(QObject):
    """The tray icon and its menu; says what the person chose, never acts on the window
    itself (the composition root connects its signals)."""

    #: Show the window (the icon clicked, "Show Parley", a missed call chosen).
    show_requested = Signal()
    #: "Settings…" chosen.
    settings_requested = Signal()
    #: Hide the window (the icon clicked while the window is shown).
    hide_requested = Signal()
    quit_requested = Signal()

    def __init__(
        self,
        icon: QIcon,
        preferences: PreferenceStore,
        window_shown: Callable[[], bool],
        parent: QObject | None = None,
    ) -> None:
        """``window_shown`` says whether the window is on screen (a click hides it then)."""
        super().__init__(parent)
        self._preferences = preferences
        self._window_shown = window_shown
        self._icon = QSystemTrayIcon(icon, self)
        self._status = self.tr("Not signed in")
        self._missed = 0
        # A tray menu has no parent widget: it must not close with the window.
        self.menu = QMenu()
        self.menu.setObjectName("tray_menu")  # room for its check boxes (the theme)
        self.show_action = self.menu.addAction(self.tr("Show Parley"))
        self.status_action = self.menu.addAction(self._status)
        self.status_action.setEnabled(False)
        self.missed_action = self.menu.addAction("")
        self.missed_action.setVisible(False)
        self.menu.addSeparator()
        self.do_not_disturb_action = self._choice(self.tr("Do not disturb"), "do_not_disturb")
        self.keep_running_action = self._choice(
            self.tr("Keep running when the window is closed"), "keep_running"
        )
        self.start_in_tray_action = self._choice(self.tr("Start in the tray"), "start_in_tray")
        self.settings_action = self.menu.addAction(self.tr("Settings…"))
        self.menu.addSeparator()
        self.quit_action = self.menu.addAction(self.tr("Quit Parley"))
        self.settings_action.triggered.connect(self.settings_requested)
        self.show_action.triggered.connect(self.show_requested)
        self.missed_action.triggered.connect(self.show_requested)
        self.quit_action.triggered.connect(self.quit_requested)
        self._icon.setContextMenu(self.menu)
        self._icon.activated.connect(self._on_activated)
        preferences.subscribe(self._show_preferences)
        self._update_tool_tip()

    def _choice(self, text: str, name: str) -> QAction:
        """A checkable entry for the boolean preference ``name``."""
        action = self.menu.addAction(text)
        action.setCheckable(True)
        action.setChecked(bool(getattr(self._preferences.current, name)))
        action.toggled.connect(lambda on: self._preferences.update(**{name: on}))
        return action

    def _show_preferences(self, preferences: Preferences) -> None:
        # Changed in the settings window: the menu says the same.
        for action, on in (
            (self.do_not_disturb_action, preferences.do_not_disturb),
            (self.keep_running_action, preferences.keep_running),
            (self.start_in_tray_action, preferences.start_in_tray),
        ):
            action.blockSignals(True)
            action.setChecked(on)
            action.blockSignals(False)
        self._update_tool_tip()

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
        return self._icon.isVisible() and self._preferences.current.keep_running

    def starts_in_tray(self) -> bool:
        """Parley starts with its window hidden, in the tray."""
        return self._icon.isVisible() and self._preferences.current.start_in_tray

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
        if self._preferences.current.do_not_disturb:
            lines.append(self.tr("Do not disturb: calls are refused"))
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
