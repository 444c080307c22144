"""One live audio room, from joining to its end: seats, roles, requests, messages, audio.

The session joins the room with its role and seat layout, keeps the seat map with the
highest version, the members and their attributes, requests to speak and seat
invitations, the chat, and the room's duration; it runs the room's audio mesh
(:class:`~app.services.audio_room_media.RoomAudio`) and publishes every event of the
audio room kit on the bus. It ends exactly once, with
:class:`~app.types.AudioRoomEndReason` ``LOCAL_LEAVE`` (:meth:`leave`) or ``KICK_OUT``
(removed by a host, or signed in elsewhere).

Its parts: ``session.state`` (the bookkeeping and the page's view,
:mod:`~app.services.audio_room_state`), ``session.seats`` (seat actions and request
pushes, :mod:`~app.services.audio_room_actions`), ``session.roster`` (members,
:mod:`~app.services.audio_room_roster`), ``session.chat`` (messages,
:mod:`~app.services.audio_room_chat`) and ``session.audio`` (the mesh,
:mod:`~app.services.audio_room_media`). Qt-free: pages follow :meth:`subscribe` and
read :meth:`view`.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import time
from collections.abc import Callable, Coroutine
from dataclasses import dataclass
from datetime import timedelta
from typing import Any

from app.kit.audio_room.audio import RoomAudio
from app.kit.audio_room.chat import RoomChat
from app.kit.audio_room.roster import Roster
from app.kit.audio_room.seats import SeatActions
from app.kit.audio_room.state import AudioRoomState, Member
from app.kit.bus import EventBus
from app.kit.config.audio_room import AudioRoomConfig
from app.kit.media import LocalMedia
from app.kit.room.session_end import cancel_after_end
from app.kit.types import (
    AudioRoomEndEvent,
    AudioRoomEndReason,
    AudioRoomRole,
    KitError,
    LeaveConfirmationEvent,
    MicrophoneTurnOnByOthersEvent,
    RoomState,
    User,
)
from app.kit.views.audio_room import AudioRoomView
from media.levels import SILENCE_DBFS
from media.peer_types import SignalKind
from signaling.client import SignalingClient
from signaling.client_events import RoomStateChanged
from signaling.enums import RoomStateChangedReason
from signaling.errors import SignalingError
from signaling.protocol import (
    DeviceControlEvent,
    DeviceStateChangedEvent,
    KickedEvent,
    MessageEvent,
    RoomSnapshot,
    RtcSignalEvent,
    SeatConfig,
    UserEnteredEvent,
    UserLeftEvent,
)
from signaling.protocol_audio import (
    SeatApplicationEndedEvent,
    SeatApplicationEvent,
    SeatChangedEvent,
    SeatInvitationEndedEvent,
    SeatInvitedEvent,
    SeatMapInfo,
    SeatRemovedEvent,
    UserAttributesChangedEvent,
)

log = logging.getLogger("parley.audio_room")

__all__ = ["AudioRoomChanged", "AudioRoomSession"]

R = RoomStateChangedReason
_STOP = object()  # tells the event worker the room has ended
_SEAT_PUSHES = (
    SeatRemovedEvent,
    SeatApplicationEvent,
    SeatApplicationEndedEvent,
    SeatInvitedEvent,
    SeatInvitationEndedEvent,
)


@dataclass(frozen=True)
class AudioRoomChanged:
    """Part of the room page should be redrawn; ``what`` says which part.

    One of ``seats``, ``members``, ``requests``, ``messages``, ``levels``, ``devices``,
    ``duration``, ``state`` (reconnecting, minimized) and ``ended``.
    """

    what: str


class AudioRoomSession:
    """The local user's part in one live audio room."""

    def __init__(
        self,
        client: SignalingClient,
        bus: EventBus,
        me: User,
        room_id: str,
        config: AudioRoomConfig,
        media: LocalMedia,
        *,
        clock: Callable[[], float] = time.time,
    ) -> None:
        self.client = client
        self.bus = bus
        self.me = me
        self.room_id = room_id
        self.config = config
        self.media = media
        # The local speaker's own ring: the meter hears what leaves the microphone slot.
        media.audio.on_audio = lambda samples: media.levels.feed(me.id, samples)
        self._clock = clock
        self.state = AudioRoomState(room_id, me, config)
        self.audio = RoomAudio(me.id, media, self._send_signal)
        self.seats = SeatActions(self)
        self.chat = RoomChat(self)
        self.roster = Roster(self)
        self._listeners: list[Callable[[AudioRoomChanged], None]] = []
        self._unsubscribe: Callable[[], None] | None = None
        self._tasks: set[asyncio.Task[Any]] = set()
        self._ticker: asyncio.Task[None] | None = None
        # Events are applied in arrival order: a seat map and the member it names, or a
        # request and its end, must not overtake each other in separate tasks.
        self._inbox: asyncio.Queue[object] = asyncio.Queue()
        self._worker: asyncio.Task[None] | None = None
        #: Open the microphone when the local user sits down later (taking a seat).
        self.open_microphone_on_seat = True
        self._joined = False
        #: Set when the room ends for the local user; ``finished`` once ``on_ended`` ran.
        self.ended = asyncio.Event()
        self.finished = asyncio.Event()
        self.end_event: AudioRoomEndEvent | None = None

    # --- observation ----------------------------------------------------------------

    @property
    def role(self) -> AudioRoomRole:
        """The local user's role now."""
        return self.state.local_role

    @property
    def microphone_on(self) -> bool:
        return self.media.microphone_on

    @property
    def minimized(self) -> bool:
        return self.state.minimized

    @minimized.setter
    def minimized(self, value: bool) -> None:
        self.state.minimized = value
        self.changed("state")

    @property
    def duration_s(self) -> int:
        """Seconds since the room started, by the server's start time."""
        if not self.state.start_time_ms:
            return 0
        return max(0, int(self._clock() - self.state.start_time_ms / 1000))

    def view(self) -> AudioRoomView:
        """The page as it should look now."""
        return self.state.view(
            self.duration_s, self.microphone_on, speaker_on=not self.media.playback.muted
        )

    def subscribe(self, listener: Callable[[AudioRoomChanged], None]) -> Callable[[], None]:
        """Follow changes; returns a function that unsubscribes."""
        self._listeners.append(listener)
        return lambda: self._listeners.remove(listener) if listener in self._listeners else None

    def changed(self, what: str) -> None:
        for listener in list(self._listeners):
            try:
                listener(AudioRoomChanged(what))
            except Exception:  # a page's bug must not break the room
                log.exception("audio room listener failed")

    def spawn(self, coro: Coroutine[Any, Any, Any]) -> None:
        """Run background work the session keeps referenced and cancels when it closes."""
        task = asyncio.get_running_loop().create_task(coro)
        self._tasks.add(task)
        task.add_done_callback(self._task_done)

    def _task_done(self, task: asyncio.Task[Any]) -> None:
        self._tasks.discard(task)
        if not task.cancelled() and task.exception() is not None:
            log.error("audio room task failed", exc_info=task.exception())

    async def publish_error(self, code: str, message: str) -> None:
        await self.bus.audio_room.publish(lambda e: e.on_error, KitError(code, message))

    # --- start ----------------------------------------------------------------------

    async def start(self) -> bool:
        """Join the room, take the configured seat, start audio; False if joining failed."""
        self.media.playback.muted = not self.config.use_speaker_when_joining
        await self.audio.start()
        # Subscribed before joining so nothing is missed; the events wait in the inbox
        # until the snapshot is applied, so a seat map never names members not yet known.
        self._unsubscribe = self.client.subscribe(self._on_client_event)
        host = self.config.role is AudioRoomRole.HOST
        seats = SeatConfig(
            count=self.config.seat_count,
            host_seat_indexes=list(self.config.host_seat_indexes),
            lock=host and self.config.close_seat_when_join,
        )
        try:
            snapshot = await self.client.join_room(
                self.room_id, "audio_room", role="host" if host else "audience", seats=seats
            )
        except SignalingError as exc:
            await self.publish_error(exc.code.value, exc.message)
            await self._finish(AudioRoomEndReason.LOCAL_LEAVE, left=True)
            return False
        self._joined = True
        await self._apply_snapshot(snapshot)
        self._worker = asyncio.get_running_loop().create_task(self._work())
        if host and self.config.close_seat_when_join and not self.state.locked:
            # The room existed already with its own layout: lock it as configured.
            await self.seats.lock(True)
        take = self.config.take_seat_index_when_join
        if take >= 0 and self.state.seat_of(self.me.id) is None:
            mic = self.config.turn_on_microphone_when_joining
            await self.seats.take(take, microphone=mic)
        self._ticker = asyncio.get_running_loop().create_task(self._tick())
        return True

    async def _apply_snapshot(self, snapshot: RoomSnapshot) -> None:
        self.state.start_time_ms = snapshot.start_time_ms
        await self.roster.resync(snapshot.members)
        self.chat.load_history(snapshot.messages)
        self.state.applications = {
            u.user_id: User(u.user_id, u.name) for u in snapshot.applications
        }
        if snapshot.seat_map is not None:
            await self._seat_map(snapshot.seat_map)
        self.changed("members")
        self.changed("requests")

    async def _tick(self) -> None:
        """``duration.on_update`` every second, on the server's clock of the room."""
        while not self.ended.is_set():
            await self.bus.audio_room.publish(
                lambda e: e.duration.on_update, timedelta(seconds=self.duration_s)
            )
            self.changed("duration")
            await asyncio.sleep(1.0)

    # --- client events --------------------------------------------------------------

    def _on_client_event(self, event: object) -> None:
        if getattr(event, "room_id", None) == self.room_id or isinstance(event, MessageEvent):
            self._inbox.put_nowait(event)

    async def _work(self) -> None:
        while True:
            event = await self._inbox.get()
            if event is _STOP:
                return
            if self.ended.is_set():
                continue
            try:
                await self._handle(event)
            except Exception:  # one bad event must not stop the room
                log.exception("audio room event %r failed", type(event).__name__)

    async def _handle(self, event: object) -> None:
        if isinstance(event, RtcSignalEvent):
            payload = event.payload.model_dump(mode="json")
            # Signals may wait on a link's lock; they must not hold up seat events.
            self.spawn(self.audio.handle_signal(event.sender, SignalKind(event.kind), payload))
        elif isinstance(event, SeatChangedEvent):
            await self._seat_map(event)
        elif isinstance(event, UserEnteredEvent):
            await self.roster.entered(Member.from_info(event.member))
        elif isinstance(event, UserLeftEvent):
            await self.roster.left(event.user.user_id)
        elif isinstance(event, DeviceStateChangedEvent):
            self.roster.device_changed(event)
        elif isinstance(event, UserAttributesChangedEvent):
            await self.roster.attributes_changed(event)
        elif isinstance(event, MessageEvent):
            if event.message.room_id == self.room_id:
                await self.chat.received(event.message)
        elif isinstance(event, DeviceControlEvent):
            await self._device_control(event)
        elif isinstance(event, _SEAT_PUSHES):
            await self.seats.handle(event)
        elif isinstance(event, RoomStateChanged):
            await self._room_state(event)
        elif isinstance(event, KickedEvent):
            await self._finish(AudioRoomEndReason.KICK_OUT, kicker=event.kicker_id, left=True)

    async def _room_state(self, event: RoomStateChanged) -> None:
        state = RoomState(event.reason, event.error_code, dict(event.extended_data))
        await self.bus.audio_room.publish(lambda e: e.room.on_state_changed, state)
        reason = event.reason
        if reason is R.RECONNECTING:
            self.state.reconnecting = True
            self.changed("state")
        elif reason is R.RECONNECTED:
            self.state.reconnecting = False
            room = event.extended_data.get("room")
            if isinstance(room, RoomSnapshot):
                await self._apply_snapshot(room)
            self.changed("state")
        elif reason is R.KICK_OUT:
            kicker = event.extended_data.get("kicker_user_id")
            await self._finish(
                AudioRoomEndReason.KICK_OUT,
                kicker=kicker if isinstance(kicker, str) else None,
                left=True,
            )
        elif reason is R.RECONNECT_FAILED and self._joined:
            # The kit has no end reason for a lost network: the room is left locally.
            await self.publish_error("not_connected", "the connection to the room was lost")
            await self._finish(AudioRoomEndReason.LOCAL_LEAVE, left=True)

    async def _seat_map(self, info: SeatMapInfo) -> None:
        diff = self.state.apply_seat_map(info)
        if diff is None:
            return
        for user_id in self.state.members:
            if self.state.seat_of(user_id) is None:
                self.state.update_member(user_id, level_dbfs=-100.0, speaking=False)
        if diff.now_seated != diff.was_seated:
            await self._local_seated(diff.now_seated)
        await self.sync_audio()
        self.changed("seats")
        if diff.roles_changed:
            self.changed("members")
            self.changed("requests")
        if diff.lock_changed:
            if info.locked:
                await self.bus.audio_room.publish(lambda e: e.seat.on_closed)
            else:
                await self.bus.audio_room.publish(lambda e: e.seat.on_opened)
        if diff.seats_changed:
            taken, untaken = self.state.seat_users()
            await self.bus.audio_room.publish(lambda e: e.seat.on_changed, taken, untaken)

    async def _local_seated(self, seated: bool) -> None:
        """The local user sat down or stood up: the microphone follows."""
        if seated:
            self.state.requesting = False
            self.state.invited_by = None
            if self.seats.next_microphone is not None:
                open_mic, self.seats.next_microphone = self.seats.next_microphone, None
            else:
                open_mic = self.open_microphone_on_seat
            if open_mic:
                await self.set_microphone(True)
        else:
            await self.set_microphone(False)

    async def sync_audio(self) -> None:
        """Point the mesh at the current members and seats (who sends, who is heard)."""
        members = {uid for uid in self.state.members if uid != self.me.id}
        speakers = self.state.speakers() - {self.me.id}
        local_seated = self.state.seat_of(self.me.id) is not None
        await self.audio.sync(members, speakers, local_seated)

    async def _send_signal(self, to: str, kind: SignalKind, payload: dict[str, Any]) -> None:
        try:
            await self.client.send_rtc_signal(self.room_id, to, kind.value, payload)
        except SignalingError as exc:
            log.warning("%s signal to %s failed: %s (%s)", kind.value, to, exc, sorted(payload))

    def on_level(self, user_id: str, dbfs: float, speaking: bool) -> None:
        """Feed from :class:`LocalMedia`'s level meter (remote speakers' audio)."""
        if self.state.update_member(user_id, level_dbfs=dbfs, speaking=speaking):
            self.changed("levels")

    # --- local audio ----------------------------------------------------------------

    async def set_microphone(self, on: bool) -> bool:
        """Turn the microphone on or off; only a seated user may turn it on."""
        if on and self.state.seat_of(self.me.id) is None:
            return False
        if on == self.media.microphone_on:
            return True
        self.media.set_microphone(on)
        if not on:  # nothing is metered while off: the ring must not keep its last level
            self.on_level(self.me.id, SILENCE_DBFS, False)
        self.changed("devices")
        if self._joined:
            with contextlib.suppress(SignalingError):
                await self.client.set_device_state(self.room_id, microphone=on)
        await self.bus.audio_room.publish(lambda e: e.audio_video.on_microphone_state_changed, on)
        return True

    def set_speaker(self, on: bool) -> None:
        """Hear the room, or mute everything it plays (the bar's speaker button)."""
        self.media.playback.muted = not on
        self.changed("devices")

    async def set_audio_output(self, device: int | str | None) -> None:
        """Play to another device; ``None`` is the system default."""
        route = await self.media.set_output(device)
        await self.bus.audio_room.publish(lambda e: e.audio_video.on_audio_output_changed, route)

    async def _device_control(self, event: DeviceControlEvent) -> None:
        """Muting is carried out; unmuting needs the local user's consent (refused by default)."""
        if event.device != "microphone":
            return
        if not event.on:
            await self.set_microphone(False)
            return
        request = MicrophoneTurnOnByOthersEvent(User(event.requester.user_id, event.requester.name))
        allowed = await self.bus.audio_room.ask(
            lambda e: e.audio_video.on_microphone_turn_on_by_others_confirmation,
            request,
            otherwise=False,
        )
        if allowed and not self.ended.is_set():
            await self.set_microphone(True)

    # --- UI events the page reports -------------------------------------------------

    async def seat_clicked(self, index: int) -> bool:
        """A seat was clicked: publish ``seat.on_clicked``; True if a hook handled it
        (then the page shows no menu of its own)."""
        uid = self.state.occupants().get(index)
        user = self.state.user(uid) if uid else None
        await self.bus.audio_room.publish(lambda e: e.seat.on_clicked, index, user)
        return self.bus.audio_room.events.seat.on_clicked is not None

    async def member_clicked(self, user: User | str) -> None:
        """A member-list row was clicked (the user, or their id as the page knows it)."""
        user = self.state.user(user) if isinstance(user, str) else user
        await self.bus.audio_room.publish(lambda e: e.member_list.on_clicked, user)

    async def member_more_pressed(self, user: User | str) -> bool:
        """The row's "more" button: True if a hook replaced the default menu."""
        user = self.state.user(user) if isinstance(user, str) else user
        await self.bus.audio_room.publish(lambda e: e.member_list.on_more_button_pressed, user)
        return self.bus.audio_room.events.member_list.on_more_button_pressed is not None

    # --- ending ---------------------------------------------------------------------

    async def leave(self, *, confirm: bool = True) -> bool:
        """Leave the room; with ``confirm`` ``on_leave_confirmation`` may veto it first."""
        if self.ended.is_set():
            return True
        if confirm:
            event = LeaveConfirmationEvent(self.room_id, self.config.leave_confirmation)
            if not await self.bus.audio_room.confirm(lambda e: e.on_leave_confirmation, event):
                return False
        await self._finish(AudioRoomEndReason.LOCAL_LEAVE)
        return True

    async def _finish(
        self, reason: AudioRoomEndReason, *, kicker: str | None = None, left: bool = False
    ) -> None:
        """End once: leave the room, close the mesh and the devices, publish ``on_ended``."""
        if self.ended.is_set():
            return
        self.ended.set()
        if self._unsubscribe is not None:
            self._unsubscribe()
        self._inbox.put_nowait(_STOP)
        if self._ticker is not None and self._ticker is not asyncio.current_task():
            self._ticker.cancel()
        if not left and self._joined:
            with contextlib.suppress(SignalingError):
                await self.client.leave_room(self.room_id)
        await self.audio.close()
        self.end_event = AudioRoomEndEvent(
            reason,
            kicker if reason is AudioRoomEndReason.KICK_OUT else None,
            is_from_minimizing=self.state.minimized,
        )
        self.changed("ended")
        try:
            await self.bus.audio_room.end(lambda e: e.on_ended, self.end_event)
        finally:
            self.finished.set()

    async def close(self) -> None:
        """Leave (without asking) if still in the room and stop all background work."""
        if not self.ended.is_set():
            await self._finish(AudioRoomEndReason.LOCAL_LEAVE)
        await cancel_after_end(self.finished, (self._ticker, self._worker, *self._tasks))
