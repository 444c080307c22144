"""Device choices: persisted by stable id, restored, defaults for missing devices, options.

The device lists come from a lister (the lowest seam: what the system reports); the
settings, the hot-plug watcher and the storage above it are real.
"""

from __future__ import annotations

import asyncio
from pathlib import Path

import pytest
from PySide6.QtCore import QSettings

from app.kit.devices.settings import (
    DeviceChoices,
    DeviceSettings,
    MemoryStorage,
    portaudio_query,
)
from app.kit.media import MediaOptions
from app.kit.views.devices import (
    SYSTEM_DEFAULT,
    DeviceKind,
    DeviceListView,
    DeviceOption,
    DeviceSettingsView,
)
from app.qt.settings_storage import QSettingsStorage
from media.camera import VideoPreset
from media.devices import AudioDeviceInfo, CameraInfo, DeviceSnapshot

BUILT_IN = CameraInfo(0, "Integrated Camera")
WEBCAM = CameraInfo(2, "HD Pro Webcam C920")
LAPTOP_MIC = AudioDeviceInfo(3, "HDA Intel PCH: ALC3246 Analog", "ALSA", 2, 48000.0)
DEFAULT_MIC = AudioDeviceInfo(5, "default", "ALSA", 32, 48000.0, is_default=True)
HEADSET = AudioDeviceInfo(7, "Jabra Evolve2 65", "ALSA", 1, 16000.0)
SPEAKERS = AudioDeviceInfo(4, "HDA Intel PCH: ALC3246 Analog", "ALSA", 2, 48000.0)
DEFAULT_OUT = AudioDeviceInfo(5, "default", "ALSA", 32, 48000.0, is_default=True)

EVERYTHING = DeviceSnapshot(
    cameras=(BUILT_IN, WEBCAM),
    microphones=(LAPTOP_MIC, DEFAULT_MIC, HEADSET),
    speakers=(SPEAKERS, DEFAULT_OUT, HEADSET),
)
# The webcam and the headset unplugged; the remaining devices have other indices now.
UNPLUGGED = DeviceSnapshot(
    cameras=(BUILT_IN,),
    microphones=(AudioDeviceInfo(2, LAPTOP_MIC.name, "ALSA", 2, 48000.0), DEFAULT_MIC),
    speakers=(SPEAKERS, DEFAULT_OUT),
)


class Devices:
    """What the system reports; a test changes ``now`` to plug and unplug."""

    def __init__(self, now: DeviceSnapshot) -> None:
        self.now = now
        self.calls = 0

    def __call__(self) -> DeviceSnapshot:
        self.calls += 1
        return self.now


def watching(settings: DeviceSettings) -> bool:
    """Whether it polls, read afresh (mypy would keep an earlier assert's narrowing)."""
    return settings.watching


async def settings_with(
    devices: Devices, storage: MemoryStorage | None = None
) -> tuple[DeviceSettings, MemoryStorage]:
    storage = storage or MemoryStorage()
    settings = DeviceSettings(storage, lister=devices, interval_s=0.01)
    await settings.refresh()
    return settings, storage


async def test_choices_are_saved_as_a_plain_dict_and_restored() -> None:
    devices = Devices(EVERYTHING)
    settings, storage = await settings_with(devices)
    choices = DeviceChoices(camera=WEBCAM.name, microphone="Jabra Evolve2 65 (ALSA)")
    settings.save(choices)
    assert storage.data == {
        "camera": "HD Pro Webcam C920",
        "microphone": "Jabra Evolve2 65 (ALSA)",
        "speaker": "",
        "voice_processing": "on",
    }
    restored, _ = await settings_with(devices, storage)
    assert restored.choices == choices
    assert restored.camera() == WEBCAM
    assert restored.microphone() == HEADSET
    assert restored.speaker() is None  # the system default
    await settings.close()
    await restored.close()


def test_choices_are_persisted_in_qsettings(tmp_path: Path) -> None:
    path = str(tmp_path / "parley.ini")
    choices = DeviceChoices(camera="HD Pro Webcam C920", speaker="pulse (ALSA)")
    QSettingsStorage(QSettings(path, QSettings.Format.IniFormat)).save(choices.to_dict())
    again = QSettingsStorage(QSettings(path, QSettings.Format.IniFormat)).load()
    assert DeviceChoices.from_dict(again) == choices
    assert "[devices]" in Path(path).read_text()


def test_voice_processing_is_on_unless_saved_off() -> None:
    off = DeviceChoices(voice_processing=False)
    assert off.to_dict()["voice_processing"] == "off"
    assert DeviceChoices.from_dict(off.to_dict()) == off
    assert DeviceChoices.from_dict({"voice_processing": "on"}).voice_processing is True
    # Choices saved before the setting existed, or unreadable: on.
    assert DeviceChoices.from_dict({"camera": "x"}).voice_processing is True
    assert DeviceChoices.from_dict({"voice_processing": 0}).voice_processing is True


def test_unreadable_saved_values_mean_the_defaults() -> None:
    assert DeviceChoices.from_dict({"camera": 3, "speaker": None, "other": "x"}) == DeviceChoices()
    assert DeviceChoices.from_dict({}) == DeviceChoices()


