"""One call, from joining its room to its end: invitees, video, devices, end reasons.

A :class:`~app.kit.room.session.RoomSession` (joining, members, the peer mesh, reconnects,
the end) with what a call adds: the invitees it still waits for, video, and the right
:class:`~app.kit.types.CallEndReason`:

- ``LOCAL_HANG_UP`` — :meth:`CallSession.hang_up` (after the optional confirmation);
- ``REMOTE_HANG_UP`` — the last remote member left and nobody is still being invited;
- ``KICK_OUT`` — a member removed us (``kicker_user_id``), or we signed in elsewhere;
- ``ABANDONED`` — nobody else ever arrived: every invitation ended without anyone
  joining, the wait ran out, or the connection could not be restored.
"""

from __future__ import annotations

import asyncio
import logging
import time
from collections.abc import Callable, Mapping
from types import MappingProxyType
from typing import ClassVar

from aiortc.mediastreams import MediaStreamTrack

from app.kit.bus import EventBus
from app.kit.config import CallConfig
from app.kit.events import CallEvents
from app.kit.media import LocalMedia, MediaDevice, MediaFactory, MediaOptions
from app.kit.room.members import Member
from app.kit.room.session import Change, RoomSession
from app.kit.types import CallEndEvent, CallEndReason, HangUpConfirmationEvent, User
from media.errors import DeviceExceptionType
from media.screen import ScreenTrack
from signaling.client import SignalingClient
from signaling.errors import ErrorCode, SignalingError
from signaling.protocol import RoomEndedEvent, RoomSnapshot
from signaling.protocol_audio import UserAttributesChangedEvent

__all__ = ["SCREEN_ATTRIBUTE", "CallSession"]

log = logging.getLogger("parley.call")


#: The in-room attribute a member sharing their screen sets to "1".
SCREEN_ATTRIBUTE = "screen"


