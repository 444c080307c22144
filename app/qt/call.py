"""The call presenter: the kit's phases and the call's changes become view states and frames.

:class:`CallPresenter` follows :meth:`CallInvitationService.subscribe` and the running
:class:`CallSession`, builds the immutable views of :mod:`app.kit.views.call` and emits them as
Qt signals; the composition root connects those to the pages and the pages' intents to
the presenter's slots. It holds no widget (STYLE.md: logic never holds a widget) and
starts and stops the ringtone and ring-back. Its parts, each a small QObject with its own
signals: :class:`~app.qt_ringing.RingingViews` (the ringing pages' views and the caller's
toggles), :class:`~app.qt_video.VideoFeed` (one task per video track, throttled, RGB
arrays for ``set_frame``), :class:`~app.qt_call_chat.CallChatFeed` (messages, unread)
and :class:`~app.qt_audio_output.CallAudioOutput` (speaker, output device and its menu).
"""

from __future__ import annotations

import logging
from collections.abc import Awaitable, Callable, Coroutine
from typing import Any

from PySide6.QtCore import QObject, QTimer, Signal, Slot

from app.kit.call.invitations import Phase, PhaseChanged
from app.kit.call.service import CallInvitationService
from app.kit.call.session import CallChanged, CallSession
from app.kit.config import CallConfig
from app.kit.types import MinimizeState, RoomState
from app.kit.views.call import CallView, TileConnection, TileView, level_from_dbfs
from app.qt.account import TaskKeeper
from app.qt.audio_output import CallAudioOutput
from app.qt.chat import CallChatFeed
from app.qt.ringing import RingingViews
from app.qt.video import VideoFeed
from media.errors import AudioRoute
from media.peer_types import PeerState
from media.sounds import SoundPlayer
from signaling.enums import RoomStateChangedReason

log = logging.getLogger("parley.call_presenter")

_CONNECTION = {
    PeerState.NEW: TileConnection.CONNECTING,
    PeerState.CONNECTING: TileConnection.CONNECTING,
    PeerState.CONNECTED: TileConnection.CONNECTED,
    PeerState.RECONNECTING: TileConnection.RECONNECTING,
    PeerState.FAILED: TileConnection.FAILED,
    PeerState.CLOSED: TileConnection.FAILED,
}