async def test_a_missing_device_falls_back_to_the_default_and_is_remembered() -> None:
    devices = Devices(EVERYTHING)
    settings, storage = await settings_with(devices)
    settings.save(
        DeviceChoices(
            camera=WEBCAM.name,
            microphone="Jabra Evolve2 65 (ALSA)",
            speaker="Jabra Evolve2 65 (ALSA)",
        )
    )
    saved = dict(storage.data)
    devices.now = UNPLUGGED
    await settings.refresh()
    assert settings.camera() == BUILT_IN, "the first camera stands in for the missing one"
    assert settings.microphone() is None, "the system default stands in for the headset"
    assert settings.speaker() is None
    view = settings.view()
    assert view.cameras.selected == BUILT_IN.name
    assert view.cameras.missing == WEBCAM.name
    assert view.microphones.selected == SYSTEM_DEFAULT
    assert view.microphones.missing == "Jabra Evolve2 65 (ALSA)"
    assert storage.data == saved, "the choice is kept for when the device is back"
    devices.now = EVERYTHING
    await settings.refresh()
    assert settings.camera() == WEBCAM
    assert settings.microphone() == HEADSET
    assert settings.view().microphones.missing == ""
    await settings.close()


async def test_media_options_apply_the_choices_to_the_base() -> None:
    settings, _ = await settings_with(Devices(EVERYTHING))
    base = MediaOptions(video_preset=VideoPreset.P720, tone_hz=None, microphone="cli-mic")
    settings.save(
        DeviceChoices(
            camera=WEBCAM.name,
            microphone="HDA Intel PCH: ALC3246 Analog (ALSA)",
            speaker="Jabra Evolve2 65 (ALSA)",
        )
    )
    options = settings.media_options(base)
    assert options.camera_index == WEBCAM.index
    # Names, not indices: PortAudio renumbers devices when one comes or goes.
    assert options.microphone == "HDA Intel PCH: ALC3246 Analog"
    assert options.speaker == "Jabra Evolve2 65"
    assert options.video_preset is VideoPreset.P720
    assert options.synthetic is False
    settings.save(DeviceChoices())
    defaults = settings.media_options(base)
    assert defaults.camera_index == BUILT_IN.index
    assert defaults.microphone == "cli-mic", "the default leaves the base's device"
    assert defaults.speaker is None
    await settings.close()


async def test_each_call_gets_the_choices_as_they_are_when_it_starts() -> None:
    devices = Devices(EVERYTHING)
    settings, _ = await settings_with(devices)
    settings.save(DeviceChoices(camera=WEBCAM.name))
    base = MediaOptions(synthetic=True)
    first = settings.local_media("Ann", base)  # a kit's media_factory
    devices.now = UNPLUGGED
    await settings.refresh()
    second = settings.local_media("Ann", base)
    assert first.options.camera_index == WEBCAM.index
    assert second.options.camera_index == BUILT_IN.index
    assert second.options.synthetic
    await first.close()
    await second.close()
    await settings.close()


async def test_no_device_at_all_is_a_normal_state() -> None:
    settings, _ = await settings_with(Devices(DeviceSnapshot()))
    view = settings.view()
    assert view.cameras.empty
    assert view.microphones.empty
    assert view.speakers.empty
    assert settings.camera() is None
    base = MediaOptions(camera_index=0)
    assert settings.media_options(base) == base
    await settings.close()


async def test_devices_with_the_same_name_get_distinct_ids() -> None:
    twin = CameraInfo(4, WEBCAM.name)
    settings, _ = await settings_with(Devices(DeviceSnapshot(cameras=(twin, WEBCAM))))
    view = settings.view()
    assert [o.id for o in view.cameras.options] == [WEBCAM.name, f"{WEBCAM.name} #2"]
    settings.save(DeviceChoices(camera=f"{WEBCAM.name} #2"))
    assert settings.camera() == twin
    await settings.close()


def test_portaudio_query_is_exact_when_names_repeat() -> None:
    pulse_alsa = AudioDeviceInfo(0, "pulse", "ALSA", 2, 48000.0)
    pulse_jack = AudioDeviceInfo(1, "pulse", "JACK Audio Connection Kit", 2, 48000.0)
    assert portaudio_query(pulse_alsa, [pulse_alsa]) == "pulse"
    assert portaudio_query(pulse_jack, [pulse_alsa, pulse_jack]) == (
        "pulse, JACK Audio Connection Kit"
    )


async def test_a_hot_plugged_device_appears_while_watching() -> None:
    devices = Devices(UNPLUGGED)
    settings, _ = await settings_with(devices)
    changes: list[DeviceSettingsView] = []
    changed = asyncio.Event()

    def on_change() -> None:
        changes.append(settings.view())
        changed.set()

    settings.subscribe(on_change)
    settings.start_watching()
    assert watching(settings)
    devices.now = EVERYTHING
    await asyncio.wait_for(changed.wait(), 5)
    assert [o.name for o in changes[-1].cameras.options] == [BUILT_IN.name, WEBCAM.name]
    await settings.stop_watching()
    assert not watching(settings)
    polls = devices.calls
    await asyncio.sleep(0.05)
    assert devices.calls == polls, "no polling after stop_watching"
    await settings.close()


async def test_a_draft_is_viewed_without_being_saved() -> None:
    settings, storage = await settings_with(Devices(EVERYTHING))
    draft = settings.choices.with_choice(DeviceKind.SPEAKER, "Jabra Evolve2 65 (ALSA)")
    assert settings.view(draft).speakers.selected == "Jabra Evolve2 65 (ALSA)"
    assert settings.view().speakers.selected == SYSTEM_DEFAULT
    assert storage.data == {}
    await settings.close()


def test_a_view_must_select_one_of_its_devices() -> None:
    option = DeviceOption("cam", "Cam")
    with pytest.raises(ValueError, match="not among"):
        DeviceListView(DeviceKind.CAMERA, (option,), selected="other")
    with pytest.raises(ValueError, match="no system default"):
        DeviceListView(DeviceKind.CAMERA, (option,))
    with pytest.raises(ValueError, match="expected a camera list"):
        DeviceSettingsView(cameras=DeviceListView(DeviceKind.SPEAKER))
