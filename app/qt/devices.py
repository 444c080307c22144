"""The device settings presenter: device lists, preview frames and levels as Qt signals.

:class:`DevicesPresenter` holds the choices being edited (the dialog's OK saves them,
Cancel drops them), runs the preview and hot-plug polling as tasks through
:class:`~app.kit.tasks.TaskKeeper`, and tells the composition root which
:class:`MediaOptions` the saved choices make (``app.qt.settings_storage`` keeps them in
``QSettings``). It holds no widget.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Callable
from dataclasses import replace
from pathlib import Path

import numpy as np
from PySide6.QtCore import QObject, Signal, Slot

from app.kit.devices.preview import DevicePreview, speaker_output
from app.kit.devices.settings import DeviceChoices, DeviceSettings
from app.kit.media import MediaOptions
from app.kit.tasks import TaskKeeper
from app.kit.views.devices import DeviceKind, DeviceSettingsView, PreviewState

log = logging.getLogger("parley.devices")


class DevicesPresenter(QObject):
    """Device lists and preview out (signals), the user's choices in (slots)."""

    devices_changed = Signal(DeviceSettingsView)
    """The lists, with the choices being edited selected."""
    frame_ready = Signal(np.ndarray)
    """``H×W×3 uint8 RGB array`` from the previewed camera."""
    level_changed = Signal(float)
    """The previewed microphone's level in dBFS, about 10 times a second."""
    preview_state_changed = Signal(DeviceKind, PreviewState)
    """The camera or microphone preview's state."""
    test_sound_changed = Signal(bool)
    #: Where the microphone test is (a :class:`MicrophoneTest` value).
    microphone_test_changed = Signal(str)
    """Whether the test sound is playing."""
    saved = Signal(MediaOptions)
    """The options the saved choices make, for the calls and rooms to come."""

    def __init__(
        self,
        settings: DeviceSettings,
        tasks: TaskKeeper,
        *,
        base: MediaOptions | None = None,
        sounds_dir: Path | None = None,
        max_fps: float = 15.0,
        parent: QObject | None = None,
    ) -> None:
        """``base`` is what the choices are applied to (synthetic media, presets)."""
        super().__init__(parent)
        self._settings = settings
        self._tasks = tasks
        self._base = base or MediaOptions()
        self._draft = settings.choices
        self._previewing = False
        # Preview steps run in order: a quick close-then-open must not interleave.
        self._lock = asyncio.Lock()
        self._in_use: dict[DeviceKind, object] = {}
        self.preview = DevicePreview(
            self.frame_ready.emit,
            self.level_changed.emit,
            self.preview_state_changed.emit,
            max_fps=max_fps,
            sounds_dir=sounds_dir,
        )
        self._unsubscribe: Callable[[], None] | None = settings.subscribe(self._on_settings)

    # --- what the composition root reads ------------------------------------------------

    def media_options(self) -> MediaOptions:
        """The options the saved choices make now (the default stands in for a device
        that is not connected)."""
        return self._settings.media_options(self._base)

    @property
    def view(self) -> DeviceSettingsView:
        """The lists with the choices being edited."""
        return self._settings.view(self._draft)

    @property
    def draft(self) -> DeviceChoices:
        """The choices being edited."""
        return self._draft

    @property
    def can_play_test_sound(self) -> bool:
        return self.preview.can_play_test_sound

    @property
    def previewing(self) -> bool:
        """Whether the preview is wanted (between start_preview and stop_preview)."""
        return self._previewing

    @Slot()
    def refresh(self) -> None:
        """List the devices in the background (at start-up: until the devices have been
        listed once, the saved choices cannot be matched and the defaults are used)."""
        self._tasks.spawn(self._refresh(), "list the devices")

    async def _refresh(self) -> None:
        async with self._lock:
            await self._settings.refresh()

    # --- what the dialog asks for -------------------------------------------------------

    @Slot()
    def start_preview(self) -> None:
        """Begin editing the saved choices: list the devices, open the camera and mic."""
        self._draft = self._settings.choices
        self._previewing = True
        self.devices_changed.emit(self.view)
        self._tasks.spawn(self._start(), "start the device preview")

    @Slot()
    def stop_preview(self) -> None:
        """Release the camera and microphone and stop watching for devices."""
        self._previewing = False
        self._tasks.spawn(self._stop(), "stop the device preview")

    @Slot(str)
    def choose_camera(self, device_id: str) -> None:
        self._choose(DeviceKind.CAMERA, device_id)

    @Slot(str)
    def choose_microphone(self, device_id: str) -> None:
        self._choose(DeviceKind.MICROPHONE, device_id)

    @Slot(str)
    def choose_speaker(self, device_id: str) -> None:
        self._choose(DeviceKind.SPEAKER, device_id)

    @Slot(bool)
    def set_voice_processing(self, on: bool) -> None:
        """Echo cancellation and noise suppression on or off (saved with the choices)."""
        if self._draft.voice_processing == on:
            return
        self._draft = replace(self._draft, voice_processing=on)
        self.devices_changed.emit(self.view)

    @Slot()
    def play_test_sound(self) -> None:
        """Play the test sound on the speaker being chosen."""
        self.test_sound_changed.emit(True)
        self._tasks.spawn(self._play_test_sound(), "play the test sound")

    @Slot()
    def test_microphone(self) -> None:
        """Record a few seconds of the microphone being chosen, then play them back on
        the speaker being chosen."""
        self._tasks.spawn(self._test_microphone(), "test the microphone")

    async def _test_microphone(self) -> None:
        if not self._previewing:  # the dialog closed meanwhile
            return
        options = self._settings.media_options(self._base, self._draft)
        await self.preview.test_microphone(
            speaker_output(options), lambda step: self.microphone_test_changed.emit(step.value)
        )

    @Slot()
    def save(self) -> None:
        """Keep the choices being edited; :attr:`saved` tells the new options."""
        self._settings.save(self._draft)
        self.saved.emit(self.media_options())

    @Slot()
    def discard(self) -> None:
        """Drop the choices being edited."""
        self._draft = self._settings.choices
        self.devices_changed.emit(self.view)

    async def close(self) -> None:
        """Release the devices and stop polling; idempotent."""
        self._previewing = False
        if self._unsubscribe is not None:
            self._unsubscribe()
            self._unsubscribe = None
        async with self._lock:
            await self.preview.close()
            await self._settings.stop_watching()

    # --- the work -----------------------------------------------------------------------

    def _choose(self, kind: DeviceKind, device_id: str) -> None:
        if self._draft.of(kind) == device_id:
            return
        self._draft = self._draft.with_choice(kind, device_id)
        self.devices_changed.emit(self.view)
        if self._previewing and kind is not DeviceKind.SPEAKER:
            self._tasks.spawn(self._follow_choices(), f"preview the chosen {kind}")

    def _on_settings(self) -> None:
        self.devices_changed.emit(self.view)
        if self._previewing:
            # A device came or went: the one in use may be another now.
            self._tasks.spawn(self._follow_choices(), "follow the devices")

    async def _start(self) -> None:
        async with self._lock:
            if not self._previewing:
                return
            await self._settings.refresh()
            self.devices_changed.emit(self.view)
            if not self.previewing:  # stopped while listing: open nothing
                return
            self._settings.start_watching()
            self._in_use.clear()
            await self._open_changed()

    async def _play_test_sound(self) -> None:
        def done() -> None:
            self.test_sound_changed.emit(False)

        async with self._lock:
            if not self._previewing:  # the dialog closed meanwhile
                done()
                return
            options = self._settings.media_options(self._base, self._draft)
            await self.preview.play_test_sound(speaker_output(options), done)

    async def _stop(self) -> None:
        async with self._lock:
            if self._previewing:
                return  # started again meanwhile
            await self.preview.stop()
            await self._settings.stop_watching()
            self._in_use.clear()

    async def _follow_choices(self) -> None:
        async with self._lock:
            if self._previewing:
                await self._open_changed()

    async def _open_changed(self) -> None:
        """Open whichever previewed device differs from the one open now."""
        settings, draft = self._settings, self._draft
        options = settings.media_options(self._base, draft)
        camera = settings.camera(draft)
        if DeviceKind.CAMERA not in self._in_use or self._in_use[DeviceKind.CAMERA] != camera:
            self._in_use[DeviceKind.CAMERA] = camera
            await self.preview.open_camera(options, available=camera is not None)
        microphone = (options.microphone, bool(settings.devices.microphones))
        if self._in_use.get(DeviceKind.MICROPHONE) != microphone:
            self._in_use[DeviceKind.MICROPHONE] = microphone
            await self.preview.open_microphone(options, available=microphone[1])

    def preview_state(self, kind: DeviceKind) -> PreviewState:
        """How the preview of ``kind`` is doing."""
        return self.preview.state(kind)
