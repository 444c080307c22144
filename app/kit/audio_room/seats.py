"""What members do with seats in an audio room, and the seat requests they receive.

Every action is one request to the server, which checks the rules (host powers, locks,
host seats); the seat map that follows arrives as ``seat.changed`` and the session
applies it. Actions return True when the server agreed; a refusal is reported through
``on_error`` — or, where the kit has an event for it, through that event
(``seat.audience.on_taking_request_failed``, ``seat.host.on_taking_invitation_failed``).
"""

from __future__ import annotations

import logging
from collections.abc import Awaitable
from typing import TYPE_CHECKING, Any

from app.kit.room.session import Change
from app.kit.types import User
from signaling.errors import SignalingError
from signaling.protocol_audio import (
    SeatApplicationEndedEvent,
    SeatApplicationEvent,
    SeatInvitationEndedEvent,
    SeatInvitedEvent,
    SeatRemovedEvent,
)

if TYPE_CHECKING:
    from app.kit.audio_room.session import AudioRoomSession

log = logging.getLogger("parley.audio_room")

__all__ = ["SeatActions"]


class SeatActions:
    """Seat, request and invitation actions of one session (``session.seats``)."""

    def __init__(self, session: AudioRoomSession) -> None:
        self._session = session
        #: Whether to open the microphone when the seat being taken arrives in the seat
        #: map (None: the session's default). Set before the request: the map may arrive
        #: before the answer.
        self.next_microphone: bool | None = None

    @property
    def _room(self) -> str:
        return self._session.room_id

    async def _ok(self, what: str, request: Awaitable[Any]) -> bool:
        try:
            await request
        except SignalingError as exc:
            await self._session.publish_error(exc.code.value, f"{what}: {exc.message}")
            return False
        return True

    # --- anyone -----------------------------------------------------------------------

    async def take(self, index: int, *, microphone: bool | None = None) -> bool:
        """Sit on an empty seat (or switch to it when already seated)."""
        client = self._session.client
        if self._session.state.seat_of(self._session.me.id) is not None:
            return await self.switch(index)
        self.next_microphone = microphone
        ok = await self._ok("take seat", client.take_seat(self._room, index))
        if not ok:
            self.next_microphone = None
        return ok

    async def switch(self, index: int) -> bool:
        """Move from the local user's seat to another empty one, in one step."""
        return await self._ok("switch seat", self._session.client.switch_seat(self._room, index))

    async def leave(self) -> bool:
        """Stand up: the microphone closes and the audio stops going out."""
        return await self._ok("leave seat", self._session.client.leave_seat(self._room))

    # --- hosts (and the co-host while no host is present) -----------------------------

    async def lock(self, locked: bool = True, index: int | None = None) -> bool:
        """Lock or unlock one seat, or all of them (``index=None``)."""
        return await self._ok(
            "lock seats", self._session.client.lock_seats(self._room, locked, index)
        )

    async def remove(self, user_id: str) -> bool:
        """Take a speaker off their seat."""
        client = self._session.client
        return await self._ok("remove from seat", client.remove_from_seat(self._room, user_id))

    async def mute(self, user_id: str) -> bool:
        """Turn a speaker's microphone off (forced)."""
        return await self._ok("mute", self._session.client.mute_speaker(self._room, user_id))

    async def ask_unmute(self, user_id: str) -> bool:
        """Ask a speaker to turn their microphone on; they decide (refused by default)."""
        return await self._ok("ask unmute", self._session.client.ask_to_unmute(self._room, user_id))

    async def invite(self, user_id: str) -> bool:
        """Invite an audience member to a seat; ``on_taking_invitation_failed`` if it
        cannot be delivered."""
        try:
            await self._session.client.invite_to_seat(self._room, user_id)
        except SignalingError as exc:
            log.info("seat invitation to %s failed: %s", user_id, exc)
            await self._session.channel.publish(lambda e: e.seat.host.on_taking_invitation_failed)
            return False
        return True

    async def accept_request(self, user_id: str) -> bool:
        """Seat an applicant on the first free seat."""
        client = self._session.client
        return await self._ok("accept", client.accept_seat_application(self._room, user_id))

    async def reject_request(self, user_id: str) -> bool:
        client = self._session.client
        return await self._ok("reject", client.reject_seat_application(self._room, user_id))

    async def set_cohost(self, user_id: str | None) -> bool:
        """Name the co-host, or revoke with None (the host only)."""
        return await self._ok("co-host", self._session.client.set_cohost(self._room, user_id))

    async def kick(self, user_id: str) -> bool:
        """Remove a member from the room; they end with ``KICK_OUT`` and the local id."""
        return await self._ok("remove user", self._session.client.remove_user(self._room, user_id))

    # --- the audience -----------------------------------------------------------------

    async def apply(self) -> bool:
        """Ask for a seat; ``on_taking_request_failed`` when there is nobody to ask."""
        state = self._session.state
        try:
            await self._session.client.apply_for_seat(self._room)
        except SignalingError as exc:
            log.info("application for a seat failed: %s", exc)
            await self._session.channel.publish(lambda e: e.seat.audience.on_taking_request_failed)
            return False
        state.requesting = True
        self._session.changed(Change.REQUESTS)
        return True

    async def cancel_apply(self) -> bool:
        ok = await self._ok("cancel", self._session.client.cancel_seat_application(self._room))
        if ok:
            self._session.state.requesting = False
            self._session.changed(Change.REQUESTS)
        return ok

    async def accept_invitation(self, *, microphone: bool | None = None) -> bool:
        """Take the seat a host offered (the default dialog's OK)."""
        self.next_microphone = microphone
        ok = await self._ok("accept", self._session.client.accept_seat_invitation(self._room))
        if not ok:
            self.next_microphone = None
        return ok

    async def decline_invitation(self) -> bool:
        ok = await self._ok("decline", self._session.client.decline_seat_invitation(self._room))
        if ok:
            self._session.state.invited_by = None
            self._session.changed(Change.REQUESTS)
        return ok

    # --- pushes -----------------------------------------------------------------------

    async def handle(
        self,
        event: SeatRemovedEvent
        | SeatApplicationEvent
        | SeatApplicationEndedEvent
        | SeatInvitedEvent
        | SeatInvitationEndedEvent,
    ) -> None:
        """Apply a seat request push and publish its kit event."""
        session, state, bus = self._session, self._session.state, self._session.channel
        me = session.me.id
        if isinstance(event, SeatRemovedEvent):
            log.info("removed from seat %d by %s", event.index, event.by)
        elif isinstance(event, SeatApplicationEvent):
            user = User(event.user.user_id, event.user.name)
            state.applications[user.id] = user
            session.changed(Change.REQUESTS)
            await bus.publish(lambda e: e.seat.host.on_taking_requested, user)
        elif isinstance(event, SeatApplicationEndedEvent):
            user = User(event.user.user_id, event.user.name)
            state.applications.pop(user.id, None)
            if user.id == me:
                state.requesting = False
                session.changed(Change.REQUESTS)
                if event.reason == "rejected":
                    await bus.publish(lambda e: e.seat.audience.on_taking_request_rejected)
            else:
                session.changed(Change.REQUESTS)
                if event.reason == "cancelled":
                    await bus.publish(lambda e: e.seat.host.on_taking_request_canceled, user)
        elif isinstance(event, SeatInvitedEvent):
            state.invited_by = User(event.inviter.user_id, event.inviter.name)
            session.changed(Change.REQUESTS)
            await bus.publish(lambda e: e.seat.audience.on_taking_invitation_received)
        else:
            if event.user.user_id == me:
                state.invited_by = None
                session.changed(Change.REQUESTS)
            if event.inviter == me and event.reason == "declined":
                await bus.publish(lambda e: e.seat.host.on_taking_invitation_rejected)
