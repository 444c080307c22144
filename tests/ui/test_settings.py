"""The settings window, as a person uses it: each choice takes effect at once and is
kept; answering by itself; colours at the next start."""

from __future__ import annotations

from pathlib import Path

import pytest
from PySide6.QtWidgets import QApplication, QCheckBox

from app.kit.autostart import launch_command
from app.kit.call.invitations import Phase
from app.kit.preferences import Preferences, ThemeChoice
from app.main import Application
from app.testing import BotFactory, ParleyWindow, WindowFactory, wait_until, window_options
from widgets.device_settings_dialog import DeviceSettingsDialog
from widgets.settings_dialog import SettingsDialog
from widgets.theme import DARK, Colors, apply_theme


async def open_settings(alice: ParleyWindow) -> SettingsDialog:
    alice.click("settings_button")
    window = alice.app.window
    await wait_until(lambda: window.findChild(SettingsDialog) is not None)
    dialog = window.findChild(SettingsDialog)
    assert isinstance(dialog, SettingsDialog)
    await wait_until(dialog.isVisible)
    return dialog


def next_start(alice: ParleyWindow, colors: Colors | None = None) -> Preferences:
    """What Parley reads at its next start on ``alice``'s settings (built, not started:
    its colours are chosen then)."""
    folder = alice.app.options.data_dir
    assert folder is not None
    qt_app = QApplication.instance()
    assert isinstance(qt_app, QApplication)
    again = Application(qt_app, window_options(folder))
    try:
        if colors is not None:
            assert again.colors == colors
        return again.preferences.current
    finally:
        again.window.deleteLater()
        apply_theme(qt_app, alice.app.options.theme)  # back to the test's


def tick(box: QCheckBox) -> None:
    assert box.isVisible()
    assert box.isEnabled()
    box.click()


async def test_do_not_disturb_from_the_settings_refuses_calls_and_is_kept(
    parley_window: WindowFactory, parley_bot: BotFactory
) -> None:
    alice = await parley_window("alice")
    dialog = await open_settings(alice)
    assert not dialog.do_not_disturb_box.isChecked()
    # This platform shows no tray icons: the tray's choices are there, but off.
    assert not dialog.keep_running_box.isEnabled()
    window = alice.app.window
    assert not window.do_not_disturb_label.isVisible()
    tick(dialog.do_not_disturb_box)
    assert alice.app.preferences.current.do_not_disturb
    assert window.do_not_disturb_label.isVisible()  # said while it is on
    call_kit = alice.app.call_kit
    assert call_kit is not None
    assert call_kit.do_not_disturb

    bob = await parley_bot("bob")
    await bob.call(["alice"], video=False)
    await bob.expect("invitation.on_outgoing_call_rejected_cause_busy")
    calls = alice.app.calls
    assert calls is not None
    assert calls.phase is Phase.IDLE
    history = alice.app.history
    assert history is not None
    await wait_until(lambda: history.unseen_missed_count() == 1)

    dialog.close_button.click()
    assert next_start(alice).do_not_disturb  # kept


async def test_a_call_is_answered_by_itself_after_a_short_ring(
    parley_window: WindowFactory, parley_bot: BotFactory
) -> None:
    alice = await parley_window("alice")
    dialog = await open_settings(alice)
    tick(dialog.auto_answer_box)
    dialog.close_button.click()
    bob = await parley_bot("bob")
    await bob.call(["alice"], video=False)
    calls = alice.app.calls
    assert calls is not None
    await wait_until(lambda: calls.phase is Phase.INCOMING)  # it rings first
    await wait_until(lambda: calls.phase is Phase.IN_CALL, timeout=10)
    await bob.expect("call.user.on_enter")
    assert alice.page == "call_page"


async def test_colours_chosen_in_the_settings_are_used_at_the_next_start(
    parley_window: WindowFactory,
) -> None:
    alice = await parley_window("alice")
    dialog = await open_settings(alice)
    dialog.theme_combo.setCurrentIndex(dialog.theme_combo.findData("dark"))
    assert alice.app.preferences.current.theme is ThemeChoice.DARK
    dialog.devices_button.click()  # the device settings are one button away
    window = alice.app.window
    await wait_until(lambda: window.findChild(DeviceSettingsDialog) is not None)
    devices = window.findChild(DeviceSettingsDialog)
    assert devices is not None
    devices.reject()
    dialog.close_button.click()

    assert next_start(alice, colors=DARK) == Preferences(theme=ThemeChoice.DARK)


async def test_start_at_login_writes_and_removes_the_autostart_entry(
    parley_window: WindowFactory, monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    monkeypatch.setenv("XDG_CONFIG_HOME", str(tmp_path / "config"))
    entry = tmp_path / "config" / "autostart" / "parley.desktop"
    alice = await parley_window("alice")
    dialog = await open_settings(alice)
    assert not dialog.start_at_login_box.isChecked()
    tick(dialog.start_at_login_box)
    text = entry.read_text()
    assert "Type=Application" in text
    assert f"Exec={launch_command()}" in text
    tick(dialog.start_at_login_box)
    assert not entry.exists()
    dialog.close_button.click()
