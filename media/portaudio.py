"""Loading sounddevice without letting a missing PortAudio library crash the app."""

from __future__ import annotations

import functools
import logging
import threading
from typing import Any

log = logging.getLogger(__name__)


@functools.cache
def load_sounddevice() -> Any | None:
    """The ``sounddevice`` module, or None if the PortAudio library is missing.

    "No audio at all" is a normal state for Parley, so this never raises.
    """
    try:
        import sounddevice
    except OSError as exc:  # "PortAudio library not found"
        log.info("audio devices unavailable: %s", exc)
        return None
    return sounddevice


class _StreamCount:
    # PortAudio is one per process and re-initialising it (the only way to see newly
    # plugged devices) closes every open stream, so open streams are counted here.
    def __init__(self) -> None:
        self.value = 0
        self.lock = threading.RLock()


_streams = _StreamCount()


def portaudio_guard() -> threading.RLock:
    """Hold while opening streams or querying devices, so a re-scan cannot interleave."""
    return _streams.lock


def stream_opened() -> None:
    """Record that a PortAudio stream was opened (see refresh_devices)."""
    with _streams.lock:
        _streams.value += 1


def stream_closed() -> None:
    """Record that a PortAudio stream was closed."""
    with _streams.lock:
        _streams.value = max(0, _streams.value - 1)


def open_stream_count() -> int:
    """How many PortAudio streams Parley holds open."""
    return _streams.value


def refresh_devices() -> bool:
    """Re-scan PortAudio's devices if no stream is open; returns whether it did.

    PortAudio lists devices once at initialisation; sounddevice documents
    ``_terminate()``/``_initialize()`` as the way to see hot-plugged devices.
    """
    sd = load_sounddevice()
    if sd is None:
        return False
    with _streams.lock:
        if _streams.value:
            return False
        try:
            sd._terminate()
            sd._initialize()
        except Exception as exc:
            log.warning("PortAudio re-scan failed: %s", exc)
            return False
    return True
