"""Where the call plays: the output device, and its menu's list.

:class:`CallAudioOutput` keeps the call's output state for the call view, lists the
output devices (off the loop) for the call page's menu, and switches through
:meth:`AudioVideoController.switch_audio_output`, whose ``on_audio_output_changed``
tells it the new route.
"""

from __future__ import annotations

from PySide6.QtCore import QObject, Signal

from app.kit.call.service import AudioVideoController
from app.kit.call.session import CallSession
from app.kit.tasks import TaskKeeper
from app.kit.views.outputs import AudioOutputView, list_audio_outputs
from media.errors import AudioRoute


class CallAudioOutput(QObject):
    """``listed(tuple[AudioOutputView, ...])`` for the menu; ``changed`` to re-render."""

    listed = Signal(tuple)
    changed = Signal()

    def __init__(
        self, audio_video: AudioVideoController, tasks: TaskKeeper, parent: QObject | None = None
    ) -> None:
        super().__init__(parent)
        self._audio_video = audio_video
        self._tasks = tasks
        self._session: CallSession | None = None
        self.route = AudioRoute.SPEAKER
        self._device: int | str | None = None

    def begin(self, session: CallSession) -> None:
        """A call starts: its media says where it plays."""
        self._session = session
        self._device = session.media.options.speaker
        self.route = AudioRoute.SPEAKER

    def end(self) -> None:
        """The call ended: nothing to list or switch."""
        self._session = None

    def on_route(self, route: AudioRoute) -> None:
        """``on_audio_output_changed``: sound now goes to ``route``."""
        self.route = route
        self.changed.emit()

    def list(self) -> None:
        """List the output devices, the current one marked; ``listed`` follows."""
        if self._session is not None:
            self._tasks.spawn(self._list(), "list audio outputs")

    async def _list(self) -> None:
        outputs: tuple[AudioOutputView, ...] = await list_audio_outputs(self._device)
        if self._session is not None:
            self.listed.emit(outputs)

    def switch(self, device: int | str | None) -> None:
        """Play to ``device`` (an output's index; ``None``: the system default)."""
        if self._session is not None:
            self._device = device
            self._tasks.spawn(self._audio_video.switch_audio_output(device), "audio output")
