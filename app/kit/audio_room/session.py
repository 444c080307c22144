"""One live audio room, from joining to its end: seats, roles, requests, messages, audio.

A :class:`~app.kit.room.session.RoomSession` (joining, members, the peer mesh, reconnects,
messages, the end) with what an audio room adds: the seat map with the highest version,
roles, requests to speak and seat invitations, the room's duration event, and audio that
follows the seats (:class:`~app.kit.audio_room.audio.RoomAudio`). It ends exactly once,
with :class:`~app.kit.types.AudioRoomEndReason` ``LOCAL_LEAVE`` (:meth:`leave`, or a lost
connection) or ``KICK_OUT`` (removed by a host, or signed in elsewhere).

Its parts: ``session.state`` (seats, roles, requests and the page's view,
:mod:`~app.kit.audio_room.state`), ``session.seats`` (seat actions and request pushes,
:mod:`~app.kit.audio_room.seats`), ``session.audio`` (the links' directions) and
``session.chat``. Pages follow :meth:`subscribe` and read :meth:`view`.
"""

from __future__ import annotations

import logging
import time
from collections.abc import Callable
from dataclasses import replace
from datetime import timedelta
from typing import ClassVar

from app.kit.audio_room.audio import RoomAudio
from app.kit.audio_room.seats import SeatActions
from app.kit.audio_room.sfu_audio import SfuRoomAudio
from app.kit.audio_room.state import AudioRoomState
from app.kit.bus import EventBus
from app.kit.config.audio_room import AudioRoomConfig
from app.kit.events import AudioRoomEvents
from app.kit.media import LocalMedia, MediaDevice, MediaFactory, MediaOptions
from app.kit.room.members import Member
from app.kit.room.session import Change, RoomSession
from app.kit.types import (
    AudioRoomEndEvent,
    AudioRoomEndReason,
    AudioRoomRole,
    InRoomMessage,
    LeaveConfirmationEvent,
    MicrophoneTurnOnByOthersEvent,
    User,
)
from app.kit.views.audio_room import AudioRoomView
from media.levels import SILENCE_DBFS
from signaling.client import SignalingClient
from signaling.protocol import DeviceControlEvent, MemberInfo, RoomSnapshot, SeatConfig
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
from signaling.protocol_sfu import SfuOfferEvent, SfuResetEvent

log = logging.getLogger("parley.audio_room")

__all__ = ["AudioRoomSession"]

_SEAT_PUSHES = (
    SeatRemovedEvent,
    SeatApplicationEvent,
    SeatApplicationEndedEvent,
    SeatInvitedEvent,
    SeatInvitationEndedEvent,
)


