"""Playback: mix remote audio tracks into one output, a sound device or a null clock.

One reader task per remote track decodes its frames to 48 kHz mono s16 and queues them
in the :class:`~media.mixer.Mixer`; the output pulls 20 ms blocks from the mixer at its
own pace. The output is either a ``sounddevice.OutputStream`` or, with no device, a
clock on the event loop that consumes and mixes in real time (tests, benchmarks and
machines without a speaker).
"""

from __future__ import annotations

import asyncio
import contextlib
import enum
import logging
import time
from collections.abc import Callable
from typing import Any, Final

import av
import numpy as np
import numpy.typing as npt
from aiortc.mediastreams import MediaStreamError, MediaStreamTrack

from media.clock import FramePacer
from media.errors import DeviceExceptionType, classify_device_error
from media.mixer import Mixer
from media.output import DeviceOutput
from media.portaudio import load_sounddevice, portaudio_guard

log = logging.getLogger(__name__)

RATE: Final = 48_000
BLOCK: Final = 960  # 20 ms


class NullOutput(enum.Enum):
    """Marker for "no sound device": mix on a clock and discard."""

    NULL = "null"


NULL_OUTPUT: Final = NullOutput.NULL
"""Pass as ``device`` to play to no device."""

OutputDevice = int | str | None | NullOutput
"""A PortAudio device index or name, None for the system default, or NULL_OUTPUT."""

Tap = Callable[[npt.NDArray[np.int16], float], None]
SourceListener = Callable[[str, npt.NDArray[np.int16]], None]


