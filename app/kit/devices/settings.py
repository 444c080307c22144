"""Which camera, microphone and speaker to use, remembered across runs, and their preview.

:class:`DeviceSettings` keeps the user's choices by stable id (a device's name, not the
system's index, which shifts when devices come and go), persists them as a plain dict
through a :class:`SettingsStorage`, follows hot-plug through a
:class:`~media.devices.DeviceWatcher` and turns the choices into :class:`MediaOptions`.
A chosen device that is not connected is remembered but not used: the default stands
in until it is back. The settings page's live preview is
:class:`~app.kit.devices.preview.DevicePreview`. No Qt here; :mod:`app.qt.devices`
puts both on Qt signals.
"""

from __future__ import annotations

import logging
from collections import Counter
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, replace
from typing import Any, Protocol

from app.kit.listeners import Listeners, Unsubscribe
from app.kit.media import LocalMedia, MediaOptions
from app.kit.views.devices import (
    SYSTEM_DEFAULT,
    DeviceKind,
    DeviceListView,
    DeviceOption,
    DeviceSettingsView,
)
from media.devices import (
    AudioDeviceInfo,
    CameraInfo,
    DeviceChange,
    DeviceSnapshot,
    DeviceWatcher,
)

log = logging.getLogger("parley.devices")

TEST_SOUND = "ringtone"
"""The sound "Play test sound" plays (``resources/sounds/<name>.wav``)."""


class SettingsStorage(Protocol):
    """Where the choices live between runs (QSettings in the app, a dict in tests)."""

    def load(self) -> Mapping[str, object]:
        """What was saved last, or an empty mapping."""
        ...

    def save(self, data: Mapping[str, str]) -> None:
        """Replace what is saved with ``data``."""
        ...


class MemoryStorage:
    """A :class:`SettingsStorage` in memory (tests, and runs that must not persist)."""

    def __init__(self, data: Mapping[str, object] | None = None) -> None:
        self.data: dict[str, object] = dict(data or {})

    def load(self) -> Mapping[str, object]:
        return dict(self.data)

    def save(self, data: Mapping[str, str]) -> None:
        self.data = dict(data)


@dataclass(frozen=True)
class DeviceChoices:
    """The chosen device ids; ``SYSTEM_DEFAULT`` (empty) lets the default be used."""

    camera: str = SYSTEM_DEFAULT
    microphone: str = SYSTEM_DEFAULT
    speaker: str = SYSTEM_DEFAULT
    voice_processing: bool = True
    """Echo cancellation and noise suppression on the microphone (on unless turned off)."""

    def to_dict(self) -> dict[str, str]:
        """The plain dict that is persisted."""
        return {
            "camera": self.camera,
            "microphone": self.microphone,
            "speaker": self.speaker,
            "voice_processing": "on" if self.voice_processing else "off",
        }

    @classmethod
    def from_dict(cls, data: Mapping[str, object]) -> DeviceChoices:
        """Read back :meth:`to_dict`; anything missing or not a string means the default."""

        def text(key: str) -> str:
            value = data.get(key)
            return value if isinstance(value, str) else SYSTEM_DEFAULT

        return cls(
            text("camera"),
            text("microphone"),
            text("speaker"),
            voice_processing=data.get("voice_processing") != "off",
        )

    def with_choice(self, kind: DeviceKind, device_id: str) -> DeviceChoices:
        """A copy with ``kind`` set to ``device_id``."""
        if kind is DeviceKind.CAMERA:
            return replace(self, camera=device_id)
        if kind is DeviceKind.MICROPHONE:
            return replace(self, microphone=device_id)
        return replace(self, speaker=device_id)

    def of(self, kind: DeviceKind) -> str:
        """The id chosen for ``kind``."""
        value: str = getattr(self, kind.value)
        return value


def _unique_ids(names: Sequence[str]) -> list[str]:
    # Two identical webcams get "Name" and "Name #2", in the system's order.
    seen: Counter[str] = Counter()
    ids = []
    for name in names:
        seen[name] += 1
        ids.append(name if seen[name] == 1 else f"{name} #{seen[name]}")
    return ids


def camera_ids(cameras: Sequence[CameraInfo]) -> dict[str, CameraInfo]:
    """Cameras by stable id (their name), in index order."""
    ordered = sorted(cameras, key=lambda c: c.index)
    return dict(zip(_unique_ids([c.name for c in ordered]), ordered, strict=True))


def audio_ids(devices: Sequence[AudioDeviceInfo]) -> dict[str, AudioDeviceInfo]:
    """Audio devices by stable id: their name and host API, e.g. ``pulse (ALSA)``."""
    names = [f"{d.name} ({d.host_api})" if d.host_api else d.name for d in devices]
    return dict(zip(_unique_ids(names), devices, strict=True))


def portaudio_query(device: AudioDeviceInfo, devices: Sequence[AudioDeviceInfo]) -> str:
    """What to pass PortAudio for ``device``: a name that stays right when indices shift.

    sounddevice takes an exact name (or ``"name, host API"``) over substring matches.
    """
    if sum(1 for d in devices if d.name == device.name) == 1:
        return device.name
    return f"{device.name}, {device.host_api}"


