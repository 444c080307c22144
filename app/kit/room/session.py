"""A session in a room: what a call and a live audio room share, written once.

:class:`RoomSession` is the local user's part in one room of the signaling server, from
joining it to its end. :class:`~app.kit.call.session.CallSession` and
:class:`~app.kit.audio_room.session.AudioRoomSession` add what is theirs (invitees and
video; seats and roles); everything below happens the same way for both, so a fix lands
once:

- **Joining.** The join request goes out first thing; events pushed meanwhile wait in
  the inbox until the join snapshot is applied. Ending while the join is in flight waits
  for it and then leaves, so the server never keeps a member who hung up.
- **One serial inbox.** Pushed events are applied one at a time in arrival order (a
  member and the seat map naming them, a message and its room, never overtaking each
  other); WebRTC signals go straight to the peer mesh so they never hold the rest up.
- **Members** enter, leave and change devices; the ``user`` events fire once each.
- **Media.** The local devices (:class:`~app.kit.media.LocalMedia`) and a peer mesh with
  every other member, its offers, answers and candidates relayed through the server.
- **Reconnect and re-sync.** After a reconnect the room's new snapshot is applied. The
  server kept our place meanwhile (its ``rejoin_grace_s``), so a member the snapshot
  lacks left while we were away, unless the room was made anew: after a server restart
  they are most likely re-joining too, and stay, with the peer-to-peer link to them, for
  :attr:`RoomSession.rejoin_grace_s` before counting as gone. The duration keeps
  counting from the first join.
- **Device control** by others: turning off is carried out, turning on needs consent.
- **The end**, exactly once with the kit's end event, and a close that lets an end
  already under way publish its event before cancelling what is left.

Qt-free: pages follow :meth:`RoomSession.subscribe` (a :class:`Change` at a time).
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import time
from abc import abstractmethod
from collections.abc import Awaitable, Callable, Mapping
from dataclasses import dataclass, replace
from enum import StrEnum
from types import MappingProxyType
from typing import Any, ClassVar, Generic, Protocol, TypeVar

from aiortc import RTCIceServer
from aiortc.mediastreams import MediaStreamTrack

from app.kit.bus import KitChannel
from app.kit.events import HookResult
from app.kit.listeners import Listeners, Unsubscribe
from app.kit.media import LocalMedia, MediaDevice, MediaFactory, MediaOptions
from app.kit.room.chat import Chat
from app.kit.room.members import Member
from app.kit.tasks import TaskKeeper
from app.kit.types import InRoomMessage, KitError, RoomState, User
from media.errors import AudioRoute, DeviceExceptionType
from media.mesh import Mesh
from media.peer_types import MediaKind, PeerState, SignalKind
from signaling.client import SignalingClient
from signaling.client_events import RoomStateChanged
from signaling.enums import RoomStateChangedReason
from signaling.errors import SignalingError
from signaling.protocol import (
    DeviceControlEvent,
    DeviceExceptionEvent,
    DeviceStateChangedEvent,
    MemberInfo,
    MessageEvent,
    RoomSnapshot,
    RtcSignalEvent,
    UserEnteredEvent,
    UserLeftEvent,
)

__all__ = ["END_GRACE_S", "Change", "RoomSession", "SessionEvents"]

log = logging.getLogger("parley.room")

R = RoomStateChangedReason
#: How long a close waits for an end already under way to publish its event.
END_GRACE_S = 5.0
_STOP = object()  # tells the inbox worker the session has ended
RELINK_DELAY_S = 1.0
"""How long after a member's link closed a new one is made (doubling, up to
RELINK_MAX_S, while it keeps closing): long enough for a "left" event to come first."""
RELINK_MAX_S = 30.0


@dataclass(frozen=True)
class _Relink:
    """Inbox item: the link to ``user_id`` closed while both stay in the room."""

    user_id: str


class Change(StrEnum):
    """Which part of a page should be redrawn."""

    MEMBERS = "members"
    DEVICES = "devices"
    LEVELS = "levels"
    MESSAGES = "messages"
    #: Reconnecting, minimized.
    STATE = "state"
    #: A second passed.
    DURATION = "duration"
    SEATS = "seats"
    REQUESTS = "requests"
    ENDED = "ended"


class _UserEvents(Protocol):
    on_enter: Callable[[User], HookResult] | None
    on_leave: Callable[[User], HookResult] | None


class _RoomEvents(Protocol):
    on_state_changed: Callable[[RoomState], HookResult] | None


class _AudioVideoEvents(Protocol):
    on_microphone_state_changed: Callable[[bool], HookResult] | None
    on_audio_output_changed: Callable[[AudioRoute], HookResult] | None


class SessionEvents(Protocol):
    """The hooks every kit's events object has (``CallEvents``, ``AudioRoomEvents``)."""

    on_error: Callable[[KitError], HookResult] | None

    @property
    def user(self) -> _UserEvents: ...

    @property
    def room(self) -> _RoomEvents: ...

    @property
    def audio_video(self) -> _AudioVideoEvents: ...


