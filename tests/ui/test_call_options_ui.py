"""Call options through the wired window: the default hang-up dialog, the ringing page's
toggles carried into the call, and the audio-output menu (devices of the suite's private
PulseAudio, tests/support/pulse.py)."""

from __future__ import annotations

import dataclasses
from collections.abc import AsyncIterator
from pathlib import Path

import pytest_asyncio
from PySide6.QtCore import Qt
from PySide6.QtGui import QAction
from PySide6.QtTest import QTest
from PySide6.QtWidgets import QApplication, QMenu
from pytestqt.qtbot import QtBot

from app import HANG_UP_DIALOG, CallConfig, CallMenuButton
from app.kit.call.service import preset_for
from app.kit.types import CallEndEvent, CallEndReason
from app.kit.views.outputs import AudioOutputView
from app.testing import wait_until
from media.devices import list_speakers
from media.errors import AudioRoute
from signaling.server.app import RunningServer
from tests.support.media_fixtures import require_virtual_audio
from tests.ui.call_app import BotFactory, CallApp, start_call_app, stop_call_app
from tests.ui.test_call_in_call_ui import call_bob, connected
from widgets.call_page import CallPage
from widgets.confirm_dialog import ConfirmDialog
from widgets.theme import LIGHT


def confirming(is_video: bool, is_group: bool) -> CallConfig:
    """The presets, each asking before hanging up (the seed's per-call config)."""
    return dataclasses.replace(preset_for(is_video, is_group), hang_up_confirmation=HANG_UP_DIALOG)


@pytest_asyncio.fixture
async def careful_alice(server: RunningServer, tmp_path: Path) -> AsyncIterator[CallApp]:
    """Alice's window whose calls confirm hanging up."""
    app = await start_call_app(server, tmp_path / "alice", call_config=confirming)
    yield app
    await stop_call_app(app)


@pytest_asyncio.fixture
async def patient_alice(server: RunningServer, tmp_path: Path) -> AsyncIterator[CallApp]:
    """Alice's window with the default 60 s invitations (time to click while it rings)."""
    app = await start_call_app(server, tmp_path / "alice")
    yield app
    await stop_call_app(app)


def shown_dialogs() -> list[ConfirmDialog]:
    return [
        w for w in QApplication.topLevelWidgets() if isinstance(w, ConfirmDialog) and w.isVisible()
    ]


async def open_dialog(app: CallApp) -> ConfirmDialog:
    """Press the bar's hang-up button; the confirmation dialog it opens."""
    app.click_bar(CallMenuButton.HANG_UP)
    await wait_until(lambda: len(shown_dialogs()) == 1, 5, "no confirmation dialog")
    dialog = shown_dialogs()[0]
    assert QApplication.activeModalWidget() is dialog
    return dialog


async def test_hang_up_confirmation_dialog_cancel_keeps_the_call_confirm_ends_it(
    careful_alice: CallApp, bots: BotFactory
) -> None:
    alice = careful_alice
    bob, page = await call_bob(alice, bots)
    assert page.config.hang_up_confirmation == HANG_UP_DIALOG

    dialog = await open_dialog(alice)
    assert dialog.title_label.text() == HANG_UP_DIALOG.title
    assert dialog.message_label.text() == HANG_UP_DIALOG.message
    assert dialog.parent() is page
    QTest.mouseClick(dialog.cancel_button, Qt.MouseButton.LeftButton)
    await wait_until(lambda: not shown_dialogs(), 5, "the dialog stayed")
    await alice.kit.bus.drain()
    assert alice.current is page  # cancelled: still in the call
    session = alice.kit.session
    assert session is not None
    assert not session.ended.is_set()
    assert bob.session is not None
    assert not alice.fired("call.on_call_end")

    dialog = await open_dialog(alice)
    QTest.mouseClick(dialog.confirm_button, Qt.MouseButton.LeftButton)
    await alice.wait_home()
    assert not shown_dialogs()
    ends = [args[0] for args in alice.fired("call.on_call_end")]
    assert len(ends) == 1
    assert isinstance(ends[0], CallEndEvent)
    assert ends[0].reason is CallEndReason.LOCAL_HANG_UP
    event = await bob.expect("call.on_call_end")
    assert event.args[0].reason is CallEndReason.REMOTE_HANG_UP  # type: ignore[attr-defined]
    await alice.settle(bob)


