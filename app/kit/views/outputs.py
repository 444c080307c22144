"""The audio outputs a call can play to, as plain data for the call page's output menu.

Widgets never import ``media``: the presenter lists the devices here and hands the page
:class:`AudioOutputView` values; the page hands back the chosen ``device``.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

from media.devices import AudioDeviceInfo, list_speakers
from media.errors import AudioRoute
from media.threads import run_in_thread

__all__ = ["AudioOutputView", "audio_output_views", "list_audio_outputs"]


@dataclass(frozen=True, slots=True, kw_only=True)
class AudioOutputView:
    """One output device in the menu; ``device`` is what the kit's switch takes."""

    device: int
    name: str
    route: AudioRoute = AudioRoute.SPEAKER
    is_system_default: bool = False
    current: bool = False

    def __post_init__(self) -> None:
        if not isinstance(self.route, AudioRoute):
            raise TypeError("AudioOutputView.route must be an AudioRoute")
        if not self.name:
            raise ValueError("AudioOutputView.name must not be empty")


def audio_output_views(
    speakers: Sequence[AudioDeviceInfo], current: int | str | None
) -> tuple[AudioOutputView, ...]:
    """The menu's entries; ``current`` (index, name, or None for the system default)
    marks the device in use."""

    def in_use(info: AudioDeviceInfo) -> bool:
        if current is None:
            return info.is_default
        return current in (info.index, info.name)

    return tuple(
        AudioOutputView(
            device=info.index,
            name=info.name,
            route=info.route or AudioRoute.SPEAKER,
            is_system_default=info.is_default,
            current=in_use(info),
        )
        for info in speakers
    )


async def list_audio_outputs(current: int | str | None) -> tuple[AudioOutputView, ...]:
    """:func:`audio_output_views` of the devices present now, listed off the loop."""
    speakers = await run_in_thread(list_speakers, name="audio-outputs")
    return audio_output_views(speakers, current)
