"""The call presenter: the kit's phases and the call's changes become views and frames.

:class:`CallPresenter` follows :meth:`CallInvitationService.subscribe` and the running
:class:`CallSession`, emits the immutable views (:mod:`app.kit.views.call`, built by
:func:`app.kit.call.view.call_view`) as typed Qt signals, and starts and stops the
ringtone and ring-back; the composition root connects those signals to the pages and
the pages' intents to its slots. It holds no widget. Its parts, each a small QObject
with its own signals: :class:`~app.qt.ringing.RingingViews` (the ringing pages' views),
:class:`~app.qt.video.VideoFeed` (one task per video track, throttled, RGB arrays for
``set_frame``), :class:`~app.qt.chat.CallChatFeed` (messages, unread) and
:class:`~app.qt.audio_output.CallAudioOutput` (output device and its menu).
"""

from __future__ import annotations

import logging
from collections.abc import Awaitable, Callable, Coroutine
from typing import Any

import numpy as np
from PySide6.QtCore import QObject, Signal, Slot

from app.kit.call.invitations import Phase, PhaseChanged
from app.kit.call.service import CallInvitationService
from app.kit.call.session import CallSession
from app.kit.call.view import call_view
from app.kit.config import CallConfig
from app.kit.listeners import Unsubscribe
from app.kit.room.session import Change
from app.kit.tasks import TaskKeeper
from app.kit.types import MinimizeState
from app.kit.views.call import CallView, IncomingCallView, OutgoingCallView
from app.kit.views.outputs import AudioOutputView
from app.qt.audio_output import CallAudioOutput
from app.qt.chat import CallChatFeed
from app.qt.ringing import RingingViews
from app.qt.video import VideoFeed
from media.errors import AudioRoute
from media.sounds import SoundPlayer

log = logging.getLogger("parley.qt.call")

__all__ = ["CallPresenter"]


