"""Device exception types and audio routes, named after the kit's enums."""

from __future__ import annotations

import errno
from enum import StrEnum


class DeviceExceptionType(StrEnum):
    """Mirrors ``ZegoUIKitDeviceExceptionType``; desktop Parley raises a subset of them."""

    UNKNOWN = "unknown"
    GENERIC = "generic"
    INVALID_ID = "invalid_id"
    PERMISSION_NOT_GRANTED = "permission_not_granted"
    ZERO_CAPTURE_FPS = "zero_capture_fps"
    DEVICE_OCCUPIED = "device_occupied"
    DEVICE_UNPLUGGED = "device_unplugged"
    REBOOT_REQUIRED = "reboot_required"
    MEDIA_SERVICES_WERE_LOST = "media_services_were_lost"
    SIRI_IS_RECORDING = "siri_is_recording"
    SOUND_LEVEL_TOO_LOW = "sound_level_too_low"
    MAGNETIC_CASE = "magnetic_case"
    AUDIO_SESSION_DEACTIVATE = "audio_session_deactivate"
    AUDIO_SESSION_CATEGORY_CHANGE = "audio_session_category_change"
    INTERRUPTION = "interruption"
    IN_BACKGROUND = "in_background"
    MULTI_FOREGROUND_APP = "multi_foreground_app"
    BY_SYSTEM_PRESSURE = "by_system_pressure"


class AudioRoute(StrEnum):
    """Where played audio goes; mirrors ``ZegoUIKitAudioRoute``."""

    SPEAKER = "speaker"
    HEADPHONE = "headphone"
    BLUETOOTH = "bluetooth"
    RECEIVER = "receiver"
    EXTERNAL_USB = "external_usb"
    AIR_PLAY = "air_play"


class DeviceError(Exception):
    """A device failed in a way the kit reports as a ``DeviceExceptionType``."""

    def __init__(self, kind: DeviceExceptionType, message: str = "") -> None:
        super().__init__(message or kind.value)
        self.kind = kind


# Substrings of PortAudio / V4L2 / OS messages, checked in order (first match wins).
_MESSAGE_KINDS: tuple[tuple[str, DeviceExceptionType], ...] = (
    ("permission denied", DeviceExceptionType.PERMISSION_NOT_GRANTED),
    ("not permitted", DeviceExceptionType.PERMISSION_NOT_GRANTED),
    ("busy", DeviceExceptionType.DEVICE_OCCUPIED),
    ("device unavailable", DeviceExceptionType.DEVICE_OCCUPIED),
    ("no such device", DeviceExceptionType.DEVICE_UNPLUGGED),
    ("device disconnected", DeviceExceptionType.DEVICE_UNPLUGGED),
    ("invalid device", DeviceExceptionType.INVALID_ID),
    ("error querying device", DeviceExceptionType.INVALID_ID),
    ("no input device matching", DeviceExceptionType.INVALID_ID),
    ("no output device matching", DeviceExceptionType.INVALID_ID),
    ("multiple input devices found", DeviceExceptionType.INVALID_ID),
    ("multiple output devices found", DeviceExceptionType.INVALID_ID),
)


def classify_device_error(exc: BaseException) -> DeviceExceptionType:
    """Map an exception from PortAudio, OpenCV or the OS to a ``DeviceExceptionType``.

    "Error querying device N" (-1: no default device) maps to ``INVALID_ID``: the device
    asked for does not exist.
    """
    if isinstance(exc, DeviceError):
        return exc.kind
    if isinstance(exc, PermissionError) or getattr(exc, "errno", None) in (
        errno.EACCES,
        errno.EPERM,
    ):
        return DeviceExceptionType.PERMISSION_NOT_GRANTED
    if getattr(exc, "errno", None) == errno.EBUSY:
        return DeviceExceptionType.DEVICE_OCCUPIED
    if getattr(exc, "errno", None) in (errno.ENODEV, errno.ENOENT, errno.ENXIO):
        return DeviceExceptionType.DEVICE_UNPLUGGED
    message = str(exc).lower()
    for needle, kind in _MESSAGE_KINDS:
        if needle in message:
            return kind
    return DeviceExceptionType.GENERIC
