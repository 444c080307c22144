"""The window's place on the desktop: the tray icon, closing into it, Ctrl+Q, and the
settings window (which the tray's menu opens too)."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import asdict
from typing import TYPE_CHECKING

from PySide6.QtCore import QCoreApplication, Qt
from PySide6.QtGui import QIcon, QKeySequence, QShortcut

from app.kit.autostart import autostart_file, set_autostart
from app.kit.preferences import Preferences, PreferenceStore
from app.qt.account import AccountBridge
from app.qt.navigation import bring_to_front
from app.qt.tray import TrayIcon
from resources import APP_ICON
from widgets.main_window import MainWindow
from widgets.theme import Colors

if TYPE_CHECKING:
    from app.qt.devices import DevicesPresenter

__all__ = ["Desktop"]


def _tr(text: str) -> str:
    return QCoreApplication.translate("Desktop", text)


class Desktop:
    """Shows the window (or only the tray icon), closes it into the tray or quits."""

    def __init__(
        self,
        window: MainWindow,
        bridge: AccountBridge,
        preferences: PreferenceStore,
        colors: Colors,
        *,
        quit_app: Callable[[], None],
        devices: Callable[[], DevicesPresenter | None],
    ) -> None:
        """``quit_app`` begins the orderly shutdown; ``devices`` is the device settings'
        presenter once it is built (the settings window's Devices… needs it)."""
        self._window = window
        self._preferences = preferences
        self._colors = colors
        self._quit = quit_app
        self._devices = devices
        self._told_about_tray = False
        tray = self.tray = TrayIcon(QIcon(str(APP_ICON)), preferences, window.isVisible, window)
        tray.settings_requested.connect(self.open_settings)
        tray.show_requested.connect(lambda: bring_to_front(window))
        tray.hide_requested.connect(window.hide)
        tray.quit_requested.connect(quit_app)
        bridge.signed_in.connect(lambda me: tray.set_signed_in(me.name))
        bridge.signed_out.connect(lambda: tray.set_signed_in(None))
        window.close_requested.connect(self._close_window)
        preferences.subscribe(self._follow)
        # Closing the window may leave Parley in the tray: Ctrl+Q quits from the window.
        QShortcut(QKeySequence(QKeySequence.StandardKey.Quit), window, quit_app)

    def _follow(self, chosen: Preferences) -> None:
        wanted = chosen.start_at_login
        if wanted == autostart_file().is_file():
            return
        try:
            set_autostart(wanted)
        except OSError as error:
            self._window.show_error(_tr("Cannot change starting at log-in: {}").format(error))

    def show(self) -> None:
        """The tray icon (where there is a tray), and the window unless it starts there."""
        self.tray.show()
        if not self.tray.starts_in_tray():
            self._window.show()

    def hide(self) -> None:
        """Leave the tray (Parley is quitting)."""
        self.tray.hide()

    def open_settings(self) -> None:
        """The settings window (the home page's Settings…, the tray's menu)."""
        from app.main.wiring import open_device_settings
        from widgets.settings_dialog import SettingsDialog

        window, colors, preferences = self._window, self._colors, self._preferences
        bring_to_front(window)
        dialog = SettingsDialog(
            preferences.current, colors, tray_available=self.tray.available(), parent=window
        )
        dialog.setAttribute(Qt.WidgetAttribute.WA_DeleteOnClose)
        dialog.changed.connect(lambda chosen: preferences.update(**asdict(chosen)))
        devices = self._devices()
        if devices is not None:
            dialog.devices_requested.connect(lambda: open_device_settings(devices, colors, window))
        dialog.open()

    def _close_window(self) -> None:
        """The window's close button: into the tray (where there is one, if so chosen),
        else quit."""
        if not self.tray.keeps_running():
            self._quit()
            return
        self._window.hide()
        if not self._told_about_tray:
            self._told_about_tray = True
            self.tray.tell(
                _tr("Parley is still running"),
                _tr("Calls still ring here. Quit from this icon's menu."),
            )
