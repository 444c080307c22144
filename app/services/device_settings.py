"""Which camera, microphone and speaker to use, remembered across runs, and their preview.

:class:`DeviceSettings` keeps the user's choices by stable id (a device's name, not the
system's index, which shifts when devices come and go), persists them as a plain dict
through a :class:`SettingsStorage`, follows hot-plug through a
:class:`~media.devices.DeviceWatcher` and turns the choices into :class:`MediaOptions`.
A chosen device that is not connected is remembered but not used: the default stands
in until it is back. :class:`DevicePreview` opens the chosen camera and microphone for
the settings page. No Qt here; :mod:`app.qt_devices` puts it on Qt signals.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import time
from collections import Counter
from collections.abc import Callable, Coroutine, Mapping, Sequence
from dataclasses import dataclass, replace
from pathlib import Path
from typing import Any, Protocol

import numpy as np
import numpy.typing as npt
from aiortc.mediastreams import MediaStreamError, MediaStreamTrack

from app.device_settings_view import (
    SYSTEM_DEFAULT,
    DeviceKind,
    DeviceListView,
    DeviceOption,
    DeviceSettingsView,
    PreviewState,
)
from app.services.local_media import LocalMedia, MediaOptions
from media.camera import CameraTrack
from media.devices import (
    AudioDeviceInfo,
    CameraInfo,
    CaptureFactory,
    DeviceChange,
    DeviceSnapshot,
    DeviceWatcher,
    open_capture,
)
from media.errors import DeviceExceptionType
from media.levels import SILENCE_DBFS, LevelMeter
from media.microphone import MicrophoneTrack
from media.playback import NULL_OUTPUT, OutputDevice
from media.sounds import SoundPlayer, load_wav
from media.synthetic import SyntheticAudioTrack, SyntheticVideoTrack

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

    def to_dict(self) -> dict[str, str]:
        """The plain dict that is persisted."""
        return {"camera": self.camera, "microphone": self.microphone, "speaker": self.speaker}

    @classmethod
    def from_dict(cls, data: Mapping[str, object]) -> DeviceChoices:
        """Read back :meth:`to_dict`; anything missing or not a string means the default."""

        def text(key: str) -> str:
            value = data.get(key)
            return value if isinstance(value, str) else SYSTEM_DEFAULT

        return cls(text("camera"), text("microphone"), text("speaker"))

    def with_choice(self, kind: DeviceKind, device_id: str) -> DeviceChoices:
        """A copy with ``kind`` set to ``device_id``."""
        return replace(self, **{kind.value: device_id})

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
        self._listeners: list[Callable[[], None]] = []
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

    def subscribe(self, listener: Callable[[], None]) -> Callable[[], None]:
        """Call ``listener()`` when the devices or the saved choices change."""
        self._listeners.append(listener)

        def unsubscribe() -> None:
            if listener in self._listeners:
                self._listeners.remove(listener)

        return unsubscribe

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
        for listener in list(self._listeners):
            try:
                listener()
            except Exception:
                log.exception("device settings listener failed")


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


# -- the preview -------------------------------------------------------------------------

FrameCallback = Callable[[npt.NDArray[np.uint8]], None]
StateCallback = Callable[[DeviceKind, PreviewState], None]

_PROBLEMS = {
    DeviceExceptionType.DEVICE_OCCUPIED: PreviewState.BUSY,
    DeviceExceptionType.PERMISSION_NOT_GRANTED: PreviewState.DENIED,
    DeviceExceptionType.ZERO_CAPTURE_FPS: PreviewState.SILENT,
}


def preview_problem(kind: DeviceExceptionType) -> PreviewState:
    """The preview state that says why a device failed."""
    return _PROBLEMS.get(kind, PreviewState.FAILED)


class DevicePreview:
    """The chosen camera as RGB frames (at most ``max_fps``) and the microphone's level.

    Callbacks run on the event loop. Levels are the microphone's RMS dBFS, about
    ``level_hz`` times a second. A failing camera shows no test pattern here: the preview
    reports why instead. :meth:`stop` releases both devices (the camera light goes off).
    """

    def __init__(
        self,
        on_frame: FrameCallback,
        on_level: Callable[[float], None],
        on_state: StateCallback | None = None,
        *,
        max_fps: float = 15.0,
        level_hz: float = 10.0,
        label: str = "Preview",
        sounds_dir: Path | None = None,
        capture_factory: CaptureFactory = open_capture,
    ) -> None:
        if max_fps <= 0:
            raise ValueError("max_fps must be positive")
        self._on_frame = on_frame
        self._on_level = on_level
        self._on_state = on_state
        self._frame_interval = 1.0 / max_fps
        self._meter = LevelMeter(lambda _key, dbfs, _speaking: on_level(dbfs), rate_hz=level_hz)
        self._label = label
        self._sounds_dir = sounds_dir
        self._capture_factory = capture_factory
        self._tracks: dict[DeviceKind, MediaStreamTrack] = {}
        self._readers: dict[DeviceKind, asyncio.Task[None]] = {}
        self._states = {
            DeviceKind.CAMERA: PreviewState.OFF,
            DeviceKind.MICROPHONE: PreviewState.OFF,
        }
        self._sound: tuple[asyncio.Task[None], asyncio.Event] | None = None
        self.frames_delivered = 0

    def state(self, kind: DeviceKind) -> PreviewState:
        """How the camera's or the microphone's preview is doing."""
        return self._states.get(kind, PreviewState.OFF)

    @property
    def can_play_test_sound(self) -> bool:
        """Whether a test sound is available."""
        return self._sounds_dir is not None

    @property
    def playing_test_sound(self) -> bool:
        """Whether the test sound is playing."""
        return self._sound is not None and not self._sound[0].done()

    async def start(
        self, options: MediaOptions, *, camera: bool = True, microphone: bool = True
    ) -> None:
        """Open the camera and microphone of ``options``; ``camera``/``microphone`` say
        whether there is such a device at all (synthetic options need none)."""
        await self.open_camera(options, available=camera)
        await self.open_microphone(options, available=microphone)

    async def open_camera(self, options: MediaOptions, *, available: bool = True) -> None:
        """(Re)open the camera of ``options``."""
        await self.close_camera()
        track: MediaStreamTrack
        res = options.video_preset.resolution
        if options.synthetic:
            self._set_state(DeviceKind.CAMERA, PreviewState.STARTING)
            track = SyntheticVideoTrack(self._label, res.width, res.height, res.fps)
        elif not available:
            self._set_state(DeviceKind.CAMERA, PreviewState.NO_DEVICE)
            return
        else:
            self._set_state(DeviceKind.CAMERA, PreviewState.STARTING)
            camera = CameraTrack(
                options.camera_index,
                options.video_preset,
                label=self._label,
                on_error=self._on_camera_error,
                capture_factory=self._capture_factory,
            )
            camera.start()
            track = camera
        self._open(DeviceKind.CAMERA, track, self._read_camera(track))

    async def open_microphone(self, options: MediaOptions, *, available: bool = True) -> None:
        """(Re)open the microphone of ``options``."""
        await self.close_microphone()
        track: MediaStreamTrack
        if options.synthetic:
            self._set_state(DeviceKind.MICROPHONE, PreviewState.STARTING)
            tone = options.tone_hz
            track = SyntheticAudioTrack("tone", tone) if tone else SyntheticAudioTrack()
        elif not available:
            self._set_state(DeviceKind.MICROPHONE, PreviewState.NO_DEVICE)
            return
        else:
            # A microphone that cannot open reports it at once, from start().
            self._set_state(DeviceKind.MICROPHONE, PreviewState.STARTING)
            microphone = MicrophoneTrack(options.microphone, on_error=self._on_microphone_error)
            microphone.start()
            track = microphone
        self._open(DeviceKind.MICROPHONE, track, self._read_microphone(track))

    async def close_camera(self) -> None:
        """Release the camera (its light goes off)."""
        await self._close(DeviceKind.CAMERA)

    async def close_microphone(self) -> None:
        """Release the microphone."""
        await self._close(DeviceKind.MICROPHONE)

    async def stop(self) -> None:
        """Release both devices and stop the test sound; idempotent."""
        await self.close_camera()
        await self.close_microphone()
        await self.stop_test_sound()

    async def close(self) -> None:
        """Same as :meth:`stop`."""
        await self.stop()

    # -- the test sound --------------------------------------------------------------------

    async def play_test_sound(self, speaker: OutputDevice, on_done: Callable[[], None]) -> None:
        """Play the test sound once on ``speaker`` (``NULL_OUTPUT`` plays to nowhere);
        ``on_done()`` runs when it has finished or was stopped."""
        await self.stop_test_sound()
        if self._sounds_dir is None:
            on_done()
            return
        try:
            samples, rate = load_wav(self._sounds_dir / f"{TEST_SOUND}.wav")
        except (OSError, ValueError) as exc:
            log.warning("no test sound: %s", exc)
            on_done()
            return
        # Output can stall a moment at the start (PulseAudio): leave the tail time to play.
        duration = len(samples) / rate + 0.5
        player = SoundPlayer(self._sounds_dir, device=speaker)
        stop = asyncio.Event()
        task = asyncio.get_running_loop().create_task(
            self._run_sound(player, duration, stop, on_done), name="test sound"
        )
        self._sound = (task, stop)

    async def stop_test_sound(self) -> None:
        """Stop the test sound, if it plays; its output is closed when this returns."""
        sound, self._sound = self._sound, None
        if sound is not None:
            task, stop = sound
            # Asked to stop rather than cancelled, so the output is always closed.
            stop.set()
            await asyncio.gather(task, return_exceptions=True)

    @staticmethod
    async def _run_sound(
        player: SoundPlayer, duration: float, stop: asyncio.Event, on_done: Callable[[], None]
    ) -> None:
        try:
            await player.play(TEST_SOUND, loop=False)
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(stop.wait(), duration)
        finally:
            await player.close()
            on_done()

    # -- readers -----------------------------------------------------------------------------

    def _open(
        self, kind: DeviceKind, track: MediaStreamTrack, reader: Coroutine[Any, Any, None]
    ) -> None:
        self._tracks[kind] = track
        self._readers[kind] = asyncio.get_running_loop().create_task(reader, name=f"preview-{kind}")

    async def _close(self, kind: DeviceKind) -> None:
        track = self._tracks.pop(kind, None)
        reader = self._readers.pop(kind, None)
        if track is not None:
            track.stop()  # the camera's capture thread has ended and released it on return
        if reader is not None:
            reader.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await reader
        if track is not None or self._states[kind] is not PreviewState.OFF:
            self._set_state(kind, PreviewState.OFF)
        if kind is DeviceKind.MICROPHONE and track is not None:
            self._meter.remove("microphone")
            self._on_level(SILENCE_DBFS)

    async def _read_camera(self, track: MediaStreamTrack) -> None:
        next_at = 0.0
        while True:
            try:
                frame = await track.recv()
            except MediaStreamError:
                return
            if isinstance(track, CameraTrack) and track.using_fallback:
                # The test pattern would pretend the camera works: the state says why
                # instead. Only a silent camera may still come back.
                if self._states[DeviceKind.CAMERA] is PreviewState.SILENT:
                    continue
                return
            now = time.perf_counter()
            if now < next_at:
                continue
            next_at = max(next_at + self._frame_interval, now + self._frame_interval * 0.5)
            if self._states[DeviceKind.CAMERA] is not PreviewState.LIVE:
                self._set_state(DeviceKind.CAMERA, PreviewState.LIVE)
            array: npt.NDArray[np.uint8] = frame.to_ndarray(format="rgb24")  # type: ignore[union-attr]
            self.frames_delivered += 1
            self._on_frame(array)

    async def _read_microphone(self, track: MediaStreamTrack) -> None:
        while True:
            try:
                frame = await track.recv()
            except MediaStreamError:
                return
            if isinstance(track, MicrophoneTrack) and track.using_fallback:
                return  # it sends silence from now on: the state says why
            if self._states[DeviceKind.MICROPHONE] is not PreviewState.LIVE:
                self._set_state(DeviceKind.MICROPHONE, PreviewState.LIVE)
            self._meter.feed("microphone", frame.to_ndarray())  # type: ignore[union-attr]

    def _on_camera_error(self, kind: DeviceExceptionType) -> None:
        self._set_state(DeviceKind.CAMERA, preview_problem(kind))

    def _on_microphone_error(self, kind: DeviceExceptionType) -> None:
        self._set_state(DeviceKind.MICROPHONE, preview_problem(kind))
        self._on_level(SILENCE_DBFS)

    def _set_state(self, kind: DeviceKind, state: PreviewState) -> None:
        if self._states.get(kind) is state:
            return
        self._states[kind] = state
        if self._on_state is not None:
            try:
                self._on_state(kind, state)
            except Exception:
                log.exception("preview state callback failed")


def speaker_output(options: MediaOptions) -> OutputDevice:
    """Where a test sound for ``options`` plays (nowhere for synthetic media)."""
    return NULL_OUTPUT if options.synthetic else options.speaker