E = TypeVar("E", bound=SessionEvents)
Reason = TypeVar("Reason", bound=StrEnum)
EndEvent = TypeVar("EndEvent")


class RoomSession(Generic[E, Reason, EndEvent]):
    """The local user's part in one room; subclasses are the call and the audio room."""

    #: The room kind on the wire.
    kind: ClassVar[str]
    #: How long a member missing after a reconnect is waited for before counting as gone.
    rejoin_grace_s: float = 30.0

    def __init__(
        self,
        client: SignalingClient,
        channel: KitChannel[E],
        me: User,
        room_id: str,
        *,
        media: MediaOptions | None = None,
        media_factory: MediaFactory = LocalMedia,
        clock: Callable[[], float] = time.time,
    ) -> None:
        self.client = client
        self.channel = channel
        self.me = me
        self.room_id = room_id
        self._clock = clock
        self.media = media_factory(
            me.name,
            media or MediaOptions(),
            on_device_exception=self._on_device_exception,
            on_level=self.on_level,
        )
        self.mesh = Mesh(
            me.id,
            self._send_signal,
            on_remote_track=self._on_remote_track,
            on_peer_state=self._on_peer_state,
        )
        self.chat = Chat(
            client,
            room_id,
            me,
            changed=lambda: self.changed(Change.MESSAGES),
            report_error=self.publish_error,
            on_local_send=self._on_local_send,
        )
        self.tasks = TaskKeeper(f"{self.kind} {room_id}")
        self._changes: Listeners[[Change]] = Listeners(f"{self.kind} {room_id} changes")
        self._members: dict[str, Member] = {}
        self._away: dict[str, asyncio.TimerHandle] = {}
        self._inbox: asyncio.Queue[object] = asyncio.Queue()
        self._ticker: asyncio.Task[Any] | None = None
        self._unsubscribe: Unsubscribe | None = None
        # The join request in flight (ending waits for it, then leaves), and whether the
        # server counts us in the room.
        self._join_settled: asyncio.Event | None = None
        self._in_room = False
        #: Why the server refused the join (``limit_exceeded``: the room is full), if it did.
        self.join_refusal: KitError | None = None
        # Local device failures before the room was joined, reported once joined.
        self._unreported: list[tuple[MediaDevice, DeviceExceptionType]] = []
        self._relinks: dict[str, int] = {}  # links made again since the last connected
        # Members who entered (True) or left (False) while we were re-joining.
        self._seen_while_rejoining: dict[str, bool] = {}
        self._minimized = False
        #: Seconds-since-epoch * 1000 when the room started (the first join's snapshot).
        self.start_time_ms = 0
        # The server's start time of the room in the last snapshot: the same one after a
        # reconnect means the room lived on (the server did not restart).
        self._snapshot_start_ms = 0
        self.reconnecting = False
        #: Set when the session ends; :attr:`finished` once the end event was published.
        self.ended = asyncio.Event()
        self.finished = asyncio.Event()
        self.end_event: EndEvent | None = None

    # --- what subclasses say ---------------------------------------------------------

    #: The end reasons of the kit for ending locally, being removed, and losing the room.
    LOCAL: ClassVar[Any]
    KICKED: ClassVar[Any]
    LOST: ClassVar[Any]

    @abstractmethod
    async def _join(self) -> RoomSnapshot:
        """Send the join request with the kit's arguments."""

    @abstractmethod
    def _end_event(self, reason: Reason, kicker: str | None) -> EndEvent:
        """The kit's end event for ``reason``."""

    @abstractmethod
    async def _publish_end(self, event: EndEvent) -> None:
        """Publish the kit's end event (``on_call_end``, ``on_ended``)."""

    @abstractmethod
    async def _confirm_leaving(self) -> bool:
        """Ask the kit's confirmation hook (hang up, leave); True to go ahead."""

    async def _opened(self, snapshot: RoomSnapshot) -> None:
        """Joined, media started, members known: what the kit does next."""

    async def _apply_snapshot(self, snapshot: RoomSnapshot) -> None:
        """What the kit keeps of a (re-)join snapshot beyond members and messages."""

    async def _member_joined(self, member: Member, fresh: bool) -> None:
        """A member is (still) in the room: connect the media to them."""

    async def _member_gone(self, member: Member) -> None:
        """A member left: disconnect the media from them."""
        await self.mesh.remove_peer(member.user.id)
        await self.media.stop_playing(member.user.id)

    async def _members_changed(self) -> None:
        """After members entered or left (a batch counts once)."""

    async def _close_media(self) -> None:
        """The end: close every link, then the devices and playback."""
        await self.mesh.close()
        await self.media.close()

    async def _handle_other(self, event: object) -> None:
        """A pushed event the base does not handle (seats, room end)."""

    async def _set_device(self, device: MediaDevice, on: bool) -> None:
        """Turn a local device on or off because someone asked."""

    async def _may_turn_on(self, event: DeviceControlEvent) -> bool:
        """Someone asks to turn a local device on; by default the answer is no."""
        log.info("%s asks to turn on our %s; refused", event.requester.user_id, event.device)
        return False

    async def _local_device_failed(self, device: MediaDevice, kind: DeviceExceptionType) -> None:
        """A local device failed (media fell back to a synthetic source)."""

    async def _remote_device_failed(
        self, member: Member, device: MediaDevice, kind: DeviceExceptionType
    ) -> None:
        """A remote member's device failed."""

    async def _join_refused(self, error: SignalingError) -> None:
        """The server refused the join: say why, and the room is over for us."""
        self.join_refusal = KitError(error.code.value, error.message)
        await self.publish_error(error.code.value, error.message)
        await self._finish(self.LOST, left=True)

    async def _connection_lost(self) -> None:
        """The connection could not be restored: the room is over for us."""
        await self._finish(self.LOST, left=True)

    async def _on_local_send(self, message: InRoomMessage) -> None:
        """A message the local user sent succeeded or failed."""

    async def _on_tick(self) -> None:
        """Once a second while in the room."""

    def _level_changed(self, user_id: str, dbfs: float, speaking: bool) -> bool:
        """A level reading of someone who is not a remote member (the local user)."""
        return False

    # --- observation -----------------------------------------------------------------

    def subscribe(self, listener: Callable[[Change], None]) -> Unsubscribe:
        """Follow the changes, one :class:`Change` at a time."""
        return self._changes.subscribe(listener)

    def changed(self, what: Change) -> None:
        """Tell the followers ``what`` changed."""
        self._changes.emit(what)

    @property
    def members(self) -> Mapping[str, Member]:
        """Remote members by user id (read-only)."""
        return MappingProxyType(self._members)

    @property
    def duration_s(self) -> int:
        """Seconds since the room started, by the server's clock of the first join."""
        if not self.start_time_ms:
            return 0
        return max(0, int(self._clock() - self.start_time_ms / 1000))

    @property
    def minimized(self) -> bool:
        """Whether the room is shown as the minimize overlay."""
        return self._minimized

    @minimized.setter
    def minimized(self, value: bool) -> None:
        self._minimized = value
        self.changed(Change.STATE)

    @property
    def speaker_on(self) -> bool:
        """Whether the room is heard (False: the local user muted it)."""
        return not self.media.playback.muted

    @property
    def microphone_on(self) -> bool:
        return self.media.microphone_on

    def spawn(self, coro: Awaitable[Any], what: str = "") -> None:
        """Background work the session keeps referenced and cancels when it closes."""

        async def run() -> None:
            await coro

        self.tasks.spawn(run(), what)

    async def publish_error(self, code: str, message: str) -> None:
        """``on_error`` of the kit."""
        await self.channel.publish(lambda e: e.on_error, KitError(code, message))

    # --- start -----------------------------------------------------------------------

    async def start(self) -> bool:
        """Join the room, open the media, connect to everyone; False if it did not last."""
        # Subscribed before joining: pushed events wait in the inbox for the snapshot.
        self._unsubscribe = self.client.subscribe(self._on_client_event)
        if self.ended.is_set():
            return False
        settled = self._join_settled = asyncio.Event()
        try:
            snapshot = await self._join()
        except SignalingError as exc:
            settled.set()
            await self._join_refused(exc)
            return False
        self._in_room = True
        settled.set()
        if self.ended.is_set():
            return False  # ended while joining: the end leaves the room again
        # A microphone or camera turned on or off while the join was on its way was not
        # reported (nothing is, before the join): the others would see the old state.
        joined_as = next((m for m in snapshot.members if m.user_id == self.me.id), None)
        now = (self.media.microphone_on, self.media.camera_on)
        if joined_as is not None and (joined_as.microphone, joined_as.camera) != now:
            await self._report_devices(microphone=now[0], camera=now[1])
        try:
            await self._open(snapshot)
        except Exception:
            if self.ended.is_set():
                return False  # ended while opening: the mesh or media closed under it
            raise
        return not self.ended.is_set()

    async def _open(self, snapshot: RoomSnapshot) -> None:
        # The server's STUN/TURN servers, with credentials fresh enough for this room.
        servers = await self.client.ice_servers()
        self.mesh.set_ice_servers(
            [
                RTCIceServer(
                    urls=s.urls, username=s.username or None, credential=s.credential or None
                )
                for s in servers
            ]
        )
        await self.media.start()
        await self.mesh.set_local_audio(self.media.audio)
        await self.sync_video_sending()
        self.start_time_ms = self._snapshot_start_ms = snapshot.start_time_ms
        self.chat.load_history(snapshot.messages)
        await self._apply_members(snapshot.members)
        await self._apply_snapshot(snapshot)
        for device, kind in self._unreported:
            await self._report_exception(device, kind)
        self._unreported.clear()
        self.tasks.spawn(self._work(), f"{self.kind} {self.room_id} inbox")
        self._ticker = self.tasks.spawn(self._tick(), f"{self.kind} {self.room_id} clock")
        await self._opened(snapshot)

    async def _tick(self) -> None:
        while not self.ended.is_set():
            await self._on_tick()
            self.changed(Change.DURATION)
            await asyncio.sleep(1.0)

    # --- the inbox -------------------------------------------------------------------

    def _on_client_event(self, event: object) -> None:
        if self.ended.is_set():
            return
        # Chat messages carry their room inside the message.
        carrier = event.message if isinstance(event, MessageEvent) else event
        if getattr(carrier, "room_id", None) == self.room_id:
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
                log.exception("%s event %s failed", self.kind, type(event).__name__)

    async def _handle(self, event: object) -> None:
        if isinstance(event, RtcSignalEvent):
            payload = event.payload.model_dump(mode="json")
            # Signals may wait on a link's lock; they must not hold up the inbox.
            self.spawn(
                self.mesh.handle_signal(event.sender, SignalKind(event.kind), payload),
                f"{event.kind} from {event.sender}",
            )
        elif isinstance(event, UserEnteredEvent):
            await self._member_entered(Member.from_info(event.member))
            await self._members_changed()
        elif isinstance(event, UserLeftEvent):
            await self._member_left(event.user.user_id)
        elif isinstance(event, DeviceStateChangedEvent):
            self._remote_devices(event)
        elif isinstance(event, DeviceExceptionEvent):
            await self._remote_exception(event)
        elif isinstance(event, DeviceControlEvent):
            await self._device_control(event)
        elif isinstance(event, MessageEvent):
            await self.chat.received(event.message)
        elif isinstance(event, RoomStateChanged):
            await self._room_state(event)
        elif isinstance(event, _Relink):
            member = self._members.get(event.user_id)
            if member is not None and event.user_id not in self.mesh.peers:
                log.info("%s %s: linking to %s again", self.kind, self.room_id, event.user_id)
                await self._member_joined(member, fresh=False)
                link = self.mesh.peers.get(event.user_id)
                if link is not None:
                    await link.ask_for_new_connection()
        else:
            await self._handle_other(event)

    # --- members ---------------------------------------------------------------------

    async def _apply_members(self, infos: list[MemberInfo], *, room_lived_on: bool = True) -> None:
        """The members of a (re-)join snapshot. A known member it lacks left while we were
        away; unless the room was made anew (a restarted server), then they are most
        likely re-joining too and are put away."""
        # Events that came while we were re-joining are newer than the snapshot (the
        # server sends a room's events only to its members, so only after our re-join):
        # a member who entered or left meanwhile stays as that event said.
        newer = self._seen_while_rejoining
        present = {info.user_id for info in infos}
        for user_id in [uid for uid in self._members if uid not in present]:
            if newer.get(user_id) is True:
                continue
            if room_lived_on:
                await self._member_left(user_id)
            else:
                self._put_away(user_id)
        for info in infos:
            if info.user_id == self.me.id:
                self._local_info(info)
            elif newer.get(info.user_id) is not False:
                await self._member_entered(Member.from_info(info))
        await self._members_changed()

    def _local_info(self, info: MemberInfo) -> None:
        """What the server says about the local user (audio rooms keep attributes)."""

    async def _member_entered(self, member: Member) -> None:
        user_id = member.user.id
        if user_id == self.me.id or self.ended.is_set():
            return
        if self.reconnecting:
            self._seen_while_rejoining[user_id] = True
        self._come_back(user_id)
        old = self._members.get(user_id)
        fresh = old is None
        self._members[user_id] = member if old is None else old.refreshed(member)
        await self._member_joined(self._members[user_id], fresh)
        self.changed(Change.MEMBERS)
        if fresh:
            await self.channel.publish(lambda e: e.user.on_enter, member.user)

    async def _member_left(self, user_id: str) -> None:
        if self.reconnecting:
            self._seen_while_rejoining[user_id] = False
        self._come_back(user_id)
        member = self._members.pop(user_id, None)
        if member is None:
            return
        await self._member_gone(member)
        self.changed(Change.MEMBERS)
        await self.channel.publish(lambda e: e.user.on_leave, member.user)
        await self._members_changed()

    def _put_away(self, user_id: str) -> None:
        member = self._members.get(user_id)
        if member is None or member.away:
            return
        self._members[user_id] = replace(member, away=True)
        loop = asyncio.get_running_loop()
        self._away[user_id] = loop.call_later(
            self.rejoin_grace_s,
            lambda: self.spawn(self._away_too_long(user_id), f"{user_id} did not come back"),
        )
        self.changed(Change.MEMBERS)

    def _come_back(self, user_id: str) -> None:
        timer = self._away.pop(user_id, None)
        if timer is not None:
            timer.cancel()
        member = self._members.get(user_id)
        if member is not None and member.away:
            self._members[user_id] = replace(member, away=False)

    async def _away_too_long(self, user_id: str) -> None:
        member = self._members.get(user_id)
        if member is not None and member.away and not self.ended.is_set():
            await self._member_left(user_id)

    def _update_member(self, user_id: str, **changes: Any) -> bool:
        """Change some of a remote member's fields; False if there is no such member."""
        member = self._members.get(user_id)
        if member is None:
            return False
        self._members[user_id] = replace(member, **changes)
        return True

    def _remote_devices(self, event: DeviceStateChangedEvent) -> None:
        if self._update_member(event.user_id, microphone=event.microphone, camera=event.camera):
            self.changed(Change.DEVICES)

    async def _remote_exception(self, event: DeviceExceptionEvent) -> None:
        member = self._members.get(event.user_id)
        if member is None:
            return
        try:
            kind = DeviceExceptionType(event.exception)
        except ValueError:
            kind = DeviceExceptionType.UNKNOWN
        await self._remote_device_failed(member, event.device, kind)

    # --- reconnect -------------------------------------------------------------------

    async def _room_state(self, event: RoomStateChanged) -> None:
        state = RoomState(event.reason, event.error_code, dict(event.extended_data))
        await self.channel.publish(lambda e: e.room.on_state_changed, state)
        if event.reason is R.RECONNECTING:
            self.reconnecting = True
            self.changed(Change.STATE)
        elif event.reason is R.RECONNECTED:
            room = event.extended_data.get("room")
            if isinstance(room, RoomSnapshot):
                await self._resync(room)
            self.reconnecting = False
            self._seen_while_rejoining.clear()
            self.changed(Change.STATE)
        elif event.reason is R.KICK_OUT:
            kicker = event.extended_data.get("kicker_user_id")
            await self._finish(
                self.KICKED, kicker=kicker if isinstance(kicker, str) else None, left=True
            )
        elif event.reason is R.RECONNECT_FAILED and self._in_room:
            await self._connection_lost()

    async def _resync(self, snapshot: RoomSnapshot) -> None:
        """Back in the room after a reconnect (the server may have restarted meanwhile)."""
        # The room's clock: a restarted server starts it anew, the call did not.
        if snapshot.start_time_ms and not self.start_time_ms:
            self.start_time_ms = snapshot.start_time_ms
        lived_on = snapshot.start_time_ms == self._snapshot_start_ms
        self._snapshot_start_ms = snapshot.start_time_ms
        await self._apply_members(snapshot.members, room_lived_on=lived_on)
        await self._apply_snapshot(snapshot)
        self.chat.load_history(snapshot.messages)
        # The re-join repeats the devices of the first join: say what they are now.
        await self._report_devices(microphone=self.media.microphone_on, camera=self.media.camera_on)

    # --- media -----------------------------------------------------------------------

    async def _send_signal(self, to: str, kind: SignalKind, payload: dict[str, Any]) -> None:
        try:
            await self.client.send_rtc_signal(self.room_id, to, kind.value, payload)
        except SignalingError as exc:
            log.warning("%s signal to %s failed: %s", kind.value, to, exc)

    async def sync_video_sending(self) -> None:
        """Send video to the links only while the camera is on.

        A voice call with the camera off sends no black frames; turning the camera on
        (or off) renegotiates the links (see :meth:`media.mesh.Mesh.set_local_track`).
        """
        await self.mesh.set_local_video(self._local_video())

    def _local_video(self) -> MediaStreamTrack | None:
        """What the links send as video now (a call sharing the screen sends that)."""
        return self.media.video if self.media.camera_on else None

    def _on_remote_track(self, user_id: str, kind: MediaKind, track: MediaStreamTrack) -> None:
        if self.ended.is_set():
            return
        if kind is MediaKind.AUDIO:
            self.media.play(user_id, track)
            return
        self.media.show(user_id, track)
        if (self._local_video() is None) != (self.mesh.local_track(MediaKind.VIDEO) is None):
            # Local media that shows what it receives (the echo user) just got a picture.
            self.tasks.spawn(self.sync_video_sending(), f"{self.kind} {self.room_id} video")
        if self._update_member(user_id, video=track):
            self.changed(Change.MEMBERS)

    def _on_peer_state(self, user_id: str, state: PeerState) -> None:
        member = self._members.get(user_id)
        if member is not None and member.connection is not state:
            self._update_member(user_id, connection=state)
            self.changed(Change.MEMBERS)
        if state is PeerState.CONNECTED:
            self._relinks.pop(user_id, None)
        elif state.is_final and member is not None and not self.ended.is_set():
            # The other side closed its connection (a browser client may, and stay), or
            # the link gave up: while both stay in the room, link again.
            self.tasks.spawn(self._relink_later(user_id), f"{self.kind} relink {user_id}")

    async def _relink_later(self, user_id: str) -> None:
        tries = self._relinks.get(user_id, 0)
        self._relinks[user_id] = tries + 1
        await asyncio.sleep(min(RELINK_MAX_S, RELINK_DELAY_S * 2**tries))
        self._inbox.put_nowait(_Relink(user_id))

    def on_level(self, user_id: str, dbfs: float, speaking: bool) -> None:
        """A level reading from the local media's meter (about 10 a second per user)."""
        if self._update_member(user_id, level_dbfs=dbfs, speaking=speaking) or (
            self._level_changed(user_id, dbfs, speaking)
        ):
            self.changed(Change.LEVELS)

    def set_speaker(self, on: bool) -> None:
        """Hear the room, or mute everything it plays (the speaker button)."""
        self.media.playback.muted = not on
        self.changed(Change.DEVICES)

    async def set_audio_output(self, device: int | str | None) -> None:
        """Play to another device, without dropping audio; ``None`` is the system default."""
        route = await self.media.set_output(device)
        await self.channel.publish(lambda e: e.audio_video.on_audio_output_changed, route)

    async def _report_devices(self, **state: bool) -> None:
        if self._in_room and not self.ended.is_set():
            with contextlib.suppress(SignalingError):
                await self.client.set_device_state(self.room_id, **state)

    async def _device_control(self, event: DeviceControlEvent) -> None:
        if not event.on:
            await self._set_device(event.device, False)
        elif await self._may_turn_on(event) and not self.ended.is_set():
            await self._set_device(event.device, True)

    def _on_device_exception(self, device: MediaDevice, kind: DeviceExceptionType) -> None:
        # Called by the media on the loop: publishing is async.
        if not self.ended.is_set():
            self.spawn(self._device_exception(device, kind), f"{device} failed")

    async def _device_exception(self, device: MediaDevice, kind: DeviceExceptionType) -> None:
        await self._local_device_failed(device, kind)
        if self._in_room:
            await self._report_exception(device, kind)
        else:
            self._unreported.append((device, kind))

    async def _report_exception(self, device: MediaDevice, kind: DeviceExceptionType) -> None:
        with contextlib.suppress(SignalingError):
            await self.client.report_device_exception(self.room_id, device, kind.value)

    # --- the end ---------------------------------------------------------------------

    async def end_by_user(self, *, confirm: bool = True) -> bool:
        """Leave (hang up); with ``confirm`` the kit's confirmation may veto it first."""
        if self.ended.is_set():
            return True
        if confirm and not await self._confirm_leaving():
            return False
        await self._finish(self.LOCAL)
        return True

    async def _finish(
        self, reason: Reason, *, kicker: str | None = None, left: bool = False
    ) -> None:
        """End once: leave the room, close the mesh and the devices, publish the end."""
        if self.ended.is_set():
            return
        self.ended.set()
        if self._unsubscribe is not None:
            self._unsubscribe()
        self._inbox.put_nowait(_STOP)
        for timer in self._away.values():
            timer.cancel()
        self._away.clear()
        if self._ticker is not None and self._ticker is not asyncio.current_task():
            self._ticker.cancel()
        if not left:
            await self._leave_room()
        await self._close_media()
        self.end_event = self._end_event(reason, kicker)
        self.changed(Change.ENDED)
        try:
            await self._publish_end(self.end_event)
        finally:
            self.finished.set()

    async def _leave_room(self) -> None:
        settled = self._join_settled
        if settled is not None and not settled.is_set():
            # Hung up while joining: once in, leave at once (else the others wait for us).
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(settled.wait(), END_GRACE_S)
        if self._in_room:
            self._in_room = False
            with contextlib.suppress(SignalingError):
                await self.client.leave_room(self.room_id)

    async def close(self) -> None:
        """End (locally, without asking) if still running and stop all background work.

        An end already under way (kicked, remote hang-up) runs in one of the session's
        own tasks and may still be publishing its end event: it gets up to
        :data:`END_GRACE_S` to finish before anything is cancelled.
        """
        if not self.ended.is_set():
            await self._finish(self.LOCAL)
        if not self.finished.is_set():
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(self.finished.wait(), END_GRACE_S)
        await self.tasks.close()  # the inbox and the clock among them
