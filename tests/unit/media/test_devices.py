"""Devices: routes, error mapping, camera probing with time limits, hot-plug polling."""

from __future__ import annotations

import errno
import threading
import time
from pathlib import Path
from typing import Any

import pytest

from app.testing import wait_until
from media import devices
from media.devices import (
    AudioDeviceInfo,
    CameraInfo,
    DeviceChange,
    DeviceSnapshot,
    DeviceWatcher,
    classify_route,
    diff,
)
from media.errors import AudioRoute, DeviceError, DeviceExceptionType, classify_device_error
from tests.support.media_fixtures import FakeCapture, ThreadLeakCheck, pending_tasks


@pytest.mark.parametrize(
    ("name", "host_api", "route"),
    [
        ("bluez_sink.00_1B_66_AA_BB_CC.a2dp_sink", "", AudioRoute.BLUETOOTH),
        ("WH-1000XM4 Bluetooth Headphones", "", AudioRoute.BLUETOOTH),
        ("USB Audio CODEC: Audio (hw:2,0)", "ALSA", AudioRoute.EXTERNAL_USB),
        ("Headphones (Realtek Audio)", "Windows WASAPI", AudioRoute.HEADPHONE),
        ("Jabra Headset", "Core Audio", AudioRoute.HEADPHONE),
        ("HDA Intel PCH: ALC3246 Analog (hw:0,0)", "ALSA", AudioRoute.SPEAKER),
        ("pulse", "ALSA", AudioRoute.SPEAKER),
    ],
)
def test_output_route_from_name(name: str, host_api: str, route: AudioRoute) -> None:
    assert classify_route(name, host_api) is route


@pytest.mark.parametrize(
    ("exc", "kind"),
    [
        (
            PermissionError(errno.EACCES, "Permission denied"),
            DeviceExceptionType.PERMISSION_NOT_GRANTED,
        ),
        (OSError(errno.EBUSY, "Device or resource busy"), DeviceExceptionType.DEVICE_OCCUPIED),
        (OSError(errno.ENODEV, "No such device"), DeviceExceptionType.DEVICE_UNPLUGGED),
        (RuntimeError("Error querying device 999"), DeviceExceptionType.INVALID_ID),
        (RuntimeError("Error querying device -1"), DeviceExceptionType.INVALID_ID),
        (ValueError("No input device matching 'nope'"), DeviceExceptionType.INVALID_ID),
        (
            RuntimeError("Error opening InputStream: Device unavailable [PaErrorCode -9985]"),
            DeviceExceptionType.DEVICE_OCCUPIED,
        ),
        (RuntimeError("something else entirely"), DeviceExceptionType.GENERIC),
        (DeviceError(DeviceExceptionType.ZERO_CAPTURE_FPS), DeviceExceptionType.ZERO_CAPTURE_FPS),
    ],
)
def test_failures_map_to_device_exception_types(
    exc: BaseException, kind: DeviceExceptionType
) -> None:
    assert classify_device_error(exc) is kind


def test_audio_device_needs_channels() -> None:
    with pytest.raises(ValueError, match="channels"):
        AudioDeviceInfo(index=0, name="x", host_api="ALSA", channels=0, default_samplerate=48000)


def _fake_nodes(tmp_path: Path, monkeypatch: pytest.MonkeyPatch, *indices: int) -> None:
    # The /dev directory is the hardware edge: point the lister at a fake one.
    for index in indices:
        (tmp_path / f"video{index}").touch()
    monkeypatch.setattr(devices, "V4L_DIR", tmp_path)
    monkeypatch.setattr(devices, "V4L_SYSFS", tmp_path / "sys")
    monkeypatch.setattr(devices, "IS_LINUX", True)