class CallPresenter(QObject):
    """Views out (signals), user intents in (slots); one per application."""

    phase_changed = Signal(object)
    """``Phase``: what the navigation should show."""
    outgoing_view_changed = Signal(object)
    """``OutgoingCallView`` for the outgoing page (and the overlay while ringing)."""
    incoming_view_changed = Signal(object)
    """``IncomingCallView`` for the banner and the incoming page."""
    call_started = Signal(object)
    """``CallConfig`` of a call that begins: build its call page now."""
    call_view_changed = Signal(object)
    """``CallView`` for the call page and the overlay."""
    frame_ready = Signal(str, object)
    """``(user_id, H×W×3 uint8 RGB array)``; the local user's id for the self-view."""
    minimized_changed = Signal(bool)
    messages_changed = Signal(object)
    """``tuple[ChatMessageView, ...]`` for the call page's chat."""
    audio_outputs_listed = Signal(object)
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
        self.ringing = RingingViews(self._name_of, self)
        self.ringing.outgoing_view_changed.connect(self.outgoing_view_changed)
        self.ringing.incoming_view_changed.connect(self.incoming_view_changed)
        self.ringing.outcome_without_ringing.connect(self.outcome_without_ringing)
        self.kit = kit
        self._tasks = tasks
        self._sounds = sounds
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
        self._unsubscribe_session: Any = None
        self._joining_video: bool | None = None
        self._is_video = True
        self._reconnecting = False
        self._cancelling = False
        self._ticker = QTimer(self)
        self._ticker.setInterval(1000)
        self._ticker.timeout.connect(self.render_call)
        kit.subscribe(self._on_phase)
        kit.controller.minimize.subscribe(self._on_minimize)
        self._remove_listener = kit.bus.add_listener(self._on_bus_event)

    # --- what the kit reports -------------------------------------------------------

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
        elif path == "call.room.on_state_changed" and args and isinstance(args[0], RoomState):
            reason = args[0].reason
            self._reconnecting = reason is RoomStateChangedReason.RECONNECTING
            self.render_call()
        elif path == "call.audio_video.on_audio_output_changed" and args:
            route = args[0]
            if isinstance(route, AudioRoute):
                self.audio_output.on_route(route)

    def _on_minimize(self, state: MinimizeState) -> None:
        self.minimized_changed.emit(state is MinimizeState.MINIMIZING)
        self.render_call()

    def _on_session(self, change: CallChanged) -> None:
        if change.what == "ended":
            self._end()
            return
        if change.what == "members":
            self._sync_pumps()
        if change.what == "messages" and self.session is not None:
            self.chat.publish(self.session)
        self.render_call()

    # --- chat -----------------------------------------------------------------------

    @Slot(bool)
    def set_chat_visible(self, visible: bool) -> None:
        """The chat panel opened or closed: opening it marks everything read."""
        self.chat.set_visible(visible)

    @Slot(str)
    def send_message(self, text: str) -> None:
        """Send a chat message in the current call."""
        if (session := self.session) is not None:
            self._spawn(self._chat_op(session.chat.send(text)), "send message")

    @Slot(str)
    def resend_message(self, message_id: str) -> None:
        """Send a failed chat message again."""
        if (session := self.session) is not None:
            self._spawn(self._chat_op(session.chat.resend(message_id)), "resend message")

    @staticmethod
    async def _chat_op(operation: Awaitable[object]) -> None:
        await operation

    # --- the call -------------------------------------------------------------------

    def _begin(self, session: CallSession) -> None:
        if self.session is session:
            return
        self._end()
        self.session = session
        self.ringing.call_began()
        joining, self._joining_video = self._joining_video, None
        self._is_video = session.config.turn_on_camera_when_joining if joining is None else joining
        self.audio_output.begin(session)
        self._reconnecting = False
        self._unsubscribe_session = session.subscribe(self._on_session)
        self.chat.reset()
        self.call_started.emit(session.config)
        if self._is_video:
            # The self-view reads the mesh's relay, never the camera slot a second time
            # (started even with the camera off: it shows once the camera turns on).
            self.video.start(session.me.id, session.mesh.preview())
        self._sync_pumps()
        self._ticker.start()
        self.render_call()

    def _end(self) -> None:
        session, self.session = self.session, None
        if session is None:
            return
        self._ticker.stop()
        if self._unsubscribe_session is not None:
            self._unsubscribe_session()
            self._unsubscribe_session = None
        self.video.stop_all()
        self.audio_output.end()

    def joining_config(self, config: CallConfig, *, is_video: bool) -> CallConfig:
        """``config`` for the call the kit is creating, with the ringing page's toggles.

        Called as the kit builds the session, before it opens a device: a camera turned
        off while ringing never opens, and the other side sees it off from the start.
        """
        self._joining_video = is_video
        if self.phase is not Phase.OUTGOING:
            return config
        return self.ringing.joining_config(config, is_video=is_video)

    def call_view(self) -> CallView | None:
        """The call page's state now, or None outside a call."""
        session = self.session
        if session is None:
            return None
        media, me = session.media, session.me
        tiles = [
            TileView(
                user_id=me.id,
                name=me.name,
                is_local=True,
                microphone_on=media.microphone_on,
                camera_on=media.camera_on,
            )
        ]
        for user_id, member in session.members.items():
            tiles.append(
                TileView(
                    user_id=user_id,
                    name=member.user.name,
                    microphone_on=member.microphone,
                    camera_on=member.camera,
                    speaking_level=level_from_dbfs(member.level_dbfs),
                    is_speaking=member.speaking,
                    connection=_CONNECTION[member.connection],
                )
            )
        for user_id in sorted(session.pending_invitees - set(session.members) - {me.id}):
            tiles.append(
                TileView(
                    user_id=user_id,
                    name=self._name_of(user_id) or user_id,
                    waiting=True,
                    microphone_on=False,
                    camera_on=False,
                    connection=TileConnection.CONNECTING,
                )
            )
        names = [t.display_name for t in tiles[1:]]
        config = session.config
        return CallView(
            call_id=session.call_id,
            title=config.title or ", ".join(names),
            is_video=self._is_video,
            layout=config.layout,
            tiles=tuple(tiles),
            duration_s=session.duration_s,
            microphone_on=media.microphone_on,
            camera_on=media.camera_on,
            speaker_on=self.audio_output.speaker_on,
            audio_route=self.audio_output.route,
            minimized=session.minimized,
            unread_messages=self.chat.unread,
            reconnecting=self._reconnecting,
            can_remove_members=len(tiles) > 2,
        )

    @Slot()
    def render_call(self) -> None:
        """Emit the call's current view (also every second, for the duration)."""
        view = self.call_view()
        if view is not None:
            self.call_view_changed.emit(view)

    # --- video ----------------------------------------------------------------------

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

    # --- sounds ---------------------------------------------------------------------

    def _play(self, name: str) -> None:
        if self._sounds is not None:
            self._spawn(self._sounds.play(name), f"play {name}")

    def _stop_sound(self) -> None:
        if self._sounds is not None and self._sounds.playing is not None:
            self._spawn(self._sounds.stop(), "stop sound")

    def _spawn(self, coro: Coroutine[Any, Any, None], what: str) -> None:
        self._tasks.spawn(coro, what)

    # --- what the user asks for -----------------------------------------------------

    def call(self, user_ids: list[str], is_video: bool) -> None:
        """Invite one or several users (the home page's call buttons)."""
        if user_ids:
            self.ringing.calling(is_video)
            self._spawn(self._send(user_ids, is_video), "call")

    async def _send(self, user_ids: list[str], is_video: bool) -> None:
        await self.kit.send(user_ids, is_video)

    @Slot()
    def accept(self) -> None:
        self._spawn(self._accept(), "accept")

    async def _accept(self) -> None:
        await self.kit.press_accept()

    @Slot()
    def decline(self) -> None:
        self._spawn(self._decline(), "decline")

    async def _decline(self) -> None:
        await self.kit.press_decline()

    @Slot()
    def cancel(self) -> None:
        self._cancelling = True
        self._spawn(self._cancel(), "cancel")

    async def _cancel(self) -> None:
        await self.kit.press_cancel()

    @property
    def cancelled_by_user(self) -> bool:
        """The last outgoing call ended with our cancel button (no outcome to show)."""
        return self._cancelling

    @Slot()
    def hang_up(self) -> None:
        self._spawn(self._hang_up(), "hang up")

    async def _hang_up(self) -> None:
        await self.kit.controller.hang_up(show_confirmation=True)

    @Slot(bool)
    def set_microphone(self, on: bool) -> None:
        if self.session is None:
            self.ringing.set_toggle(microphone_on=on)
            return
        self._spawn(self.kit.controller.audio_video.turn_microphone_on(on), "microphone")

    @Slot(bool)
    def set_camera(self, on: bool) -> None:
        if self.session is None:
            self.ringing.set_toggle(camera_on=on)
            return
        self._spawn(self.kit.controller.audio_video.turn_camera_on(on), "camera")

    @Slot(bool)
    def set_speaker(self, on: bool) -> None:
        if self.session is not None:
            self.audio_output.set_speaker(on)
        else:
            self.ringing.set_toggle(speaker_on=on)

    @Slot()
    def list_audio_outputs(self) -> None:
        """List the output devices (off the loop); ``audio_outputs_listed`` follows."""
        self.audio_output.list()

    @Slot(object)
    def switch_audio_output(self, device: int | str | None) -> None:
        """Play the call to ``device`` (an output's index; ``None``: the system default)."""
        self.audio_output.switch(device)

    @Slot()
    def switch_camera(self) -> None:
        if self.session is not None:
            index = 1 - min(1, self.session.media.options.camera_index)
            self._spawn(self.kit.controller.audio_video.switch_camera(index), "camera")

    @Slot(str)
    def remove_member(self, user_id: str) -> None:
        self._spawn(self.kit.controller.user.remove([user_id]), "remove member")

    @Slot()
    def minimize(self) -> None:
        self.kit.controller.minimize.minimize()

    @Slot()
    def restore(self) -> None:
        self.kit.controller.minimize.restore()

    async def close(self) -> None:
        """Stop reading video and sounds; idempotent (the app's shutdown)."""
        self._end()
        self._remove_listener()
        await self.video.close()
        if self._sounds is not None:
            await self._sounds.close()
