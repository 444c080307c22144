"""Cameras, microphones and speakers: listing, defaults, audio routes, hot-plug polling.

No device at all is a normal state: every lister returns an empty list rather than
raising when PortAudio is missing or finds nothing.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import os
import re
import sys
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from media.errors import AudioRoute, DeviceExceptionType, classify_device_error
from media.portaudio import load_sounddevice, portaudio_guard, refresh_devices
from media.threads import call_with_timeout, run_in_thread

log = logging.getLogger(__name__)

PROBE_TIMEOUT_S = 2.0
MAX_CAMERA_INDEX = 10  # probed on systems without /dev/video* nodes
V4L_DIR = Path("/dev")
V4L_SYSFS = Path("/sys/class/video4linux")
# A variable, not an inline check, so type checkers keep both branches.
IS_LINUX: bool = sys.platform.startswith("linux")


@dataclass(frozen=True)
class CameraInfo:
    """A camera OpenCV can open, by index."""

    index: int
    name: str

    @property
    def key(self) -> str:
        """Stable identity for hot-plug comparisons."""
        return f"camera:{self.index}:{self.name}"


@dataclass(frozen=True)
class AudioDeviceInfo:
    """A PortAudio input or output device."""

    index: int
    name: str
    host_api: str
    channels: int
    default_samplerate: float
    is_default: bool = False
    route: AudioRoute | None = None
    """For outputs: where the sound goes, guessed from the name and host API."""

    def __post_init__(self) -> None:
        if self.channels <= 0:
            raise ValueError(f"a device needs channels, got {self.channels}")

    @property
    def key(self) -> str:
        """Stable identity for hot-plug comparisons (indices shift when devices come and go)."""
        return f"audio:{self.host_api}:{self.name}"


@dataclass(frozen=True)
class DeviceSnapshot:
    """Every device present at one moment."""

    cameras: tuple[CameraInfo, ...] = ()
    microphones: tuple[AudioDeviceInfo, ...] = ()
    speakers: tuple[AudioDeviceInfo, ...] = ()


@dataclass(frozen=True)
class DeviceChange:
    """What a poll found added and removed since the previous one."""

    added: DeviceSnapshot = field(default_factory=DeviceSnapshot)
    removed: DeviceSnapshot = field(default_factory=DeviceSnapshot)

    @property
    def empty(self) -> bool:
        """Whether nothing changed."""
        return self.added == DeviceSnapshot() and self.removed == DeviceSnapshot()


# -- audio -------------------------------------------------------------------------

_ROUTE_PATTERNS: tuple[tuple[re.Pattern[str], AudioRoute], ...] = (
    (re.compile(r"bluez|bluetooth|\bbt\b|a2dp|airpods", re.I), AudioRoute.BLUETOOTH),
    (re.compile(r"usb", re.I), AudioRoute.EXTERNAL_USB),
    (re.compile(r"head(phone|set)|earphone|earbud", re.I), AudioRoute.HEADPHONE),
    (re.compile(r"airplay", re.I), AudioRoute.AIR_PLAY),
)


def classify_route(name: str, host_api: str = "") -> AudioRoute:
    """Guess where an output device plays from what the system calls it."""
    text = f"{name} {host_api}"
    for pattern, route in _ROUTE_PATTERNS:
        if pattern.search(text):
            return route
    return AudioRoute.SPEAKER


def _query_audio(sd: Any) -> tuple[list[dict[str, Any]], list[str], tuple[int, int]]:
    with portaudio_guard():
        devices = [dict(d) for d in sd.query_devices()]
        host_apis = [str(h["name"]) for h in sd.query_hostapis()]
        default_in, default_out = (int(i) for i in sd.default.device)
    return devices, host_apis, (default_in, default_out)


def _audio_devices(output: bool) -> list[AudioDeviceInfo]:
    sd = load_sounddevice()
    if sd is None:
        return []
    try:
        devices, host_apis, defaults = _query_audio(sd)
    except Exception as exc:
        log.info("cannot list audio devices: %s", exc)
        return []
    channels_key = "max_output_channels" if output else "max_input_channels"
    default_index = defaults[1] if output else defaults[0]
    found: list[AudioDeviceInfo] = []
    for index, device in enumerate(devices):
        channels = int(device.get(channels_key, 0))
        if channels <= 0:
            continue
        api_index = int(device.get("hostapi", -1))
        host_api = host_apis[api_index] if 0 <= api_index < len(host_apis) else ""
        name = str(device.get("name", f"device {index}"))
        found.append(
            AudioDeviceInfo(
                index=index,
                name=name,
                host_api=host_api,
                channels=channels,
                default_samplerate=float(device.get("default_samplerate", 48000.0)),
                is_default=index == default_index,
                route=classify_route(name, host_api) if output else None,
            )
        )
    return found


def list_microphones() -> list[AudioDeviceInfo]:
    """Input devices; empty when there are none or PortAudio is missing."""
    return _audio_devices(output=False)


def list_speakers() -> list[AudioDeviceInfo]:
    """Output devices with their audio route; empty when there are none."""
    return _audio_devices(output=True)


def default_microphone() -> AudioDeviceInfo | None:
    """The system's default input device, if any."""
    return next((d for d in list_microphones() if d.is_default), None)


