"""Media tracks: synthetic sources, camera, microphone and a switchable slot.

This module is the one place other code imports tracks from; the classes live in
small modules of their own.
"""

from __future__ import annotations

from media.camera import CameraTrack, Resolution, VideoPreset
from media.microphone import MicrophoneTrack
from media.slot import TrackSlot
from media.synthetic import (
    AUDIO_FRAME_SAMPLES,
    AUDIO_RATE,
    SyntheticAudioTrack,
    SyntheticVideoTrack,
)

__all__ = [
    "AUDIO_FRAME_SAMPLES",
    "AUDIO_RATE",
    "CameraTrack",
    "MicrophoneTrack",
    "Resolution",
    "SyntheticAudioTrack",
    "SyntheticVideoTrack",
    "TrackSlot",
    "VideoPreset",
]