class DeviceSettings:
    """The chosen devices, the devices present, and what a call should open.

    ``lister`` takes a snapshot of the devices (blocking; run in a worker thread); the
    default re-scans PortAudio when no stream is open and lists cameras without opening
    them. Listeners added with :meth:`subscribe` hear about every change of either.
    """

    def __init__(
        self,
        storage: SettingsStorage,
        *,
        lister: Callable[[], DeviceSnapshot] | None = None,
        interval_s: float = 2.0,
    ) -> None:
        self._storage = storage
        self._choices = DeviceChoices.from_dict(storage.load())
        self._devices = DeviceSnapshot()
        self._listed = False
        self._listeners: Listeners[[]] = Listeners("device settings changes")
        extra = {} if lister is None else {"lister": lister}
        self._watcher = DeviceWatcher(self._on_change, interval_s=interval_s, **extra)

    @property
    def choices(self) -> DeviceChoices:
        """The saved choices."""
        return self._choices

    @property
    def devices(self) -> DeviceSnapshot:
        """The devices present at the latest refresh (none before the first)."""
        return self._devices

    def save(self, choices: DeviceChoices) -> None:
        """Use and persist ``choices``."""
        self._storage.save(choices.to_dict())
        if choices != self._choices:
            self._choices = choices
            self._notify()

    def subscribe(self, listener: Callable[[], None]) -> Unsubscribe:
        """Call ``listener()`` when the devices or the saved choices change."""
        return self._listeners.subscribe(listener)

    # -- what is in use ------------------------------------------------------------------

    def camera(self, choices: DeviceChoices | None = None) -> CameraInfo | None:
        """The camera to use: the chosen one if connected, else the first; None if none."""
        cameras = camera_ids(self._devices.cameras)
        chosen = cameras.get((choices or self._choices).camera)
        return chosen or next(iter(cameras.values()), None)

    def microphone(self, choices: DeviceChoices | None = None) -> AudioDeviceInfo | None:
        """The chosen microphone if connected; None means the system default."""
        return audio_ids(self._devices.microphones).get((choices or self._choices).microphone)

    def speaker(self, choices: DeviceChoices | None = None) -> AudioDeviceInfo | None:
        """The chosen speaker if connected; None means the system default."""
        return audio_ids(self._devices.speakers).get((choices or self._choices).speaker)

    def media_options(
        self, base: MediaOptions, choices: DeviceChoices | None = None
    ) -> MediaOptions:
        """``base`` with the chosen devices (or the defaults standing in for them) applied."""
        camera = self.camera(choices)
        microphone = self.microphone(choices)
        speaker = self.speaker(choices)
        return replace(
            base,
            voice_processing=(choices or self._choices).voice_processing,
            camera_index=base.camera_index if camera is None else camera.index,
            microphone=(
                base.microphone
                if microphone is None
                else portaudio_query(microphone, self._devices.microphones)
            ),
            speaker=(
                base.speaker
                if speaker is None
                else portaudio_query(speaker, self._devices.speakers)
            ),
        )

    def local_media(
        self, label: str, options: MediaOptions | None = None, **callbacks: Any
    ) -> LocalMedia:
        """A call's or room's :class:`LocalMedia` with the choices as they are now: a
        kit's ``media_factory``, so each call opens the devices chosen when it starts."""
        return LocalMedia(label, self.media_options(options or MediaOptions()), **callbacks)

    def view(self, choices: DeviceChoices | None = None) -> DeviceSettingsView:
        """The lists for the dialog, with ``choices`` (the saved ones by default) selected."""
        choices = choices or self._choices
        camera = self.camera(choices)
        cameras = camera_ids(self._devices.cameras)
        camera_id = next((k for k, c in cameras.items() if c == camera), SYSTEM_DEFAULT)
        return DeviceSettingsView(
            cameras=DeviceListView(
                DeviceKind.CAMERA,
                tuple(DeviceOption(k, c.name) for k, c in cameras.items()),
                selected=camera_id,
                missing=choices.camera if self._listed and choices.camera not in cameras else "",
            ),
            microphones=_audio_list(
                DeviceKind.MICROPHONE, self._devices.microphones, choices.microphone, self._listed
            ),
            speakers=_audio_list(
                DeviceKind.SPEAKER, self._devices.speakers, choices.speaker, self._listed
            ),
            listed=self._listed,
            voice_processing=choices.voice_processing,
        )

    # -- hot-plug ------------------------------------------------------------------------

    async def refresh(self) -> DeviceSnapshot:
        """List the devices now (in a worker thread); returns them."""
        await self._watcher.poll()
        self._set_devices(self._watcher.current or DeviceSnapshot())
        return self._devices

    def start_watching(self) -> None:
        """Poll for hot-plugged devices until :meth:`stop_watching`. Needs a running loop."""
        self._watcher.start()

    async def stop_watching(self) -> None:
        """Stop polling; any listing in progress has ended when this returns."""
        await self._watcher.stop()

    @property
    def watching(self) -> bool:
        """Whether hot-plug polling runs."""
        return self._watcher.running

    async def close(self) -> None:
        """Stop polling for good. Idempotent."""
        await self._watcher.close()
        self._listeners.clear()

    def _on_change(self, change: DeviceChange) -> None:
        log.info("devices changed: +%s -%s", change.added, change.removed)
        self._set_devices(self._watcher.current or DeviceSnapshot())

    def _set_devices(self, devices: DeviceSnapshot) -> None:
        first, self._listed = not self._listed, True
        if first or devices != self._devices:
            self._devices = devices
            self._notify()

    def _notify(self) -> None:
        self._listeners.emit()


def _audio_list(
    kind: DeviceKind, devices: Sequence[AudioDeviceInfo], chosen: str, listed: bool
) -> DeviceListView:
    by_id = audio_ids(devices)
    return DeviceListView(
        kind,
        tuple(DeviceOption(k, d.name, d.is_default) for k, d in by_id.items()),
        selected=chosen if chosen in by_id else SYSTEM_DEFAULT,
        offers_default=True,
        missing=chosen if listed and chosen != SYSTEM_DEFAULT and chosen not in by_id else "",
    )