def default_speaker() -> AudioDeviceInfo | None:
    """The system's default output device, if any."""
    return next((d for d in list_speakers() if d.is_default), None)


# -- cameras --------------------------------------------------------------------------

CaptureFactory = Callable[[int], Any]
"""Opens a capture for a camera index (``cv2.VideoCapture``-like); a seam for tests."""


def open_capture(index: int) -> Any:
    """Open camera ``index`` with OpenCV, using V4L2 directly on Linux."""
    import cv2

    if IS_LINUX:
        return cv2.VideoCapture(index, cv2.CAP_V4L2)
    return cv2.VideoCapture(index)


def _v4l_indices() -> list[int] | None:
    # On Linux the nodes say which indices exist, so nothing absent is ever opened.
    if not IS_LINUX:
        return None
    indices = []
    for node in V4L_DIR.glob("video*"):
        suffix = node.name.removeprefix("video")
        if suffix.isdigit():
            indices.append(int(suffix))
    return sorted(indices)


def _v4l_name(index: int) -> str:
    with contextlib.suppress(OSError):
        return (V4L_SYSFS / f"video{index}" / "name").read_text().strip()
    return f"Camera {index}"


def _v4l_is_capture_node(index: int) -> bool:
    # A UVC camera exposes a second node for metadata; sysfs numbers it index 1.
    with contextlib.suppress(OSError, ValueError):
        return int((V4L_SYSFS / f"video{index}" / "index").read_text().strip()) == 0
    return True


def _probe(index: int, factory: CaptureFactory) -> bool:
    capture = factory(index)
    try:
        return bool(capture.isOpened())
    finally:
        capture.release()


def list_cameras(
    *,
    probe: bool = True,
    timeout_s: float = PROBE_TIMEOUT_S,
    factory: CaptureFactory = open_capture,
) -> list[CameraInfo]:
    """Cameras that open, each probed in a worker thread for at most ``timeout_s``.

    Probing opens each camera briefly. With ``probe=False`` (Linux only) the V4L2
    nodes are listed without opening them (metadata nodes left out by their sysfs index).
    Blocking: call it from a worker thread, or use :func:`list_cameras_async`.
    """
    indices = _v4l_indices()
    if indices is None:
        if not probe:
            return []
        indices = list(range(MAX_CAMERA_INDEX))
    if not probe:
        return [CameraInfo(i, _v4l_name(i)) for i in indices if _v4l_is_capture_node(i)]
    cameras: list[CameraInfo] = []
    for index in indices:
        try:
            finished, opened = call_with_timeout(
                lambda i=index: _probe(i, factory),  # type: ignore[misc]
                timeout_s,
                name=f"camera-probe-{index}",
            )
        except Exception as exc:
            log.info("camera %d probe failed: %s", index, exc)
            continue
        if not finished:
            log.warning("camera %d did not answer within %.1f s", index, timeout_s)
        elif opened:
            cameras.append(CameraInfo(index, _v4l_name(index)))
    return cameras


async def list_cameras_async(**kwargs: Any) -> list[CameraInfo]:
    """:func:`list_cameras` off the event loop."""
    return await run_in_thread(lambda: list_cameras(**kwargs), name="camera-list")


def default_camera() -> CameraInfo | None:
    """The first camera that opens, if any."""
    cameras = list_cameras()
    return cameras[0] if cameras else None


