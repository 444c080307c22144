"""One call, from joining its room to its end: members, media mesh, devices, end reasons.

The session joins the call's room on the signaling server, opens a peer link to every
other member (:class:`media.mesh.Mesh`, relayed through ``rtc.signal``), keeps each
member's device state, publishes the call kit's events on the bus, and ends exactly once
with the right :class:`~app.types.CallEndReason`:

- ``LOCAL_HANG_UP`` — :meth:`hang_up` (after the optional confirmation);
- ``REMOTE_HANG_UP`` — the last remote member left and nobody is still being invited;
- ``KICK_OUT`` — a member removed us (``kicker_user_id``), or we signed in elsewhere;
- ``ABANDONED`` — nobody else ever arrived: every invitation ended without anyone
  joining, the wait ran out, or the connection could not be restored.

Qt-free: observers subscribe with :meth:`subscribe` and get :class:`CallChanged`.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import time
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field, replace
from types import MappingProxyType
from typing import Any

from aiortc.mediastreams import MediaStreamTrack

from app.kit.bus import EventBus
from app.kit.config import CallConfig
from app.kit.media import DeviceKind, LocalMedia
from app.kit.room.chat import Chat
from app.kit.room.session_end import cancel_after_end
from app.kit.types import (
    CallEndEvent,
    CallEndReason,
    HangUpConfirmationEvent,
    KitError,
    RoomState,
    User,
)
from media.errors import DeviceExceptionType
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
    KickedEvent,
    MemberInfo,
    MessageEvent,
    RoomEndedEvent,
    RtcSignalEvent,
    UserEnteredEvent,
    UserLeftEvent,
)

log = logging.getLogger("parley.call")


@dataclass(frozen=True)
class Member:
    """A remote member as the call page shows it."""

    user: User
    microphone: bool
    camera: bool
    connection: PeerState = PeerState.NEW
    level_dbfs: float = -100.0
    speaking: bool = False
    video: MediaStreamTrack | None = field(default=None, compare=False)


@dataclass(frozen=True)
class CallChanged:
    """Something on the call page should be redrawn; ``what`` says which part."""

    what: str  # "members", "devices", "levels", "messages", "ended"


class CallSession:
    """The local user's part in one call."""

    def __init__(
        self,
        client: SignalingClient,
        bus: EventBus,
        me: User,
        call_id: str,
        media: LocalMedia,
        config: CallConfig | None = None,
        *,
        abandon_after_s: float = 60.0,
        clock: Callable[[], float] = time.time,
    ) -> None:
        self.client = client
        self.bus = bus
        self.me = me
        self.call_id = call_id
        self.media = media
        self.config = config or CallConfig.one_on_one_video()
        self._abandon_after_s = abandon_after_s
        self._clock = clock
        self._members: dict[str, Member] = {}
        self._ever_joined: set[str] = set()
        self._pending_invitees: set[str] = set()
        self._listeners: list[Callable[[CallChanged], None]] = []
        self._unsubscribe: Callable[[], None] | None = None
        self._tasks: set[asyncio.Task[Any]] = set()
        self._abandon_timer: asyncio.TimerHandle | None = None
        self._start_time_ms = 0
        self._joined = False
        # Device failures seen before the room was joined, reported right after.
        self._unreported: list[tuple[DeviceKind, DeviceExceptionType]] = []
        self.mesh = Mesh(
            me.id,
            self._send_signal,
            on_remote_track=self._on_remote_track,
            on_peer_state=self._on_peer_state,
        )
        self.chat = Chat(
            client,
            call_id,
            me,
            [],
            changed=lambda: self._changed("messages"),
            report_error=self._publish_error,
        )
        self.ended = asyncio.Event()
        # Set once on_call_end has been published: close() waits for an end under way.
        self._end_published = asyncio.Event()
        self.end_event: CallEndEvent | None = None
        self.minimized = False

    # --- observation ----------------------------------------------------------------

    @property
    def members(self) -> Mapping[str, Member]:
        """Remote members by user id (read-only)."""
        return MappingProxyType(self._members)

    @property
    def duration_s(self) -> int:
        """Seconds since the call's room started, by the server's start time."""
        if not self._start_time_ms:
            return 0
        return max(0, int(self._clock() - self._start_time_ms / 1000))

    def subscribe(self, listener: Callable[[CallChanged], None]) -> Callable[[], None]:
        self._listeners.append(listener)
        return lambda: self._listeners.remove(listener) if listener in self._listeners else None

    def _changed(self, what: str) -> None:
        for listener in list(self._listeners):
            try:
                listener(CallChanged(what))
            except Exception:
                log.exception("call listener failed")

    def _spawn(self, coro: Any) -> None:
        task = asyncio.get_running_loop().create_task(coro)
        self._tasks.add(task)
        task.add_done_callback(self._task_done)

    def _task_done(self, task: asyncio.Task[Any]) -> None:
        self._tasks.discard(task)
        if not task.cancelled() and task.exception() is not None:
            log.error("call task failed", exc_info=task.exception())

    # --- start ----------------------------------------------------------------------

    async def start(self, *, microphone: bool | None = None, camera: bool | None = None) -> None:
        """Open the devices, join the call's room and connect to everyone in it."""
        mic = self.config.turn_on_microphone_when_joining if microphone is None else microphone
        cam = self.config.turn_on_camera_when_joining if camera is None else camera
        await self.media.start()
        await self.mesh.set_local_audio(self.media.audio)
        await self.mesh.set_local_video(self.media.video)
        self._unsubscribe = self.client.subscribe(self._on_client_event)
        self._set_devices(mic, cam)
        try:
            snapshot = await self.client.join_room(self.call_id, "call", microphone=mic, camera=cam)
        except SignalingError as exc:
            await self._publish_error(exc.code.value, exc.message)
            await self._finish(CallEndReason.ABANDONED)
            return
        self._start_time_ms = snapshot.start_time_ms
        self.chat.load_history(snapshot.messages)
        self._joined = True
        for device, kind in self._unreported:
            with contextlib.suppress(SignalingError):
                await self.client.report_device_exception(self.call_id, device, kind.value)
        self._unreported.clear()
        for info in snapshot.members:
            if info.user_id != self.me.id:
                await self._member_joined(info)
        await self.bus.call.publish(lambda e: e.audio_video.on_microphone_state_changed, mic)
        await self.bus.call.publish(lambda e: e.audio_video.on_camera_state_changed, cam)
        if not self._members:
            self._arm_abandon_timer()

    @property
    def pending_invitees(self) -> frozenset[str]:
        """Invited users not joined yet (the call page's waiting tiles)."""
        return frozenset(self._pending_invitees)

    def expect_invitees(self, user_ids: set[str]) -> None:
        """Users still being invited: the call waits for them before it is abandoned."""
        self._pending_invitees |= user_ids
        self._changed("members")

    def invitee_answered(self, user_id: str, accepted: bool) -> None:
        """An invitee stopped ringing; an accepting one is still expected to join."""
        if not accepted:
            if user_id in self._pending_invitees:
                self._pending_invitees.discard(user_id)
                self._changed("members")
            self._check_alone()

    # --- client events --------------------------------------------------------------

    def _on_client_event(self, event: object) -> None:
        if self.ended.is_set():
            return
        # Chat messages carry their room inside the message.
        carrier = event.message if isinstance(event, MessageEvent) else event
        room_id = getattr(carrier, "room_id", None)
        if room_id != self.call_id:
            return
        if isinstance(event, UserEnteredEvent):
            self._spawn(self._member_joined(event.member))
        elif isinstance(event, UserLeftEvent):
            self._spawn(self._member_left(event.user.user_id))
        elif isinstance(event, RtcSignalEvent):
            payload = event.payload.model_dump(mode="json")
            self._spawn(self.mesh.handle_signal(event.sender, SignalKind(event.kind), payload))
        elif isinstance(event, DeviceStateChangedEvent):
            self._remote_devices(event)
        elif isinstance(event, DeviceExceptionEvent):
            self._spawn(self._remote_exception(event))
        elif isinstance(event, DeviceControlEvent):
            self._spawn(self._device_control(event))
        elif isinstance(event, KickedEvent):
            self._spawn(self._finish(CallEndReason.KICK_OUT, kicker=event.kicker_id, left=True))
        elif isinstance(event, MessageEvent):
            self._spawn(self.chat.received(event.message))
        elif isinstance(event, RoomEndedEvent):
            self._spawn(self._finish(CallEndReason.REMOTE_HANG_UP, left=True))
        elif isinstance(event, RoomStateChanged):
            self._spawn(self._room_state(event))

    async def _room_state(self, event: RoomStateChanged) -> None:
        state = RoomState(event.reason, event.error_code, dict(event.extended_data))
        await self.bus.call.publish(lambda e: e.room.on_state_changed, state)
        reason = event.reason
        if reason is RoomStateChangedReason.KICK_OUT and event.extended_data.get("reason"):
            await self._finish(CallEndReason.KICK_OUT, left=True)
        elif reason is RoomStateChangedReason.RECONNECT_FAILED:
            await self._finish(CallEndReason.ABANDONED, left=True)
        elif reason is RoomStateChangedReason.RECONNECTED:
            room = event.extended_data.get("room")
            members = getattr(room, "members", None)
            if members is not None:
                await self._resync(list(members))

    async def _resync(self, members: list[MemberInfo]) -> None:
        """After a reconnect: members who left meanwhile go, new ones are connected."""
        present = {m.user_id for m in members if m.user_id != self.me.id}
        for user_id in list(self._members):
            if user_id not in present:
                await self._member_left(user_id)
        for info in members:
            if info.user_id != self.me.id and info.user_id not in self._members:
                await self._member_joined(info)

    async def _member_joined(self, info: MemberInfo) -> None:
        user = User(info.user_id, info.name)
        fresh = info.user_id not in self._members
        self._members[info.user_id] = Member(user, info.microphone, info.camera)
        self._ever_joined.add(info.user_id)
        self._pending_invitees.discard(info.user_id)
        self._cancel_abandon_timer()
        await self.mesh.add_peer(info.user_id)
        self._changed("members")
        if fresh:
            await self.bus.call.publish(lambda e: e.user.on_enter, user)

    async def _member_left(self, user_id: str) -> None:
        member = self._members.pop(user_id, None)
        if member is None:
            return
        await self.mesh.remove_peer(user_id)
        await self.media.stop_playing(user_id)
        self._changed("members")
        await self.bus.call.publish(lambda e: e.user.on_leave, member.user)
        self._check_alone()

    def _check_alone(self) -> None:
        if self._members or self._pending_invitees or self.ended.is_set():
            return
        if self._ever_joined:
            self._spawn(self._finish(CallEndReason.REMOTE_HANG_UP))
        elif self._abandon_timer is None:
            self._spawn(self._finish(CallEndReason.ABANDONED))

    def _arm_abandon_timer(self) -> None:
        loop = asyncio.get_running_loop()
        self._abandon_timer = loop.call_later(
            self._abandon_after_s,
            lambda: (
                self._spawn(self._finish(CallEndReason.ABANDONED)) if not self._members else None
            ),
        )

    def _cancel_abandon_timer(self) -> None:
        if self._abandon_timer is not None:
            self._abandon_timer.cancel()
            self._abandon_timer = None

    def _remote_devices(self, event: DeviceStateChangedEvent) -> None:
        member = self._members.get(event.user_id)
        if member is None:
            return
        self._members[event.user_id] = replace(
            member, microphone=event.microphone, camera=event.camera
        )
        self._changed("members")

    async def _remote_exception(self, event: DeviceExceptionEvent) -> None:
        member = self._members.get(event.user_id)
        if member is None:
            return
        try:
            kind: DeviceExceptionType | None = DeviceExceptionType(event.exception)
        except ValueError:
            kind = DeviceExceptionType.UNKNOWN
        if event.device == "camera":
            await self.bus.call.publish(
                lambda e: e.audio_video.on_remote_camera_exception_occurred, member.user, kind
            )
        else:
            await self.bus.call.publish(
                lambda e: e.audio_video.on_remote_microphone_exception_occurred, member.user, kind
            )

    async def _device_control(self, event: DeviceControlEvent) -> None:
        """Turning off is carried out; turning on is only a request the user may refuse."""
        if event.on:
            log.info("%s asks to turn on our %s; ignored", event.requester.user_id, event.device)
            return
        if event.device == "microphone":
            await self.set_microphone(False)
        else:
            await self.set_camera(False)

    # --- media ----------------------------------------------------------------------

    async def _send_signal(self, to: str, kind: SignalKind, payload: dict[str, Any]) -> None:
        try:
            await self.client.send_rtc_signal(self.call_id, to, kind.value, payload)
        except SignalingError as exc:
            log.warning("signal to %s failed: %s", to, exc)

    def _on_remote_track(self, user_id: str, kind: MediaKind, track: MediaStreamTrack) -> None:
        member = self._members.get(user_id)
        if kind is MediaKind.AUDIO:
            self.media.play(user_id, track)
            return
        self.media.show(user_id, track)
        if member is not None:
            self._members[user_id] = replace(member, video=track)
            self._changed("members")

    def _on_peer_state(self, user_id: str, state: PeerState) -> None:
        member = self._members.get(user_id)
        if member is not None and member.connection is not state:
            self._members[user_id] = replace(member, connection=state)
            self._changed("members")

    def on_level(self, user_id: str, dbfs: float, speaking: bool) -> None:
        """Feed from :class:`LocalMedia`'s level meter (remote users' audio)."""
        member = self._members.get(user_id)
        if member is not None:
            self._members[user_id] = replace(member, level_dbfs=dbfs, speaking=speaking)
            self._changed("levels")

    def _set_devices(self, microphone: bool, camera: bool) -> None:
        self.media.set_microphone(microphone)
        self.media.set_camera(camera)

    async def set_microphone(self, on: bool) -> None:
        """Turn the local microphone on or off; the others see it."""
        if on == self.media.microphone_on:
            return
        self.media.set_microphone(on)
        self._changed("devices")
        await self._report_devices(microphone=on)
        await self.bus.call.publish(lambda e: e.audio_video.on_microphone_state_changed, on)

    async def set_camera(self, on: bool) -> None:
        """Turn the local camera on or off (releasing the device); the others see it."""
        if on == self.media.camera_on:
            return
        self.media.set_camera(on)
        self._changed("devices")
        await self._report_devices(camera=on)
        await self.bus.call.publish(lambda e: e.audio_video.on_camera_state_changed, on)

    async def set_audio_output(self, device: int | str | None) -> None:
        """Switch the speaker; ``None`` is the system default."""
        route = await self.media.set_output(device)
        await self.bus.call.publish(lambda e: e.audio_video.on_audio_output_changed, route)

    async def _report_devices(self, **state: bool) -> None:
        with contextlib.suppress(SignalingError):
            await self.client.set_device_state(self.call_id, **state)

    async def local_device_failed(self, device: DeviceKind, kind: DeviceExceptionType) -> None:
        """A local device failed (media fell back to a synthetic source): tell everyone."""
        if device == "camera":
            await self.bus.call.publish(
                lambda e: e.audio_video.on_local_camera_exception_occurred, kind
            )
        else:
            await self.bus.call.publish(
                lambda e: e.audio_video.on_local_microphone_exception_occurred, kind
            )
        if not self._joined:
            self._unreported.append((device, kind))
            return
        with contextlib.suppress(SignalingError):
            await self.client.report_device_exception(self.call_id, device, kind.value)

    async def turn_off_remote_device(self, user_id: str, device: DeviceKind) -> None:
        """Turn someone's device off (forced)."""
        await self.client.request_device(self.call_id, user_id, device, on=False)

    async def ask_remote_device_on(self, user_id: str, device: DeviceKind) -> None:
        """Ask someone to turn a device on; they decide."""
        await self.client.request_device(self.call_id, user_id, device, on=True)

    async def remove_user(self, user_id: str) -> None:
        """Remove a member from the call; they end with ``KICK_OUT`` and our id."""
        await self.client.remove_user(self.call_id, user_id)

    # --- ending ---------------------------------------------------------------------

    async def hang_up(self, *, confirm: bool = True) -> bool:
        """Leave the call; with ``confirm`` the hang-up confirmation may veto it first."""
        if self.ended.is_set():
            return True
        if confirm:
            event = HangUpConfirmationEvent(self.call_id, self.config.hang_up_confirmation)
            approved = await self.bus.call.confirm(lambda e: e.on_hang_up_confirmation, event)
            if not approved:
                return False
        await self._finish(CallEndReason.LOCAL_HANG_UP)
        return True

    async def _finish(
        self, reason: CallEndReason, *, kicker: str | None = None, left: bool = False
    ) -> None:
        """End the call once: leave the room, close media, publish ``on_call_end``."""
        if self.ended.is_set():
            return
        self.ended.set()
        self._cancel_abandon_timer()
        if self._unsubscribe is not None:
            self._unsubscribe()
        if not left:
            with contextlib.suppress(SignalingError):
                await self.client.leave_room(self.call_id)
        await self.mesh.close()
        await self.media.close()
        self.end_event = CallEndEvent(
            reason,
            kicker if reason is CallEndReason.KICK_OUT else None,
            is_from_minimizing=self.minimized,
        )
        self._changed("ended")
        try:
            await self.bus.call.end(lambda e: e.on_call_end, self.end_event)
        finally:
            self._end_published.set()

    async def _publish_error(self, code: str, message: str) -> None:
        await self.bus.call.publish(lambda e: e.on_error, KitError(code, message))

    async def close(self) -> None:
        """End the call if still running (as a local hang-up) and cancel background work."""
        if not self.ended.is_set():
            await self._finish(CallEndReason.LOCAL_HANG_UP)
        await cancel_after_end(self._end_published, list(self._tasks))