class AudioRoomSession(RoomSession[AudioRoomEvents, AudioRoomEndReason, AudioRoomEndEvent]):
    """The local user's part in one live audio room."""

    kind = "audio_room"
    LOCAL: ClassVar[AudioRoomEndReason] = AudioRoomEndReason.LOCAL_LEAVE
    KICKED: ClassVar[AudioRoomEndReason] = AudioRoomEndReason.KICK_OUT
    # The kit has no end reason for a lost network: the room is left locally.
    LOST: ClassVar[AudioRoomEndReason] = AudioRoomEndReason.LOCAL_LEAVE

    def __init__(
        self,
        client: SignalingClient,
        bus: EventBus,
        me: User,
        room_id: str,
        config: AudioRoomConfig,
        *,
        media: MediaOptions | None = None,
        media_factory: MediaFactory = LocalMedia,
        clock: Callable[[], float] = time.time,
    ) -> None:
        super().__init__(
            client,
            bus.audio_room,
            me,
            room_id,
            media=media,
            media_factory=media_factory,
            clock=clock,
        )
        self.bus = bus
        self.config = config
        # The local speaker's own ring: the meter hears what leaves the microphone slot.
        levels = self.media.levels
        self.media.audio.on_audio = lambda samples: levels.feed(me.id, samples)
        self.state = AudioRoomState(room_id, me, config, self.members)
        #: Links to every member (the mesh), or through the server's SFU once the join
        #: snapshot says so.
        self.audio: RoomAudio | SfuRoomAudio = RoomAudio(self.mesh, self.media)
        self.seats = SeatActions(self)
        #: Open the microphone when the local user sits down later (taking a seat).
        self.open_microphone_on_seat = True

    # --- observation ------------------------------------------------------------------

    @property
    def role(self) -> AudioRoomRole:
        """The local user's role now."""
        return self.state.local_role

    def view(self) -> AudioRoomView:
        """The page as it should look now."""
        return self.state.view(
            duration_s=self.duration_s,
            microphone_on=self.microphone_on,
            speaker_on=self.speaker_on,
            messages=self.chat.messages,
            minimized=self.minimized,
            reconnecting=self.reconnecting,
        )

    # --- joining ----------------------------------------------------------------------

    async def _join(self) -> RoomSnapshot:
        self.media.playback.muted = not self.config.use_speaker_when_joining
        host = self.config.role is AudioRoomRole.HOST
        seats = SeatConfig(
            count=self.config.seat_count,
            host_seat_indexes=list(self.config.host_seat_indexes),
            lock=host and self.config.close_seat_when_join,
        )
        snapshot = await self.client.join_room(
            self.room_id, "audio_room", role="host" if host else "audience", seats=seats
        )
        if snapshot.media == "sfu" and not isinstance(self.audio, SfuRoomAudio):
            self.audio = SfuRoomAudio(self.client, self.room_id, self.media, self.tasks)
        return snapshot

    async def _apply_snapshot(self, snapshot: RoomSnapshot) -> None:
        if self.reconnecting and isinstance(self.audio, SfuRoomAudio):
            # The server may have restarted (and its SFU with it): connect anew.
            self.spawn(self.audio.restart(), f"{self.room_id} SFU after reconnect")
        self.state.applications = {
            u.user_id: User(u.user_id, u.name) for u in snapshot.applications
        }
        if snapshot.seat_map is not None:
            await self._seat_map(snapshot.seat_map)
        self.changed(Change.MEMBERS)
        self.changed(Change.REQUESTS)

    async def _opened(self, snapshot: RoomSnapshot) -> None:
        host = self.config.role is AudioRoomRole.HOST
        if host and self.config.close_seat_when_join and not self.state.locked:
            # The room existed already with its own layout: lock it as configured.
            await self.seats.lock(True)
        take = self.config.take_seat_index_when_join
        if take >= 0 and self.state.seat_of(self.me.id) is None:
            await self.seats.take(take, microphone=self.config.turn_on_microphone_when_joining)

    async def _on_tick(self) -> None:
        await self.channel.publish(
            lambda e: e.duration.on_update, timedelta(seconds=self.duration_s)
        )

    # --- members ----------------------------------------------------------------------

    def _local_info(self, info: MemberInfo) -> None:
        self.state.set_local(info)

    async def _member_joined(self, member: Member, fresh: bool) -> None:
        await self.sync_audio()

    async def _member_gone(self, member: Member) -> None:
        self.state.applications.pop(member.user.id, None)
        await self.audio.remove(member.user.id)

    async def _members_changed(self) -> None:
        await self.channel.publish(
            lambda e: e.user.on_count_or_property_changed, self.state.users()
        )

    async def _attributes_changed(self, event: UserAttributesChangedEvent) -> None:
        attributes = dict(event.attributes)
        if event.user_id == self.me.id:
            self.state.local = replace(self.state.local, attributes=attributes)
        elif not self._update_member(event.user_id, attributes=attributes):
            return
        await self._members_changed()
        self.changed(Change.MEMBERS)

    def _level_changed(self, user_id: str, dbfs: float, speaking: bool) -> bool:
        if user_id != self.me.id:
            return False
        self.state.local = replace(self.state.local, level_dbfs=dbfs, speaking=speaking)
        return True

    # --- pushes -----------------------------------------------------------------------

    async def _handle_other(self, event: object) -> None:
        if isinstance(event, SeatChangedEvent):
            await self._seat_map(event)
        elif isinstance(event, UserAttributesChangedEvent):
            await self._attributes_changed(event)
        elif isinstance(event, _SEAT_PUSHES):
            await self.seats.handle(event)
        elif isinstance(event, SfuOfferEvent) and isinstance(self.audio, SfuRoomAudio):
            # Answered aside, so the inbox never waits on a negotiation.
            self.spawn(self.audio.handle_offer(event), f"{self.room_id} SFU offer")
        elif isinstance(event, SfuResetEvent) and isinstance(self.audio, SfuRoomAudio):
            self.spawn(self.audio.restart(), f"{self.room_id} SFU reset")

    async def _seat_map(self, info: SeatMapInfo) -> None:
        diff = self.state.apply_seat_map(info)
        if diff is None:
            return
        for user_id in self.state.remote:
            if self.state.seat_of(user_id) is None:
                self._update_member(user_id, level_dbfs=SILENCE_DBFS, speaking=False)
        if diff.now_seated != diff.was_seated:
            await self._local_seated(diff.now_seated)
        await self.sync_audio()
        self.changed(Change.SEATS)
        if diff.roles_changed:
            self.changed(Change.MEMBERS)
            self.changed(Change.REQUESTS)
        if diff.lock_changed:
            if info.locked:
                await self.channel.publish(lambda e: e.seat.on_closed)
            else:
                await self.channel.publish(lambda e: e.seat.on_opened)
        if diff.seats_changed:
            taken, untaken = self.state.seat_users()
            await self.channel.publish(lambda e: e.seat.on_changed, taken, untaken)

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
        """Point the links at the current members and seats (who sends, who is heard)."""
        speakers = self.state.speakers() - {self.me.id}
        local_seated = self.state.seat_of(self.me.id) is not None
        await self.audio.sync(set(self.state.remote), speakers, local_seated)

    async def _connection_lost(self) -> None:
        await self.publish_error("not_connected", "the connection to the room was lost")
        await super()._connection_lost()

    # --- local audio ------------------------------------------------------------------

    async def set_microphone(self, on: bool) -> bool:
        """Turn the microphone on or off; only a seated user may turn it on."""
        if on and self.state.seat_of(self.me.id) is None:
            return False
        if on == self.media.microphone_on:
            return True
        self.media.set_microphone(on)
        if not on:  # nothing is metered while off: the ring must not keep its last level
            self.on_level(self.me.id, SILENCE_DBFS, False)
        self.changed(Change.DEVICES)
        await self._report_devices(microphone=on)
        await self.channel.publish(lambda e: e.audio_video.on_microphone_state_changed, on)
        return True

    async def _set_device(self, device: MediaDevice, on: bool) -> None:
        if device == "microphone":
            await self.set_microphone(on)

    async def _may_turn_on(self, event: DeviceControlEvent) -> bool:
        """Unmuting needs the local user's consent (a hook; refused without one)."""
        if event.device != "microphone":
            return False
        request = MicrophoneTurnOnByOthersEvent(User(event.requester.user_id, event.requester.name))
        return await self.channel.ask(
            lambda e: e.audio_video.on_microphone_turn_on_by_others_confirmation,
            request,
            otherwise=False,
        )

    async def _close_media(self) -> None:
        await self.audio.close()

    # --- what the page reports --------------------------------------------------------

    async def seat_clicked(self, index: int) -> bool:
        """A seat was clicked: publish ``seat.on_clicked``; True if a hook handled it
        (then the page shows no menu of its own)."""
        uid = self.state.occupants().get(index)
        user = self.state.user(uid) if uid else None
        await self.channel.publish(lambda e: e.seat.on_clicked, index, user)
        return self.channel.events.seat.on_clicked is not None

    async def member_clicked(self, user: User | str) -> None:
        """A member-list row was clicked (the user, or their id as the page knows it)."""
        user = self.state.user(user) if isinstance(user, str) else user
        await self.channel.publish(lambda e: e.member_list.on_clicked, user)

    async def member_more_pressed(self, user: User | str) -> bool:
        """The row's "more" button: True if a hook replaced the default menu."""
        user = self.state.user(user) if isinstance(user, str) else user
        await self.channel.publish(lambda e: e.member_list.on_more_button_pressed, user)
        return self.channel.events.member_list.on_more_button_pressed is not None

    async def message_clicked(self, message: InRoomMessage | str) -> None:
        """A message was clicked (the message, or its id as the page knows it)."""
        found = self.chat.find(message) if isinstance(message, str) else message
        if found is not None:
            await self.channel.publish(lambda e: e.in_room_message.on_clicked, found)

    async def message_long_pressed(self, message: InRoomMessage | str) -> None:
        found = self.chat.find(message) if isinstance(message, str) else message
        if found is not None:
            await self.channel.publish(lambda e: e.in_room_message.on_long_press, found)

    async def _on_local_send(self, message: InRoomMessage) -> None:
        await self.channel.publish(lambda e: e.in_room_message.on_local_send, message)

    # --- the end ----------------------------------------------------------------------

    async def leave(self, *, confirm: bool = True) -> bool:
        """Leave the room; with ``confirm`` ``on_leave_confirmation`` may veto it first."""
        return await self.end_by_user(confirm=confirm)

    async def _confirm_leaving(self) -> bool:
        event = LeaveConfirmationEvent(self.room_id, self.config.leave_confirmation)
        return await self.channel.confirm(lambda e: e.on_leave_confirmation, event)

    def _end_event(self, reason: AudioRoomEndReason, kicker: str | None) -> AudioRoomEndEvent:
        return AudioRoomEndEvent(
            reason,
            kicker if reason is AudioRoomEndReason.KICK_OUT else None,
            is_from_minimizing=self.minimized,
        )

    async def _publish_end(self, event: AudioRoomEndEvent) -> None:
        await self.channel.end(lambda e: e.on_ended, event)