class CallPresenter(QObject):
    """Views out (signals), user intents in (slots); one per application."""

    phase_changed = Signal(Phase)
    """What the navigation should show."""
    outgoing_view_changed = Signal(OutgoingCallView)
    """For the outgoing page (and the overlay while ringing)."""
    incoming_view_changed = Signal(IncomingCallView)
    """For the banner and the incoming page."""
    call_started = Signal(CallConfig)
    """The config of a call that begins: build its call page now."""
    call_view_changed = Signal(CallView)
    """For the call page and the overlay."""
    frame_ready = Signal(str, np.ndarray)
    """``(user_id, H×W×3 uint8 RGB array)``; the local user's id for the self-view."""
    minimized_changed = Signal(bool)
    messages_changed = Signal(tuple)
    """``tuple[ChatMessageView, ...]`` for the call page's chat."""
    audio_outputs_listed = Signal(tuple)
    """``tuple[AudioOutputView, ...]``, the current one marked: the output menu's entries."""
    outcome_without_ringing = Signal()
    """A call was refused before it rang (busy): show the outgoing page's outcome briefly."""

    def __init__(
        self,
        kit: CallInvitationService,
        tasks: TaskKeeper,
        sounds: SoundPlayer | None = None,
        *,
        max_fps: float = 30.0,
        name_of: Callable[[str], str | None] | None = None,
        parent: QObject | None = None,
    ) -> None:
        """``name_of`` looks up display names of user IDs (invitations carry only IDs)."""
        super().__init__(parent)
        self._name_of = name_of or (lambda user_id: None)
        self.kit = kit
        self._tasks = tasks
        self._sounds = sounds
        self.ringing = RingingViews(kit, self._name_of, self)
        self.ringing.outgoing_view_changed.connect(self.outgoing_view_changed)
        self.ringing.incoming_view_changed.connect(self.incoming_view_changed)
        self.ringing.outcome_without_ringing.connect(self.outcome_without_ringing)
        self.chat = CallChatFeed(self)
        self.chat.messages_changed.connect(self.messages_changed)
        self.chat.unread_changed.connect(self.render_call)
        self.audio_output = CallAudioOutput(kit.controller.audio_video, tasks, self)
        self.audio_output.listed.connect(self.audio_outputs_listed)
        self.audio_output.changed.connect(self.render_call)
        self.video = VideoFeed(max_fps, self)
        self.video.frame_ready.connect(self.frame_ready)
        self.phase = Phase.IDLE
        self.session: CallSession | None = None
        #: Awaited before accepting a call; False keeps it ringing. The composition root
        #: leaves an audio room here: one call or room at a time.
        self.before_joining: Callable[[], Awaitable[bool]] | None = None
        self._unsubscribe_session: Unsubscribe | None = None
        self._cancelling = False
        self._unsubscribe = [
            kit.subscribe(self._on_phase),
            kit.controller.minimize.subscribe(self._on_minimize),
            kit.bus.subscribe(self._on_bus_event),
        ]

    # --- what the kit reports ---------------------------------------------------------

    def _on_phase(self, change: PhaseChanged) -> None:
        previous, self.phase = self.phase, change.phase
        if change.phase is Phase.OUTGOING and change.ringing is not None:
            self._cancelling = False
            self.ringing.ring_out(change.ringing)
            self._play("ringback")
        elif change.phase is Phase.INCOMING and change.ringing is not None:
            self.ringing.ring_in(change.ringing)
            self._play("ringtone")
        elif change.phase is Phase.IN_CALL and change.session is not None:
            self._stop_sound()
            self._begin(change.session)
        elif change.phase is Phase.IDLE:
            self._stop_sound()
            if previous is Phase.IN_CALL:
                self._end()
        self.phase_changed.emit(change.phase)

    def _on_bus_event(self, path: str, args: tuple[object, ...]) -> None:
        if path.startswith("invitation.") and self.session is None:
            self.ringing.on_bus_event(path, args, idle=self.phase is Phase.IDLE)
        elif path == "call.audio_video.on_audio_output_changed" and args:
            route = args[0]
            if isinstance(route, AudioRoute):
                self.audio_output.on_route(route)

    def _on_minimize(self, state: MinimizeState) -> None:
        self.minimized_changed.emit(state is MinimizeState.MINIMIZING)
        self.render_call()

    def _on_session(self, change: Change) -> None:
        if change is Change.ENDED:
            self._end()
            return
        if change is Change.MEMBERS:
            self._sync_pumps()
        if change is Change.MESSAGES and self.session is not None:
            self.chat.publish(self.session)
        self.render_call()

    # --- the call ---------------------------------------------------------------------

    def _begin(self, session: CallSession) -> None:
        if self.session is session:
            return
        self._end()
        self.session = session
        self.ringing.call_began()
        self.audio_output.begin(session)
        self._unsubscribe_session = session.subscribe(self._on_session)
        self.chat.reset()
        self.call_started.emit(session.config)
        if session.is_video:
            # The self-view reads the mesh's relay, never the camera slot a second time
            # (started even with the camera off: it shows once the camera turns on).
            self.video.start(session.me.id, session.mesh.preview())
        self._sync_pumps()
        self.render_call()

    def _end(self) -> None:
        session, self.session = self.session, None
        if session is None:
            return
        if self._unsubscribe_session is not None:
            self._unsubscribe_session()
            self._unsubscribe_session = None
        self.video.stop_all()
        self.audio_output.end()

    def call_view(self) -> CallView | None:
        """The call page's state now, or None outside a call."""
        if self.session is None:
            return None
        return call_view(
            self.session,
            name_of=self._name_of,
            audio_route=self.audio_output.route,
            unread_messages=self.chat.unread,
        )

    @Slot()
    def render_call(self) -> None:
        """Emit the call's current view (the session's clock asks every second)."""
        view = self.call_view()
        if view is not None:
            self.call_view_changed.emit(view)

    def _sync_pumps(self) -> None:
        if (session := self.session) is not None:
            tracks = {user_id: member.video for user_id, member in session.members.items()}
            self.video.sync(tracks, keep=(session.me.id,))

    @property
    def video_tasks(self) -> int:
        """How many video readers run (tests check they all end with the call)."""
        return self.video.tasks

    @property
    def first_frame_at(self) -> dict[str, float]:
        """perf_counter of the first frame handed out per user (the benchmark reads it)."""
        return self.video.first_frame_at

    # --- sounds -----------------------------------------------------------------------

    def _play(self, name: str) -> None:
        if self._sounds is not None:
            self._spawn(self._sounds.play(name), f"play {name}")

    def _stop_sound(self) -> None:
        if self._sounds is not None and self._sounds.playing is not None:
            self._spawn(self._sounds.stop(), "stop sound")

    def _spawn(self, coro: Coroutine[Any, Any, object], what: str) -> None:
        self._tasks.spawn(coro, what)

    # --- what the user asks for -------------------------------------------------------

    @Slot(list, bool)
    def call(self, user_ids: list[str], is_video: bool) -> None:
        """Invite one or several users (the home page's call buttons, Call back)."""
        if user_ids:
            self.ringing.calling(is_video)
            self._spawn(self.kit.send(user_ids, is_video), "call")

    @Slot()
    def accept(self) -> None:
        """Accept the call ringing here (after :attr:`before_joining` lets it)."""
        self._spawn(self._accept(), "accept")

    async def _accept(self) -> None:
        if self.before_joining is not None and not await self.before_joining():
            return
        await self.kit.press_accept()

    @Slot()
    def decline(self) -> None:
        self._spawn(self.kit.press_decline(), "decline")

    @Slot()
    def cancel(self) -> None:
        self._cancelling = True
        self._spawn(self.kit.press_cancel(), "cancel")

    @Slot(str)
    def cancel_invitee(self, user_id: str) -> None:
        """Stop ringing one invitee of the call (their waiting tile's cancel button)."""
        self._spawn(self.kit.cancel_invitee(user_id), f"cancel the invitation of {user_id}")

    @property
    def cancelled_by_user(self) -> bool:
        """The last outgoing call ended with our cancel button (no outcome to show)."""
        return self._cancelling

    @Slot()
    def hang_up(self) -> None:
        self._spawn(self.kit.controller.hang_up(show_confirmation=True), "hang up")

    @Slot()
    def leave(self) -> None:
        """The overlay's leave button: cancel, decline or hang up, whatever is going on."""
        if self.phase is Phase.OUTGOING:
            self.cancel()
        elif self.phase is Phase.INCOMING:
            self.decline()
        else:
            self.hang_up()

    @Slot(bool)
    def set_microphone(self, on: bool) -> None:
        if self.session is None:
            self.ringing.set_toggle(microphone=on)
            return
        self._spawn(self.kit.controller.audio_video.turn_microphone_on(on), "microphone")

    @Slot(bool)
    def set_camera(self, on: bool) -> None:
        if self.session is None:
            self.ringing.set_toggle(camera=on)
            return
        self._spawn(self.kit.controller.audio_video.turn_camera_on(on), "camera")

    @Slot(bool)
    def share_screen(self, on: bool) -> None:
        """The share button: send the screen instead of the camera, or stop."""
        if self.session is not None:
            self._spawn(self.kit.controller.audio_video.share_screen(on), "screen sharing")

    @Slot(bool)
    def set_speaker(self, on: bool) -> None:
        if self.session is None:
            self.ringing.set_toggle(speaker=on)
            return
        self.session.set_speaker(on)

    @Slot()
    def list_audio_outputs(self) -> None:
        """List the output devices (off the loop); ``audio_outputs_listed`` follows."""
        self.audio_output.list()

    @Slot(AudioOutputView)
    def switch_audio_output(self, output: AudioOutputView) -> None:
        """Play the call to ``output``."""
        self.audio_output.switch(output.device)

    @Slot()
    def switch_camera(self) -> None:
        if self.session is not None:
            index = 1 - min(1, self.session.media.options.camera_index)
            self._spawn(self.kit.controller.audio_video.switch_camera(index), "camera")

    @Slot(str)
    def remove_member(self, user_id: str) -> None:
        self._spawn(self.kit.controller.user.remove([user_id]), "remove member")

    @Slot(bool)
    def set_chat_visible(self, visible: bool) -> None:
        """The chat panel opened or closed: opening it marks everything read."""
        self.chat.set_visible(visible)

    @Slot(str)
    def send_message(self, text: str) -> None:
        """Send a chat message in the current call."""
        if (session := self.session) is not None:
            self._spawn(session.chat.send(text), "send message")

    @Slot(str)
    def resend_message(self, message_id: str) -> None:
        """Send a failed chat message again."""
        if (session := self.session) is not None:
            self._spawn(session.chat.resend(message_id), "resend message")

    @Slot()
    def minimize(self) -> None:
        self.kit.controller.minimize.minimize()

    @Slot()
    def restore(self) -> None:
        self.kit.controller.minimize.restore()

    async def close(self) -> None:
        """Stop reading video and sounds; idempotent (the app's shutdown)."""
        self._end()
        for unsubscribe in self._unsubscribe:
            unsubscribe()
        await self.video.close()
        if self._sounds is not None:
            await self._sounds.close()