class AudioPlayback:
    """Mixes remote audio tracks, with per-user volume and mute, into one output.

    Taps and source listeners are called on the event loop thread. ``on_device_error``
    is called when the output device fails; playback then continues on the system
    default device or, failing that, the null output (it does not move back by itself:
    call ``set_output_device`` when the device returns). Each source queues at most
    ``max_buffer_ms`` and starts playing once ``prebuffer_ms`` is queued, which keeps
    the playout delay to about one block. ``portaudio`` replaces the sounddevice module
    (a test seam).
    """

    def __init__(
        self,
        device: OutputDevice = None,
        *,
        on_device_error: Callable[[DeviceExceptionType], None] | None = None,
        prebuffer_ms: float = 20.0,
        max_buffer_ms: float = 60.0,
        portaudio: Any = None,
    ) -> None:
        self._device: OutputDevice = device
        # The sounddevice module, or a stand-in with its interface (a test seam).
        self._portaudio = portaudio
        self._on_device_error = on_device_error
        self._mixer = Mixer(
            prebuffer=int(RATE * prebuffer_ms / 1000), max_buffer=int(RATE * max_buffer_ms / 1000)
        )
        self._readers: dict[str, asyncio.Task[None]] = {}
        self._taps: list[Tap] = []
        self._listeners: list[SourceListener] = []
        self._output: DeviceOutput | None = None
        self._null_task: asyncio.Task[None] | None = None
        self._watchdog: asyncio.Task[None] | None = None
        # Cancelled tasks not awaited yet; stop() and close() wait for them.
        self._retired: set[asyncio.Task[None]] = set()
        self._running = False
        self._closed = False
        self.blocks_played = 0
        """How many blocks the current or past outputs consumed (for tests and stats)."""

    # -- lifecycle ---------------------------------------------------------------

    async def start(self) -> None:
        """Open the output and start mixing. Must run on the event loop."""
        if self._closed:
            raise RuntimeError("AudioPlayback is closed")
        if self._running:
            return
        self._running = True
        self._open_output(self._device, report=True)
        self._watchdog = asyncio.get_running_loop().create_task(self._watch_output())

    async def stop(self) -> None:
        """Close the output; tracks stay attached and a later start() resumes."""
        self._running = False
        for task in (self._watchdog, self._null_task):
            if task is not None:
                task.cancel()
                with contextlib.suppress(asyncio.CancelledError):
                    await task
        self._watchdog = self._null_task = None
        if self._output is not None:
            self._output.close()
            self._output = None
        await self._await_retired()

    async def close(self) -> None:
        """Stop, detach every track and end all tasks. Idempotent."""
        if self._closed:
            return
        self._closed = True
        await self.stop()
        for key in list(self._readers):
            await self.remove_track(key)
        await self._await_retired()
        self._taps.clear()
        self._listeners.clear()

    # -- tracks and mixing -----------------------------------------------------------

    def add_track(self, key: str, track: MediaStreamTrack) -> None:
        """Play ``track`` as the source ``key`` (usually the remote user id).

        A second track for the same key replaces the first. Must run on the event loop.
        """
        if self._closed:
            raise RuntimeError("AudioPlayback is closed")
        old = self._readers.pop(key, None)
        if old is not None:
            self._retire(old)
        self._mixer.add_source(key)
        task = asyncio.get_running_loop().create_task(
            self._read(key, track), name=f"playback-reader-{key}"
        )
        self._readers[key] = task

    async def remove_track(self, key: str) -> None:
        """Stop playing ``key``; its reader task has ended when this returns."""
        task = self._readers.pop(key, None)
        self._mixer.remove_source(key)
        if task is not None:
            task.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await task

    @property
    def underruns(self) -> int:
        """How often a playing source ran dry since playback was built."""
        return self._mixer.underruns

    @property
    def keys(self) -> list[str]:
        """Keys of the tracks being played."""
        return list(self._readers)

    def set_volume(self, key: str, volume: float) -> None:
        """Per-user volume, 0 (silent) to 2 (double); KeyError for an unknown key."""
        self._mixer.set_volume(key, volume)

    def volume(self, key: str) -> float:
        """Per-user volume."""
        return self._mixer.volume(key)

    def set_user_muted(self, key: str, muted: bool) -> None:
        """Mute one user locally; others still hear them."""
        self._mixer.set_source_muted(key, muted)

    def is_user_muted(self, key: str) -> bool:
        """Whether one user is muted locally."""
        return self._mixer.source_muted(key)

    @property
    def muted(self) -> bool:
        """Global mute: the output plays silence (tracks keep being consumed)."""
        return self._mixer.muted

    @muted.setter
    def muted(self, value: bool) -> None:
        self._mixer.muted = value

    def add_tap(self, callback: Tap) -> None:
        """Call ``callback(block, t)`` for each mixed block; ``t`` is when it is played."""
        self._taps.append(callback)

    def remove_tap(self, callback: Tap) -> None:
        """Undo add_tap; unknown callbacks are ignored."""
        with contextlib.suppress(ValueError):
            self._taps.remove(callback)

    def add_source_listener(self, callback: SourceListener) -> None:
        """Call ``callback(key, samples)`` with each decoded 48 kHz mono block of a source.

        Meant for level meters, so tracks are decoded once.
        """
        self._listeners.append(callback)

    def remove_source_listener(self, callback: SourceListener) -> None:
        """Undo add_source_listener; unknown callbacks are ignored."""
        with contextlib.suppress(ValueError):
            self._listeners.remove(callback)

    # -- output device ---------------------------------------------------------------

    @property
    def device(self) -> OutputDevice:
        """The requested output device."""
        return self._device

    @property
    def output_is_null(self) -> bool:
        """Whether audio currently goes to the null output."""
        return self._output is None

    @property
    def device_callbacks(self) -> int:
        """How many PortAudio callbacks the current device stream has run."""
        return self._output.callbacks if self._output is not None else 0

    async def set_output_device(self, device: OutputDevice) -> None:
        """Switch output without a gap: the new output opens before the old one closes."""
        self._device = device
        if self._running:
            self._open_output(device, report=True)

    def _open_output(self, device: OutputDevice, *, report: bool) -> None:
        old_output, old_null = self._output, self._null_task
        new_output: DeviceOutput | None = None
        if device is not NULL_OUTPUT:
            new_output = self._try_open_device(device, report=report)
        if new_output is None and old_null is not None:
            # Already on the null output: nothing to switch.
            if old_output is not None:
                old_output.close()
                self._output = None
            return
        self._output = new_output
        if new_output is None:
            loop = asyncio.get_running_loop()
            self._null_task = loop.create_task(self._run_null_output(), name="playback-null")
        else:
            self._null_task = None
        if old_output is not None:
            old_output.close()
        if old_null is not None:
            self._retire(old_null)

    def _retire(self, task: asyncio.Task[None]) -> None:
        task.cancel()
        self._retired.add(task)
        task.add_done_callback(self._retired.discard)

    async def _await_retired(self) -> None:
        tasks = list(self._retired)
        await asyncio.gather(*tasks, return_exceptions=True)
        self._retired.difference_update(tasks)

    def _try_open_device(self, device: int | str | None, *, report: bool) -> DeviceOutput | None:
        sd = self._portaudio if self._portaudio is not None else load_sounddevice()
        if device is None and (sd is None or not _has_output_device(sd)):
            # No speaker at all is a normal state: play to the null output quietly.
            return None
        candidates: list[int | str | None] = [device] if device is None else [device, None]
        for index, candidate in enumerate(candidates):
            try:
                if sd is None:
                    raise OSError("PortAudio library not found")
                return DeviceOutput(
                    sd,
                    candidate,
                    RATE,
                    BLOCK,
                    pull=self._pull,
                    emit=self._emit,
                    loop=asyncio.get_running_loop(),
                )
            except Exception as exc:
                log.warning("cannot open audio output %r: %s", candidate, exc)
                if index == 0 and report:
                    self._report(classify_device_error(exc))
        return None

    async def _watch_output(self) -> None:
        # PortAudio does not always call back when a device vanishes; a stream that
        # stopped running or went quiet for too long is treated as unplugged.
        while True:
            await asyncio.sleep(0.5)
            output = self._output
            if output is not None and output.lost():
                log.warning("audio output %r lost", output.device)
                self._report(DeviceExceptionType.DEVICE_UNPLUGGED)
                # The requested device falls back to the default, the default to null.
                fallback: OutputDevice = None if output.device is not None else NULL_OUTPUT
                self._open_output(fallback, report=False)

    def _report(self, kind: DeviceExceptionType) -> None:
        if self._on_device_error is not None:
            try:
                self._on_device_error(kind)
            except Exception:
                log.exception("on_device_error callback failed")

    async def _run_null_output(self) -> None:
        pacer = FramePacer(BLOCK / RATE)
        while True:
            await pacer.wait_next()
            block = self._pull(BLOCK)
            self._emit(block, time.perf_counter())

    # -- mixing and taps --------------------------------------------------------------------

    def _pull(self, frames: int) -> npt.NDArray[np.int16]:
        self.blocks_played += 1
        return self._mixer.pull(frames)

    def _emit(self, block: npt.NDArray[np.int16], played_at: float) -> None:
        for tap in list(self._taps):
            try:
                tap(block, played_at)
            except Exception:
                log.exception("playback tap failed")

    # -- readers ---------------------------------------------------------------------------

    async def _read(self, key: str, track: MediaStreamTrack) -> None:
        resampler = av.AudioResampler(format="s16", layout="mono", rate=RATE)
        try:
            while True:
                try:
                    frame = await track.recv()
                except MediaStreamError:
                    return  # the remote user's track ended
                if not isinstance(frame, av.AudioFrame):
                    raise TypeError(f"audio track {key!r} produced {type(frame).__name__}")
                for out in resampler.resample(frame):
                    samples: npt.NDArray[np.int16] = (
                        out.to_ndarray().reshape(-1).astype(np.int16, copy=False)
                    )
                    self._mixer.push(key, samples)
                    for listener in list(self._listeners):
                        try:
                            listener(key, samples)
                        except Exception:
                            log.exception("playback source listener failed")
        except Exception:
            # A broken source must not take the others down; say so and drop it.
            log.exception("audio source %r failed; no longer playing it", key)
        finally:
            if self._readers.get(key) is asyncio.current_task():
                del self._readers[key]
                self._mixer.remove_source(key)


def _has_output_device(sd: Any) -> bool:
    try:
        # Under the guard: a device re-scan in another thread must not run meanwhile.
        with portaudio_guard():
            return any(d["max_output_channels"] > 0 for d in sd.query_devices())
    except Exception:
        return False
