"""The call presenter: the kit's phases and the call's changes become view states and frames.

:class:`CallPresenter` follows :meth:`CallInvitationService.subscribe` and the running
:class:`CallSession`, builds the immutable views of :mod:`app.call_view` and emits them as
Qt signals; the composition root connects those to the pages and the pages' intents to
the presenter's slots. Remote video is read here, one task per track, throttled and
converted to RGB arrays for ``set_frame``. It holds no widget (STYLE.md: logic never
holds a widget) and starts and stops the ringtone and ring-back.
"""

from __future__ import annotations

import asyncio
import logging
import time
from collections.abc import Awaitable, Callable, Coroutine
from typing import Any

from aiortc.mediastreams import MediaStreamError, MediaStreamTrack
from PySide6.QtCore import QObject, QTimer, Signal, Slot

from app.call_view import (
    CallView,
    ChatMessageView,
    IncomingCallView,
    OutgoingCallView,
    OutgoingState,
    TileConnection,
    TileView,
    level_from_dbfs,
)
from app.kit import CallInvitationService
from app.qt_bridge import TaskKeeper
from app.services.call_session import CallChanged, CallSession
from app.services.invitations import Phase, PhaseChanged, Ringing
from app.types import MinimizeState, RoomState, User
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
_OUTCOMES = {
    "invitation.on_outgoing_call_declined": OutgoingState.DECLINED,
    "invitation.on_outgoing_call_rejected_cause_busy": OutgoingState.BUSY,
    "invitation.on_outgoing_call_timeout": OutgoingState.NO_ANSWER,
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
        self._frame_interval = 1.0 / max_fps
        self.phase = Phase.IDLE
        self.session: CallSession | None = None
        self._unsubscribe_session: Any = None
        self._outgoing: OutgoingCallView | None = None
        self._pumps: dict[str, tuple[MediaStreamTrack, asyncio.Task[None]]] = {}
        # Every reader until it has really finished (a cancelled one takes a step to end).
        self._readers: set[asyncio.Task[None]] = set()
        self._speaker_on = True
        self._reconnecting = False
        self._unread = 0
        self._remote_seen = 0
        self._chat_visible = False
        self._cancelling = False
        self._last_is_video = True
        self.first_frame_at: dict[str, float] = {}
        """perf_counter of the first frame handed out per user (the benchmark reads it)."""
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
            self._outgoing = OutgoingCallView(
                callees=tuple(self._named(u) for u in change.ringing.callees),
                is_video=change.ringing.is_video,
            )
            self.outgoing_view_changed.emit(self._outgoing)
            self._play("ringback")
        elif change.phase is Phase.INCOMING and change.ringing is not None:
            self.incoming_view_changed.emit(self._incoming_view(change.ringing))
            self._play("ringtone")
        elif change.phase is Phase.IN_CALL and change.session is not None:
            self._stop_sound()
            self._begin(change.session)
        elif change.phase is Phase.IDLE:
            self._stop_sound()
            if previous is Phase.IN_CALL:
                self._end()
        self.phase_changed.emit(change.phase)

    def _named(self, user: User) -> User:
        if user.name and user.name != user.id:
            return user
        return User(user.id, self._name_of(user.id) or user.id)

    def _incoming_view(self, ringing: Ringing) -> IncomingCallView:
        return IncomingCallView(
            call_id=ringing.call_id,
            caller=ringing.caller,
            is_video=ringing.is_video,
            invitees=ringing.callees,
            custom_data=ringing.custom_data,
        )

    def _on_bus_event(self, path: str, args: tuple[object, ...]) -> None:
        outcome = _OUTCOMES.get(path)
        if outcome is not None and self.session is None:
            if self._outgoing is not None:
                self._outgoing = OutgoingCallView(
                    callees=self._outgoing.callees, is_video=self._outgoing.is_video, state=outcome
                )
                self.outgoing_view_changed.emit(self._outgoing)
            elif self.phase is Phase.IDLE and len(args) > 1 and isinstance(args[1], User):
                # Refused at once (busy): it never rang, but the caller should see why.
                view = OutgoingCallView(
                    callees=(self._named(args[1]),), is_video=self._last_is_video, state=outcome
                )
                self.outgoing_view_changed.emit(view)
                self.outcome_without_ringing.emit()
        elif path == "call.room.on_state_changed" and args and isinstance(args[0], RoomState):
            reason = args[0].reason
            self._reconnecting = reason is RoomStateChangedReason.RECONNECTING
            self.render_call()

    def _on_minimize(self, state: MinimizeState) -> None:
        self.minimized_changed.emit(state is MinimizeState.MINIMIZING)
        self.render_call()

    def _on_session(self, change: CallChanged) -> None:
        if change.what == "ended":
            self._end()
            return
        if change.what == "members":
            self._sync_pumps()
        if change.what == "messages":
            self._publish_messages()
        self.render_call()

    # --- chat -----------------------------------------------------------------------

    def _publish_messages(self) -> None:
        session = self.session
        if session is None:
            return
        messages = session.chat.messages
        remote = sum(1 for m in messages if m.sender.id != session.me.id)
        if not self._chat_visible:
            # Unread: remote messages that arrived since the chat was last open.
            self._unread += max(0, remote - self._remote_seen)
        self._remote_seen = remote
        self.messages_changed.emit(
            tuple(
                ChatMessageView(
                    message_id=m.message_id,
                    sender_name=m.sender.name,
                    text=m.text,
                    timestamp_ms=m.timestamp_ms,
                    is_local=m.sender.id == session.me.id,
                    state=m.state,
                )
                for m in messages
            )
        )

    @Slot(bool)
    def set_chat_visible(self, visible: bool) -> None:
        """The chat panel opened or closed: opening it marks everything read."""
        self._chat_visible = visible
        if visible and self._unread:
            self._unread = 0
            self.render_call()

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
        self._outgoing = None
        self._speaker_on = session.config.use_speaker_when_joining
        self._reconnecting = False
        self._unsubscribe_session = session.subscribe(self._on_session)
        self._unread = 0
        self._remote_seen = 0
        self._chat_visible = False
        self.call_started.emit(session.config)
        if session.config.turn_on_camera_when_joining:
            # The self-view reads the mesh's relay, never the camera slot a second time.
            self._start_pump(session.me.id, session.mesh.preview())
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
        for user_id in list(self._pumps):
            self._stop_pump(user_id)

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
            is_video=config.turn_on_camera_when_joining,
            layout=config.layout,
            tiles=tuple(tiles),
            duration_s=session.duration_s,
            microphone_on=media.microphone_on,
            camera_on=media.camera_on,
            speaker_on=self._speaker_on,
            minimized=session.minimized,
            unread_messages=self._unread,
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
        session = self.session
        if session is None:
            return
        for user_id, member in session.members.items():
            current = self._pumps.get(user_id)
            if member.video is not None and (current is None or current[0] is not member.video):
                self._stop_pump(user_id)
                self._start_pump(user_id, member.video)
        for user_id in list(self._pumps):
            if user_id != session.me.id and user_id not in session.members:
                self._stop_pump(user_id)

    def _start_pump(self, user_id: str, track: MediaStreamTrack) -> None:
        task = asyncio.get_running_loop().create_task(
            self._pump(user_id, track), name=f"video-{user_id}"
        )
        self._pumps[user_id] = (track, task)
        self._readers.add(task)
        task.add_done_callback(self._pump_done)

    def _stop_pump(self, user_id: str) -> None:
        entry = self._pumps.pop(user_id, None)
        if entry is not None:
            entry[1].cancel()

    def _pump_done(self, task: asyncio.Task[None]) -> None:
        self._readers.discard(task)
        for user_id, (_, pumping) in list(self._pumps.items()):
            if pumping is task:
                del self._pumps[user_id]
        if not task.cancelled() and task.exception() is not None:
            log.error("%s failed", task.get_name(), exc_info=task.exception())

    async def _pump(self, user_id: str, track: MediaStreamTrack) -> None:
        """Read one video track; hand at most ``max_fps`` frames a second to the pages."""
        next_at = 0.0
        while True:
            try:
                frame = await track.recv()
            except MediaStreamError:
                return  # the track ended: the member left or the call closed
            now = time.perf_counter()
            if now < next_at:
                continue  # faster than the pages need: drop it undecoded to RGB
            # A late frame moves the schedule instead of letting frames bunch up.
            next_at = max(next_at + self._frame_interval, now + self._frame_interval * 0.5)
            array = frame.to_ndarray(format="rgb24")  # type: ignore[union-attr]
            self.first_frame_at.setdefault(user_id, time.perf_counter())
            self.frame_ready.emit(user_id, array)

    @property
    def video_tasks(self) -> int:
        """How many video readers run (tests check they all end with the call)."""
        return len(self._readers)

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
            self._last_is_video = is_video
            self._outgoing = None
            self._spawn(self._send(user_ids, is_video), "call")

    async def _send(self, user_ids: list[str], is_video: bool) -> None:
        await self.kit.send(user_ids, is_video)

    @Slot()
    def accept(self) -> None:
        self._spawn(self._accept(), "accept")

    async def _accept(self) -> None:
        await self.kit.bus.invitation.publish(lambda e: e.on_incoming_call_accept_button_pressed)
        await self.kit.accept()

    @Slot()
    def decline(self) -> None:
        self._spawn(self._decline(), "decline")

    async def _decline(self) -> None:
        await self.kit.bus.invitation.publish(lambda e: e.on_incoming_call_decline_button_pressed)
        await self.kit.reject()

    @Slot()
    def cancel(self) -> None:
        self._cancelling = True
        self._spawn(self._cancel(), "cancel")

    async def _cancel(self) -> None:
        await self.kit.bus.invitation.publish(lambda e: e.on_outgoing_call_cancel_button_pressed)
        await self.kit.cancel()

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
            self._set_outgoing_toggle(microphone_on=on)
            return
        self._spawn(self.kit.controller.audio_video.turn_microphone_on(on), "microphone")

    @Slot(bool)
    def set_camera(self, on: bool) -> None:
        if self.session is None:
            self._set_outgoing_toggle(camera_on=on)
            return
        self._spawn(self.kit.controller.audio_video.turn_camera_on(on), "camera")

    @Slot(bool)
    def set_speaker(self, on: bool) -> None:
        self._speaker_on = on
        if self.session is not None:
            self.session.media.playback.muted = not on
            self.render_call()
        else:
            self._set_outgoing_toggle(speaker_on=on)

    def _set_outgoing_toggle(self, **toggles: bool) -> None:
        if self._outgoing is None:
            return
        values = {
            "microphone_on": self._outgoing.microphone_on,
            "speaker_on": self._outgoing.speaker_on,
            "camera_on": self._outgoing.camera_on,
            **toggles,
        }
        self._outgoing = OutgoingCallView(
            callees=self._outgoing.callees,
            is_video=self._outgoing.is_video,
            state=self._outgoing.state,
            **values,
        )
        self.outgoing_view_changed.emit(self._outgoing)

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
        await asyncio.gather(*self._readers, return_exceptions=True)
        if self._sounds is not None:
            await self._sounds.close()