async def test_ringing_page_toggles_carry_into_the_call(
    patient_alice: CallApp, bots: BotFactory
) -> None:
    alice = patient_alice
    bob = await bots("bob")
    alice.call("bob")
    outgoing = alice.outgoing_page
    await alice.wait_for_page(outgoing)
    QTest.mouseClick(outgoing.camera_button, Qt.MouseButton.LeftButton)
    QTest.mouseClick(outgoing.speaker_button, Qt.MouseButton.LeftButton)
    ringing = outgoing.view
    assert ringing is not None
    assert not ringing.camera_on
    assert not ringing.speaker_on
    assert ringing.microphone_on

    await bob.expect("invitation.on_incoming_call_received")
    await bob.answer()
    page = await alice.wait_for_call_page()
    await wait_until(lambda: alice.tile_names() == ["Alice", "Bob"], 10)
    await connected(alice, bob)
    view = page.view
    assert view is not None
    assert view.is_video  # still a video call, only the camera is off
    assert not view.camera_on
    assert not view.speaker_on
    assert view.microphone_on
    local = view.local_tile
    assert local is not None
    assert not local.camera_on
    assert not page.bottom_bar.buttons[CallMenuButton.TOGGLE_CAMERA].isChecked()
    session = alice.kit.session
    assert session is not None
    assert not session.media.camera_on
    assert session.media.playback.muted
    # The camera never opened: the only camera state Alice published is "off".
    assert alice.fired("call.audio_video.on_camera_state_changed") == [(False,)]
    assert bob.session is not None
    member = bob.session.members["alice"]
    assert not member.camera
    assert member.microphone

    # Turning the camera on in the call shows the self-view and Bob sees it on.
    alice.click_bar(CallMenuButton.TOGGLE_CAMERA)
    await wait_until(lambda: page.view is not None and page.view.camera_on, 5)
    await wait_until(lambda: page.tiles["alice"].video.has_frame, 10, "no self-view")
    await wait_until(lambda: bob.session is not None and bob.session.members["alice"].camera, 10)

    alice.click_bar(CallMenuButton.HANG_UP)
    await alice.wait_home()
    await alice.settle(bob)


async def test_a_call_not_rung_from_the_page_keeps_its_preset(
    patient_alice: CallApp, bots: BotFactory
) -> None:
    """Choices from an earlier ringing page do not leak into a later incoming call."""
    alice = patient_alice
    bob = await bots("bob")
    alice.call("bob")
    outgoing = alice.outgoing_page
    await alice.wait_for_page(outgoing)
    QTest.mouseClick(outgoing.camera_button, Qt.MouseButton.LeftButton)
    QTest.mouseClick(outgoing.cancel_button, Qt.MouseButton.LeftButton)
    await alice.wait_home()
    await alice.settle(bob)

    await bob.call(["alice"])
    await wait_until(alice.banner.isVisible, 10, "no banner")
    QTest.mouseClick(alice.banner.accept_button, Qt.MouseButton.LeftButton)
    page = await alice.wait_for_call_page()
    await wait_until(lambda: alice.tile_names() == ["Alice", "Bob"], 10)
    await connected(alice, bob)
    view = page.view
    assert view is not None
    assert view.camera_on
    assert view.speaker_on
    alice.click_bar(CallMenuButton.HANG_UP)
    await alice.wait_home()
    await alice.settle(bob)


# --- the audio-output menu -------------------------------------------------------------


def device_actions(menu: QMenu) -> list[QAction]:
    return [a for a in menu.actions() if a.isCheckable() and a.objectName() != "muteSpeaker"]