def test_no_video_nodes_lists_no_camera_fast_without_opening(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    _fake_nodes(tmp_path, monkeypatch)
    opened: list[int] = []

    def factory(index: int) -> FakeCapture:
        opened.append(index)
        return FakeCapture()

    started = time.perf_counter()
    assert devices.list_cameras(factory=factory) == []
    assert time.perf_counter() - started < 0.1
    assert opened == []


def test_cameras_that_open_are_listed_and_released(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    _fake_nodes(tmp_path, monkeypatch, 0, 1)
    captures = {0: FakeCapture(opened=True), 1: FakeCapture(opened=False)}
    cameras = devices.list_cameras(factory=lambda i: captures[i])
    assert cameras == [CameraInfo(0, "Camera 0")]
    assert all(c.released.is_set() for c in captures.values())


def test_a_hanging_camera_probe_is_abandoned_after_the_time_limit(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    _fake_nodes(tmp_path, monkeypatch, 0, 2)
    hang = threading.Event()

    def factory(index: int) -> FakeCapture:
        if index == 2:
            hang.wait(5.0)  # a driver that never answers
        return FakeCapture()

    started = time.perf_counter()
    cameras = devices.list_cameras(factory=factory, timeout_s=0.2)
    elapsed = time.perf_counter() - started
    hang.set()
    assert [c.index for c in cameras] == [0]
    assert elapsed < 1.0


def test_listing_without_probe_reads_nodes_only(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    _fake_nodes(tmp_path, monkeypatch, 3, 0)
    (tmp_path / "sys" / "video0").mkdir(parents=True)
    (tmp_path / "sys" / "video0" / "name").write_text("Integrated Webcam\n")
    (tmp_path / "sys" / "video0" / "index").write_text("0\n")
    (tmp_path / "sys" / "video1").mkdir(parents=True)
    (tmp_path / "sys" / "video1" / "index").write_text("1\n")  # its metadata node
    (tmp_path / "video1").touch()
    cameras = devices.list_cameras(probe=False, factory=lambda i: pytest.fail("opened"))
    assert cameras == [CameraInfo(0, "Integrated Webcam"), CameraInfo(3, "Camera 3")]


def test_diagnose_missing_camera_is_invalid_id(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    _fake_nodes(tmp_path, monkeypatch, 0)
    assert devices.diagnose_camera(5) is DeviceExceptionType.INVALID_ID
    assert devices.diagnose_camera(-1) is DeviceExceptionType.INVALID_ID


def _mic(name: str, index: int = 0) -> AudioDeviceInfo:
    return AudioDeviceInfo(
        index=index, name=name, host_api="ALSA", channels=1, default_samplerate=48000
    )


def test_diff_reports_added_and_removed_by_identity_not_index() -> None:
    old = DeviceSnapshot(microphones=(_mic("Built-in", 0), _mic("USB mic", 1)))
    new = DeviceSnapshot(
        cameras=(CameraInfo(0, "Webcam"),), microphones=(_mic("Built-in", 0), _mic("Headset", 1))
    )
    change = diff(old, new)
    assert change.added == DeviceSnapshot(
        cameras=(CameraInfo(0, "Webcam"),), microphones=(_mic("Headset", 1),)
    )
    assert change.removed == DeviceSnapshot(microphones=(_mic("USB mic", 1),))
    assert diff(new, new).empty


async def test_watcher_reports_hot_plug_and_leaves_nothing_behind() -> None:
    leaks = ThreadLeakCheck()
    snapshots = [
        DeviceSnapshot(),
        DeviceSnapshot(),
        DeviceSnapshot(speakers=(_mic("USB speaker"),)),
        DeviceSnapshot(),
    ]
    calls = 0

    def lister() -> DeviceSnapshot:
        nonlocal calls
        calls += 1
        return snapshots[min(calls - 1, len(snapshots) - 1)]

    changes: list[DeviceChange] = []
    watcher = DeviceWatcher(changes.append, interval_s=0.01, lister=lister)
    watcher.start()
    await wait_until(lambda: len(changes) >= 2, 5.0, "plug and unplug to be reported")
    await watcher.close()
    await watcher.close()  # idempotent
    assert changes[0].added.speakers == (_mic("USB speaker"),)
    assert changes[0].removed == DeviceSnapshot()
    assert changes[1].removed.speakers == (_mic("USB speaker"),)
    assert not watcher.running
    assert pending_tasks() == []
    assert leaks.leaked() == []


async def test_watcher_survives_a_failing_poll() -> None:
    calls = 0

    def lister() -> DeviceSnapshot:
        nonlocal calls
        calls += 1
        if calls == 2:
            raise OSError("device list unavailable")
        return DeviceSnapshot(cameras=(CameraInfo(0, "Cam"),) if calls >= 3 else ())

    changes: list[DeviceChange] = []
    watcher = DeviceWatcher(changes.append, interval_s=0.01, lister=lister)
    watcher.start()
    await wait_until(lambda: len(changes) == 1, 5.0, "the camera to be reported")
    await watcher.close()
    assert changes[0].added.cameras == (CameraInfo(0, "Cam"),)
    with pytest.raises(RuntimeError, match="closed"):
        watcher.start()


def test_no_portaudio_means_no_devices(monkeypatch: pytest.MonkeyPatch) -> None:
    # PortAudio missing is the hardware edge here: the loader reports no library.
    monkeypatch.setattr(devices, "load_sounddevice", lambda: None)
    assert devices.list_microphones() == []
    assert devices.list_speakers() == []
    assert devices.default_speaker() is None
    assert devices.default_microphone() is None


class _NoDevicePortAudio:
    """PortAudio on a machine with no sound card, as ENVIRONMENT.md measured it."""

    class default:  # noqa: N801  (sounddevice's name)
        device = (-1, -1)

    @staticmethod
    def query_devices() -> list[dict[str, Any]]:
        return []

    @staticmethod
    def query_hostapis() -> list[dict[str, Any]]:
        return [{"name": "ALSA"}]


def test_portaudio_without_devices_lists_nothing(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(devices, "load_sounddevice", lambda: _NoDevicePortAudio)
    assert devices.list_microphones() == []
    assert devices.list_speakers() == []
