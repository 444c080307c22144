"""The device settings dialog, wired to its presenter, on the offscreen platform.

The lists come from the real PortAudio on the suite's PulseAudio null devices (there is
no camera in CI); the preview runs the synthetic camera and tone, or the real virtual
microphone. Hot-plug is shown with a lister that reports a camera arriving.
"""

from __future__ import annotations

import gc
from collections.abc import AsyncIterator, Callable
from dataclasses import dataclass
from pathlib import Path

import pytest
import pytest_asyncio
from PySide6.QtCore import QObject, Qt
from PySide6.QtTest import QTest
from pytestqt.qtbot import QtBot
from shiboken6 import Shiboken

from app.kit.devices.settings import DeviceChoices, DeviceSettings, MemoryStorage
from app.kit.media import MediaOptions
from app.kit.tasks import TaskKeeper
from app.kit.views.devices import SYSTEM_DEFAULT, DeviceKind, PreviewState
from app.main import connect_device_settings
from app.qt.devices import DevicesPresenter
from app.testing import wait_until
from media.devices import CameraInfo, DeviceSnapshot
from media.portaudio import open_stream_count
from resources import SOUNDS
from tests.support.media_fixtures import require_virtual_audio
from widgets.device_settings_dialog import DeviceSettingsDialog
from widgets.theme import DARK, LIGHT, Colors

TONE = MediaOptions(synthetic=True, tone_hz=440.0)


@dataclass
class Setup:
    dialog: DeviceSettingsDialog
    presenter: DevicesPresenter
    settings: DeviceSettings
    storage: MemoryStorage
    tasks: TaskKeeper

    async def close(self) -> None:
        """Hide the dialog and end every task; idempotent.

        Tests call it before they return: pytest-qt processes events between a test and
        its fixtures' teardown, outside the asyncio loop, which must find no task to step.
        """
        self.dialog.hide()
        await self.presenter.close()
        await self.tasks.close()
        await self.settings.close()
        assert self.tasks.pending == 0


Opener = Callable[..., Setup]


@pytest_asyncio.fixture
async def open_dialog(qtbot: QtBot) -> AsyncIterator[Opener]:
    """Builds the dialog wired to a presenter (as the composition root does) and shows it."""
    made: list[Setup] = []

    def make(
        base: MediaOptions = TONE,
        *,
        colors: Colors = LIGHT,
        lister: Callable[[], DeviceSnapshot] | None = None,
        storage: MemoryStorage | None = None,
        sounds_dir: Path | None = SOUNDS,
    ) -> Setup:
        storage = storage or MemoryStorage()
        # The real lister re-initialises PortAudio on each poll: not too often.
        interval_s = 0.5 if lister is None else 0.05
        settings = DeviceSettings(storage, lister=lister, interval_s=interval_s)
        tasks = TaskKeeper("device settings")
        presenter = DevicesPresenter(settings, tasks, base=base, sounds_dir=sounds_dir)
        # Not qtbot.addWidget: pytest-qt would close it with no loop left to release
        # the devices on; the teardown below hides it while the loop runs.
        dialog = DeviceSettingsDialog(colors)
        connect_device_settings(dialog, presenter)
        setup = Setup(dialog, presenter, settings, storage, tasks)
        made.append(setup)
        dialog.show()
        return setup

    yield make
    for setup in made:
        await setup.close()
        delete_qt_objects(setup.dialog, setup.presenter)


def delete_qt_objects(*objects: QObject) -> None:
    """Destroy ``objects`` now, on this (the GUI) thread.

    The presenter and its preview reference each other (callbacks), so Python frees them
    in a garbage collection, which may run on any thread that allocates: a device poll,
    a capture thread. A QObject destroyed there corrupts Qt's state.
    """
    for obj in objects:
        Shiboken.delete(obj)
    gc.collect()


def items(dialog: DeviceSettingsDialog, kind: DeviceKind) -> list[str]:
    combo = dialog.combos[kind]
    return [combo.itemText(i) for i in range(combo.count())]


def shows_frame(dialog: DeviceSettingsDialog) -> bool:
    return dialog.preview.has_frame