class CallSession(RoomSession[CallEvents, CallEndReason, CallEndEvent]):
    """The local user's part in one call."""

    kind = "call"
    LOCAL: ClassVar[CallEndReason] = CallEndReason.LOCAL_HANG_UP
    KICKED: ClassVar[CallEndReason] = CallEndReason.KICK_OUT
    LOST: ClassVar[CallEndReason] = CallEndReason.ABANDONED

    def __init__(
        self,
        client: SignalingClient,
        bus: EventBus,
        me: User,
        call_id: str,
        config: CallConfig | None = None,
        *,
        is_video: bool | None = None,
        media: MediaOptions | None = None,
        media_factory: MediaFactory = LocalMedia,
        abandon_after_s: float = 60.0,
        clock: Callable[[], float] = time.time,
    ) -> None:
        """``is_video``: a video call (the camera may still be off); the config's camera
        setting by default."""
        super().__init__(
            client, bus.call, me, call_id, media=media, media_factory=media_factory, clock=clock
        )
        self.bus = bus
        self.config = config or CallConfig.one_on_one_video()
        self.is_video = self.config.turn_on_camera_when_joining if is_video is None else is_video
        self._abandon_after_s = abandon_after_s
        self._abandon_timer: asyncio.TimerHandle | None = None
        self._microphone = self.config.turn_on_microphone_when_joining
        self._camera = self.config.turn_on_camera_when_joining
        # Invited users not joined yet → the invitation that rings them.
        self._pending: dict[str, str] = {}
        # Whether anyone was ever invited into (or joined) this call: when the last of
        # them is gone, nobody is left to wait for.
        self._expected_any = False
        self._screen: ScreenTrack | None = None
        self._ever_joined: set[str] = set()
        # When someone else first joined (the call was answered), by ``clock``.
        self._answered_at: float | None = None

    @property
    def call_id(self) -> str:
        return self.room_id

    @property
    def duration_s(self) -> int:
        """Seconds since the call was answered (someone else first joined): the call
        page's timer. 0 while it still rings out; a reconnect or a restarted server
        does not reset it."""
        if self._answered_at is None:
            return 0
        return max(0, int(self._clock() - self._answered_at))

    # --- start ------------------------------------------------------------------------

    async def start(self, *, microphone: bool | None = None, camera: bool | None = None) -> bool:
        """Join the call's room with the devices on as configured (or as given here),
        and connect to everyone in it; False if the call did not last."""
        if microphone is not None:
            self._microphone = microphone
        if camera is not None:
            self._camera = camera
        self.media.playback.muted = not self.config.use_speaker_when_joining
        return await super().start()

    async def _join(self) -> RoomSnapshot:
        self.media.set_microphone(self._microphone)
        self.media.set_camera(self._camera)
        self.changed(Change.DEVICES)
        return await self.client.join_room(
            self.call_id, "call", microphone=self._microphone, camera=self._camera
        )

    async def _opened(self, snapshot: RoomSnapshot) -> None:
        publish = self.channel.publish
        await publish(lambda e: e.audio_video.on_microphone_state_changed, self._microphone)
        await publish(lambda e: e.audio_video.on_camera_state_changed, self._camera)
        if not self._members:
            self._arm_abandon_timer()

    # --- invitees ---------------------------------------------------------------------

    @property
    def pending_invitees(self) -> frozenset[str]:
        """Invited users not joined yet (the call page's waiting tiles)."""
        return frozenset(self._pending)

    def invitation_of(self, user_id: str) -> str | None:
        """The invitation still ringing ``user_id`` for this call, if any."""
        return self._pending.get(user_id)

    def expect_invitees(self, invitations: Mapping[str, str]) -> None:
        """Users being invited (user id → invitation id): the call waits for them."""
        fresh = {uid: inv for uid, inv in invitations.items() if uid not in self._members}
        if fresh:
            self._pending.update(fresh)
            self._expected_any = True
            self._cancel_abandon_timer()
            self.changed(Change.MEMBERS)

    def invitee_answered(self, user_id: str, accepted: bool) -> None:
        """An invitee stopped ringing; one that accepted is still expected to join."""
        if accepted:
            return
        if self._pending.pop(user_id, None) is not None:
            self.changed(Change.MEMBERS)
        self._check_alone()

    # --- members ----------------------------------------------------------------------

    async def _member_joined(self, member: Member, fresh: bool) -> None:
        user_id = member.user.id
        if self._answered_at is None:
            self._answered_at = self._clock()
        self._ever_joined.add(user_id)
        self._expected_any = True
        self._pending.pop(user_id, None)
        self._cancel_abandon_timer()
        await self.mesh.add_peer(user_id)

    async def _members_changed(self) -> None:
        self._check_alone()

    def _check_alone(self) -> None:
        if self.ended.is_set() or self._members or self._pending:
            return
        if self._ever_joined:
            self.spawn(self._finish(CallEndReason.REMOTE_HANG_UP), "the others hung up")
        elif self._expected_any:
            # Everyone invited declined, timed out or went away without ever joining.
            self.spawn(self._finish(CallEndReason.ABANDONED), "nobody came")

    def _arm_abandon_timer(self) -> None:
        def expire() -> None:
            self._abandon_timer = None
            if not self._members:
                self.spawn(self._finish(CallEndReason.ABANDONED), "nobody came in time")

        self._abandon_timer = asyncio.get_running_loop().call_later(self._abandon_after_s, expire)

    def _cancel_abandon_timer(self) -> None:
        if self._abandon_timer is not None:
            self._abandon_timer.cancel()
            self._abandon_timer = None

    async def _handle_other(self, event: object) -> None:
        if isinstance(event, RoomEndedEvent):
            await self._finish(CallEndReason.REMOTE_HANG_UP, left=True)
        elif isinstance(event, UserAttributesChangedEvent):
            # Who shares their screen (their tile fits the picture instead of cropping it).
            attributes = MappingProxyType(dict(event.attributes))
            if self._update_member(event.user_id, attributes=attributes):
                self.changed(Change.MEMBERS)

    async def _join_refused(self, error: SignalingError) -> None:
        if error.code is ErrorCode.ROOM_NOT_FOUND:
            # Everyone left before we got in (the caller hung up while we answered).
            await self._finish(CallEndReason.REMOTE_HANG_UP, left=True)
        else:
            await super()._join_refused(error)

    # --- devices ----------------------------------------------------------------------

    async def set_microphone(self, on: bool) -> None:
        """Turn the local microphone on or off; the others see it."""
        if on == self.media.microphone_on:
            return
        self.media.set_microphone(on)
        self.changed(Change.DEVICES)
        await self._report_devices(microphone=on)
        await self.channel.publish(lambda e: e.audio_video.on_microphone_state_changed, on)

    async def set_camera(self, on: bool) -> None:
        """Turn the local camera on or off (releasing the device); the others see it."""
        if on == self.media.camera_on:
            return
        self.media.set_camera(on)
        self.changed(Change.DEVICES)
        await self.sync_video_sending()
        await self._report_devices(camera=on)
        await self.channel.publish(lambda e: e.audio_video.on_camera_state_changed, on)

    # --- screen sharing --------------------------------------------------------------

    @property
    def sharing_screen(self) -> bool:
        """Whether the local screen is what the call sends as video now."""
        return self._screen is not None

    async def share_screen(self, on: bool, *, display: str | None = None) -> bool:
        """Send the screen instead of the camera (``on``), or stop; False if it cannot be
        shared here (``on_error`` says why in words for the person: no X11 session, …).

        The others see the picture fitted, not cropped: the call's members learn it from
        the in-room attribute ``screen`` (``"1"`` while sharing). The camera's own state
        does not change; it is sent again when sharing stops, if it is on.
        """
        if on == self.sharing_screen:
            return True
        stopped: ScreenTrack | None = None
        if on:
            try:
                self._screen = ScreenTrack(display=display)
            except RuntimeError as exc:
                await self.publish_error("screen_unavailable", str(exc))
                return False
        else:
            stopped, self._screen = self._screen, None
        await self.sync_video_sending()
        if stopped is not None:
            stopped.stop()  # after the links moved off it
        self.changed(Change.DEVICES)
        if self._in_room and not self.ended.is_set():
            try:
                await self.client.set_user_attributes(
                    self.call_id, {SCREEN_ATTRIBUTE: "1" if on else ""}
                )
            except SignalingError as exc:
                log.warning("screen sharing not announced: %s", exc)
        return True

    def _local_video(self) -> MediaStreamTrack | None:
        if self._screen is not None:
            return self._screen
        return super()._local_video()

    async def _close_media(self) -> None:
        await super()._close_media()
        if self._screen is not None:
            self._screen.stop()
            self._screen = None

    async def _set_device(self, device: MediaDevice, on: bool) -> None:
        if device == "microphone":
            await self.set_microphone(on)
        else:
            await self.set_camera(on)

    async def _local_device_failed(self, device: MediaDevice, kind: DeviceExceptionType) -> None:
        if device == "camera":
            await self.channel.publish(
                lambda e: e.audio_video.on_local_camera_exception_occurred, kind
            )
        else:
            await self.channel.publish(
                lambda e: e.audio_video.on_local_microphone_exception_occurred, kind
            )

    async def _remote_device_failed(
        self, member: Member, device: MediaDevice, kind: DeviceExceptionType
    ) -> None:
        if device == "camera":
            await self.channel.publish(
                lambda e: e.audio_video.on_remote_camera_exception_occurred, member.user, kind
            )
        else:
            await self.channel.publish(
                lambda e: e.audio_video.on_remote_microphone_exception_occurred, member.user, kind
            )

    async def turn_off_remote_device(self, user_id: str, device: MediaDevice) -> None:
        """Turn someone's device off (forced)."""
        await self.client.request_device(self.call_id, user_id, device, on=False)

    async def ask_remote_device_on(self, user_id: str, device: MediaDevice) -> None:
        """Ask someone to turn a device on; they decide."""
        await self.client.request_device(self.call_id, user_id, device, on=True)

    async def remove_user(self, user_id: str) -> None:
        """Remove a member from the call; they end with ``KICK_OUT`` and our id."""
        await self.client.remove_user(self.call_id, user_id)

    # --- the end ----------------------------------------------------------------------

    async def hang_up(self, *, confirm: bool = True) -> bool:
        """Leave the call; with ``confirm`` the hang-up confirmation may veto it first."""
        return await self.end_by_user(confirm=confirm)

    async def _confirm_leaving(self) -> bool:
        event = HangUpConfirmationEvent(self.call_id, self.config.hang_up_confirmation)
        return await self.channel.confirm(lambda e: e.on_hang_up_confirmation, event)

    async def _finish(
        self, reason: CallEndReason, *, kicker: str | None = None, left: bool = False
    ) -> None:
        self._cancel_abandon_timer()
        await super()._finish(reason, kicker=kicker, left=left)

    def _end_event(self, reason: CallEndReason, kicker: str | None) -> CallEndEvent:
        return CallEndEvent(
            reason,
            kicker if reason is CallEndReason.KICK_OUT else None,
            is_from_minimizing=self.minimized,
        )

    async def _publish_end(self, event: CallEndEvent) -> None:
        await self.channel.end(lambda e: e.on_call_end, event)