def diagnose_camera(index: int) -> DeviceExceptionType:
    """Why camera ``index`` could not be opened, as far as the system tells."""
    if index < 0:
        return DeviceExceptionType.INVALID_ID
    indices = _v4l_indices()
    if indices is None:
        return DeviceExceptionType.GENERIC
    node = V4L_DIR / f"video{index}"
    if index not in indices:
        return DeviceExceptionType.INVALID_ID
    if not os.access(node, os.R_OK | os.W_OK):
        return DeviceExceptionType.PERMISSION_NOT_GRANTED
    try:
        fd = os.open(node, os.O_RDWR | os.O_NONBLOCK)
    except OSError as exc:
        return classify_device_error(exc)
    os.close(fd)
    # It opens at the OS level but OpenCV could not stream: most often another app has it.
    return DeviceExceptionType.DEVICE_OCCUPIED


def snapshot(*, probe_cameras: bool = False) -> DeviceSnapshot:
    """Every device present now (blocking; cameras listed without opening by default)."""
    return DeviceSnapshot(
        cameras=tuple(list_cameras(probe=probe_cameras)),
        microphones=tuple(list_microphones()),
        speakers=tuple(list_speakers()),
    )


def diff(old: DeviceSnapshot, new: DeviceSnapshot) -> DeviceChange:
    """Devices in ``new`` but not ``old`` (added) and the reverse (removed)."""

    def only(a: tuple[Any, ...], b: tuple[Any, ...]) -> tuple[Any, ...]:
        keys = {d.key for d in b}
        return tuple(d for d in a if d.key not in keys)

    return DeviceChange(
        added=DeviceSnapshot(
            only(new.cameras, old.cameras),
            only(new.microphones, old.microphones),
            only(new.speakers, old.speakers),
        ),
        removed=DeviceSnapshot(
            only(old.cameras, new.cameras),
            only(old.microphones, new.microphones),
            only(old.speakers, new.speakers),
        ),
    )


def _rescan_snapshot() -> DeviceSnapshot:
    # Sees newly plugged audio devices unless a stream is open (see refresh_devices).
    refresh_devices()
    return snapshot()


class DeviceWatcher:
    """Polls the device list and calls ``on_change`` with what was added or removed.

    ``lister`` takes the snapshot in a worker thread; the default re-scans PortAudio
    when no stream is open and lists cameras without opening them.
    """

    def __init__(
        self,
        on_change: Callable[[DeviceChange], None],
        *,
        interval_s: float = 2.0,
        lister: Callable[[], DeviceSnapshot] = _rescan_snapshot,
    ) -> None:
        if interval_s <= 0:
            raise ValueError("interval must be positive")
        self._on_change = on_change
        self._interval_s = interval_s
        self._lister = lister
        self._task: asyncio.Task[None] | None = None
        self._closed = False
        self.current: DeviceSnapshot | None = None
        """The latest snapshot, None before the first poll."""

    @property
    def running(self) -> bool:
        """Whether the polling task is running."""
        return self._task is not None and not self._task.done()

    def start(self) -> None:
        """Start polling; the first poll only records the baseline. Needs a running loop."""
        if self._closed:
            raise RuntimeError("DeviceWatcher is closed")
        if not self.running:
            self._task = asyncio.get_running_loop().create_task(self._run(), name="device-watcher")

    async def stop(self) -> None:
        """Stop polling; the task and any in-flight probe have ended when this returns."""
        task, self._task = self._task, None
        if task is not None:
            task.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await task

    async def close(self) -> None:
        """Stop for good. Idempotent."""
        self._closed = True
        await self.stop()

    async def poll(self) -> DeviceChange:
        """Take one snapshot now and report the difference to the previous one."""
        new = await run_in_thread(self._lister, name="device-poll")
        old, self.current = self.current, new
        if old is None:
            return DeviceChange()
        change = diff(old, new)
        if not change.empty:
            try:
                self._on_change(change)
            except Exception:
                log.exception("device change callback failed")
        return change

    async def _run(self) -> None:
        while True:
            try:
                await self.poll()
            except asyncio.CancelledError:
                raise
            except Exception:
                log.exception("device poll failed")
            await asyncio.sleep(self._interval_s)