@pytest.mark.audio
async def test_the_lists_show_the_virtual_devices_and_no_camera(open_dialog: Opener) -> None:
    require_virtual_audio()
    setup = open_dialog()
    dialog = setup.dialog
    await wait_until(lambda: "pulse" in items(dialog, DeviceKind.MICROPHONE))
    assert items(dialog, DeviceKind.MICROPHONE)[0] == "System default"
    assert "default" in items(dialog, DeviceKind.MICROPHONE)
    assert items(dialog, DeviceKind.SPEAKER)[0] == "System default"
    assert "pulse" in items(dialog, DeviceKind.SPEAKER)
    cameras = setup.settings.devices.cameras
    if not cameras:  # CI: no camera is a normal state, said plainly
        assert items(dialog, DeviceKind.CAMERA) == ["No camera"]
        assert not dialog.combos[DeviceKind.CAMERA].isEnabled()
    assert dialog.combos[DeviceKind.MICROPHONE].currentText() == "System default"
    assert dialog.test_sound_button.isVisible()
    await setup.close()


@pytest.mark.audio
async def test_choosing_a_device_emits_and_ok_saves_it(open_dialog: Opener) -> None:
    require_virtual_audio()
    setup = open_dialog()
    dialog, presenter = setup.dialog, setup.presenter
    await wait_until(lambda: "pulse" in items(dialog, DeviceKind.MICROPHONE))
    combo = dialog.combos[DeviceKind.MICROPHONE]
    combo.setFocus()
    chosen: list[str] = []
    dialog.microphone_chosen.connect(chosen.append)
    QTest.keyClick(combo, Qt.Key.Key_Down)  # from "System default" to the first device
    assert chosen == [combo.currentData()]
    assert chosen[0] != SYSTEM_DEFAULT
    assert presenter.draft.microphone == chosen[0]
    assert setup.storage.data == {}, "nothing is saved before OK"
    saved: list[MediaOptions] = []
    presenter.saved.connect(saved.append)
    dialog.ok_button.click()
    assert len(saved) == 1
    options = saved[0]
    assert setup.settings.choices.microphone == chosen[0]
    assert setup.storage.data["microphone"] == chosen[0]
    assert isinstance(options, MediaOptions)
    assert options.microphone == combo.currentText()  # the device's name goes to PortAudio
    assert options.synthetic
    await setup.close()


async def test_the_echo_cancellation_box_is_saved_with_the_devices(open_dialog: Opener) -> None:
    setup = open_dialog(lister=lambda: DeviceSnapshot())
    dialog, presenter = setup.dialog, setup.presenter
    box = dialog.voice_processing_box
    assert box.isVisible()
    assert box.isChecked()  # on by default
    box.click()
    assert presenter.draft.voice_processing is False
    assert presenter.view.voice_processing is False
    assert setup.storage.data == {}, "nothing is saved before OK"
    saved: list[MediaOptions] = []
    presenter.saved.connect(saved.append)
    dialog.ok_button.click()
    assert saved[0].voice_processing is False
    assert setup.storage.data["voice_processing"] == "off"
    # A dialog opened on saved choices shows them.
    again = open_dialog(lister=lambda: DeviceSnapshot(), storage=setup.storage)
    assert not again.dialog.voice_processing_box.isChecked()


@pytest.mark.audio
async def test_cancel_drops_the_choice(open_dialog: Opener) -> None:
    require_virtual_audio()
    storage = MemoryStorage({"speaker": "pulse (ALSA)"})
    setup = open_dialog(storage=storage)
    dialog = setup.dialog
    await wait_until(lambda: dialog.combos[DeviceKind.SPEAKER].currentText() == "pulse")
    combo = dialog.combos[DeviceKind.SPEAKER]
    combo.setFocus()
    QTest.keyClick(combo, Qt.Key.Key_Up)
    assert setup.presenter.draft.speaker != "pulse (ALSA)"
    dialog.cancel_button.click()
    assert setup.settings.choices == DeviceChoices(speaker="pulse (ALSA)")
    assert setup.presenter.draft.speaker == "pulse (ALSA)"
    await setup.close()


@pytest.mark.parametrize("colors", [LIGHT, DARK], ids=["light", "dark"])
async def test_the_preview_shows_frames_and_the_level_follows_the_tone(
    open_dialog: Opener, colors: Colors
) -> None:
    setup = open_dialog(TONE, colors=colors)
    dialog = setup.dialog
    await wait_until(lambda: shows_frame(dialog), message="a preview frame")
    assert not dialog.preview_label.isVisible()
    await wait_until(lambda: dialog.level_bar.value() > 60, message="the tone on the bar")
    assert dialog.preview_state(DeviceKind.MICROPHONE) is PreviewState.LIVE
    # Closing the dialog releases the camera and microphone: the bar drops, frames stop.
    dialog.reject()
    await wait_until(
        lambda: (
            setup.presenter.preview_state(DeviceKind.CAMERA) is PreviewState.OFF
            and setup.presenter.preview_state(DeviceKind.MICROPHONE) is PreviewState.OFF
        )
    )
    assert dialog.level_bar.value() == 0
    assert not setup.settings.watching
    await setup.close()