def mute_action(menu: QMenu) -> QAction:
    return next(a for a in menu.actions() if a.objectName() == "muteSpeaker")


def speaker_muted(app: CallApp) -> bool:
    session = app.kit.session
    assert session is not None
    return session.media.playback.muted


async def open_output_menu(app: CallApp) -> QMenu:
    """Press the audio-output button; the menu the page pops once the devices are listed."""
    before = len(app.menus)
    app.click_bar(CallMenuButton.SWITCH_AUDIO_OUTPUT)
    await wait_until(lambda: len(app.menus) > before, 5, "no audio-output menu")
    menu = app.menus[-1]
    assert menu is app.page.audio_output_menu
    return menu


async def test_audio_output_menu_switches_the_device_and_keeps_mute(
    alice: CallApp, bots: BotFactory
) -> None:
    require_virtual_audio()
    speakers = list_speakers()
    assert len(speakers) >= 2  # the null sink through ALSA's "pulse" and "default"
    bob, page = await call_bob(alice, bots)
    button = page.bottom_bar.buttons[CallMenuButton.SWITCH_AUDIO_OUTPUT]

    menu = await open_output_menu(alice)
    devices = device_actions(menu)
    assert [a.data() for a in devices] == [d.index for d in speakers]
    default = next(d for d in speakers if d.is_default)
    assert [a.data() for a in devices if a.isChecked()] == [default.index]
    assert f"{default.name} (system default)" in [a.text() for a in devices]
    assert not mute_action(menu).isChecked()
    assert button.isChecked()  # opening the menu is no speaker toggle
    assert page.view is not None
    assert page.view.speaker_on

    other = next(a for a in devices if a.data() != default.index)
    chosen = other.data()
    other.trigger()
    await wait_until(lambda: bool(alice.fired("call.audio_video.on_audio_output_changed")), 5)
    assert alice.fired("call.audio_video.on_audio_output_changed") == [(AudioRoute.SPEAKER,)]
    menu = await open_output_menu(alice)
    assert [a.data() for a in device_actions(menu) if a.isChecked()] == [chosen]

    mute_action(menu).trigger()  # muting stays reachable from the menu
    await wait_until(lambda: page.view is not None and not page.view.speaker_on, 5)
    assert speaker_muted(alice)
    assert not button.isChecked()  # the button shows the speaker off
    menu = await open_output_menu(alice)
    assert mute_action(menu).isChecked()
    mute_action(menu).trigger()
    await wait_until(lambda: page.view is not None and page.view.speaker_on, 5)
    assert not speaker_muted(alice)

    alice.click_bar(CallMenuButton.HANG_UP)
    await alice.wait_home()
    await alice.settle(bob)


def test_output_menu_without_devices_still_offers_mute(qtbot: QtBot) -> None:
    page = CallPage(preset_for(True, False), LIGHT)
    qtbot.addWidget(page)
    popped: list[QMenu] = []
    page.menu_popper = lambda menu, at: popped.append(menu)
    menu = page.show_audio_output_menu(())
    assert popped == [menu]
    texts = [a.text() for a in menu.actions() if not a.isSeparator()]
    assert texts == ["No output devices found", "Mute speaker"]
    assert not menu.actions()[0].isEnabled()
    with qtbot.waitSignal(page.speaker_toggled) as toggled:
        mute_action(menu).trigger()
    assert toggled.args == [False]

    outputs = (
        AudioOutputView(device=3, name="Desk speakers", is_system_default=True),
        AudioOutputView(device=5, name="USB headset", route=AudioRoute.HEADPHONE, current=True),
    )
    menu = page.show_audio_output_menu(outputs)
    assert [a.text() for a in device_actions(menu)] == [
        "Desk speakers (system default)",
        "USB headset",
    ]
    assert [a.isChecked() for a in device_actions(menu)] == [False, True]
    with qtbot.waitSignal(page.audio_output_chosen) as chosen:
        device_actions(menu)[0].trigger()
    assert chosen.args == [outputs[0]]
