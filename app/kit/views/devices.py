"""What the device settings dialog shows: immutable device lists and preview states.

The contract between :mod:`app.kit.devices.settings` and the dialog in ``widgets/``:
the service builds these values, the dialog renders them and answers with device ids.
No device at all is a normal state: an empty list, which the dialog shows as
"No camera" (or microphone, speaker). The texts themselves belong to the dialog.
"""

from __future__ import annotations

from dataclasses import dataclass
from enum import StrEnum

__all__ = [
    "SYSTEM_DEFAULT",
    "DeviceKind",
    "DeviceListView",
    "DeviceOption",
    "DeviceSettingsView",
    "MicrophoneTest",
    "PreviewState",
]

#: The id of the "System default" choice (the operating system picks the device).
SYSTEM_DEFAULT = ""


class DeviceKind(StrEnum):
    """The three devices a user chooses."""

    CAMERA = "camera"
    MICROPHONE = "microphone"
    SPEAKER = "speaker"


class MicrophoneTest(StrEnum):
    """Where the microphone test is: record a few seconds, then hear them back."""

    IDLE = "idle"
    RECORDING = "recording"
    PLAYING = "playing"


class PreviewState(StrEnum):
    """How the preview of one device is doing."""

    OFF = "off"
    STARTING = "starting"
    LIVE = "live"
    #: There is no such device at all (a normal state, not an error).
    NO_DEVICE = "no_device"
    #: Another application holds the device.
    BUSY = "busy"
    #: The system refused access to the device.
    DENIED = "denied"
    #: Opened, but no picture or sound comes.
    SILENT = "silent"
    #: Could not be opened for another reason, or it was unplugged.
    FAILED = "failed"


@dataclass(frozen=True)
class DeviceOption:
    """One device the user can choose."""

    id: str
    """Stable across restarts and hot-plugs (unlike the system's device indices)."""
    name: str
    is_system_default: bool = False
    """Whether the system uses this device when "System default" is chosen."""

    def __post_init__(self) -> None:
        if self.id == SYSTEM_DEFAULT:
            raise ValueError("a device needs a non-empty id")


@dataclass(frozen=True)
class DeviceListView:
    """The devices of one kind, and which one is in use."""

    kind: DeviceKind
    options: tuple[DeviceOption, ...] = ()
    selected: str = SYSTEM_DEFAULT
    """The id of the option in use, or ``SYSTEM_DEFAULT``."""
    offers_default: bool = False
    """Whether "System default" is a choice (audio devices; cameras have none)."""
    missing: str = ""
    """The name of the chosen device when it is not connected (the default is used)."""

    def __post_init__(self) -> None:
        ids = [option.id for option in self.options]
        if len(set(ids)) != len(ids):
            raise ValueError(f"device ids must be unique, got {ids}")
        if self.selected != SYSTEM_DEFAULT and self.selected not in ids:
            raise ValueError(f"selected {self.selected!r} is not among {ids}")
        if self.selected == SYSTEM_DEFAULT and self.options and not self.offers_default:
            raise ValueError(f"{self.kind} offers no system default: select a device")

    @property
    def empty(self) -> bool:
        """Whether there is no device of this kind at all."""
        return not self.options


@dataclass(frozen=True)
class DeviceSettingsView:
    """Everything the dialog lists."""

    cameras: DeviceListView = DeviceListView(DeviceKind.CAMERA)
    microphones: DeviceListView = DeviceListView(DeviceKind.MICROPHONE, offers_default=True)
    speakers: DeviceListView = DeviceListView(DeviceKind.SPEAKER, offers_default=True)
    listed: bool = True
    """False until the devices have been listed once (empty lists then mean "unknown")."""
    voice_processing: bool = True
    """Whether echo cancellation and noise suppression are on for the microphone."""

    def __post_init__(self) -> None:
        for kind, devices in (
            (DeviceKind.CAMERA, self.cameras),
            (DeviceKind.MICROPHONE, self.microphones),
            (DeviceKind.SPEAKER, self.speakers),
        ):
            if devices.kind is not kind:
                raise ValueError(f"expected a {kind} list, got {devices.kind}")

    def of(self, kind: DeviceKind) -> DeviceListView:
        """The list of ``kind``."""
        return {
            DeviceKind.CAMERA: self.cameras,
            DeviceKind.MICROPHONE: self.microphones,
            DeviceKind.SPEAKER: self.speakers,
        }[kind]