async def test_silence_leaves_the_bar_at_rest(open_dialog: Opener) -> None:
    setup = open_dialog(MediaOptions(synthetic=True))
    dialog = setup.dialog
    await wait_until(lambda: dialog.preview_state(DeviceKind.MICROPHONE) is PreviewState.LIVE)
    await wait_until(lambda: shows_frame(dialog))
    assert dialog.level_bar.value() == 0
    await setup.close()


@pytest.mark.audio
async def test_the_real_microphone_opens_and_closes_with_the_dialog(open_dialog: Opener) -> None:
    require_virtual_audio()
    setup = open_dialog(MediaOptions())
    dialog = setup.dialog
    await wait_until(lambda: dialog.preview_state(DeviceKind.MICROPHONE) is PreviewState.LIVE)
    assert open_stream_count() == 1
    if not setup.settings.devices.cameras:
        assert dialog.preview_state(DeviceKind.CAMERA) is PreviewState.NO_DEVICE
        assert dialog.preview_label.text() == "No camera"
        assert not shows_frame(dialog)
    dialog.reject()
    await wait_until(lambda: open_stream_count() == 0, message="the microphone released")
    await setup.close()


async def test_a_hot_plugged_camera_appears_and_is_previewed(open_dialog: Opener) -> None:
    webcam = CameraInfo(0, "HD Pro Webcam C920")
    devices = {"now": DeviceSnapshot()}
    setup = open_dialog(TONE, lister=lambda: devices["now"])
    dialog = setup.dialog
    await wait_until(lambda: setup.settings.watching)
    assert items(dialog, DeviceKind.CAMERA) == ["No camera"]
    devices["now"] = DeviceSnapshot(cameras=(webcam,))
    await wait_until(lambda: items(dialog, DeviceKind.CAMERA) == [webcam.name])
    assert dialog.combos[DeviceKind.CAMERA].isEnabled()
    assert dialog.combos[DeviceKind.CAMERA].currentText() == webcam.name
    devices["now"] = DeviceSnapshot()
    await wait_until(lambda: items(dialog, DeviceKind.CAMERA) == ["No camera"])
    await setup.close()


@pytest.mark.audio
async def test_saved_choices_apply_once_listed_at_start_up() -> None:
    require_virtual_audio()
    settings = DeviceSettings(MemoryStorage({"microphone": "pulse (ALSA)"}))
    tasks = TaskKeeper("device settings")
    presenter = DevicesPresenter(settings, tasks)
    assert presenter.media_options().microphone is None, "not listed yet: the default"
    presenter.refresh()
    await wait_until(lambda: presenter.media_options().microphone == "pulse")
    await presenter.close()
    await tasks.close()
    await settings.close()
    delete_qt_objects(presenter)


async def test_without_a_test_sound_there_is_no_button(open_dialog: Opener) -> None:
    setup = open_dialog(sounds_dir=None)
    await wait_until(lambda: setup.settings.watching)
    assert not setup.dialog.test_sound_button.isVisible()
    await setup.close()


@pytest.mark.audio
async def test_the_test_sound_button_plays_once(open_dialog: Opener) -> None:
    require_virtual_audio()
    setup = open_dialog()
    dialog = setup.dialog
    await wait_until(lambda: dialog.test_sound_button.isEnabled(), message="the speakers listed")
    playing: list[bool] = []
    setup.presenter.test_sound_changed.connect(playing.append)
    dialog.test_sound_button.click()
    assert playing == [True]
    assert not dialog.test_sound_button.isEnabled()
    assert dialog.test_sound_button.text() == "Playing…"
    await wait_until(lambda: dialog.test_sound_button.isEnabled(), timeout=10)
    assert dialog.test_sound_button.text() == "Play test sound"
    assert playing == [True, False]
    await setup.close()


@pytest.mark.audio
async def test_the_microphone_test_button_records_then_plays_back(open_dialog: Opener) -> None:
    require_virtual_audio()
    setup = open_dialog()
    dialog = setup.dialog
    button = dialog.microphone_test_button
    await wait_until(lambda: button.isEnabled(), message="the microphones listed")
    steps: list[str] = []
    setup.presenter.microphone_test_changed.connect(steps.append)
    button.click()
    await wait_until(lambda: button.text() == "Recording… speak")
    assert not button.isEnabled()
    await wait_until(lambda: button.text() == "Playing it back…", timeout=10)
    await wait_until(lambda: button.text() == "Test microphone", timeout=15)
    assert button.isEnabled()
    assert steps == ["recording", "playing", "idle"]
    await setup.close()
