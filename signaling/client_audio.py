"""Typed audio-room requests of :class:`signaling.client.SignalingClient` (a mixin).

Seat changes arrive as ``SeatChangedEvent`` (the whole map, with a ``version`` that grows
by one per change): keep the one with the highest version, since a push may overtake the
answer of the ``room.join`` that returned an older snapshot.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from signaling.errors import ErrorCode, SignalingError


class AudioRoomRequests:
    """Seat, role, request-to-speak, seat-invitation and user-attribute requests."""

    async def request(self, event: str, payload: dict[str, Any]) -> dict[str, Any]:
        raise NotImplementedError  # provided by SignalingClient

    async def _index(self, event: str, payload: dict[str, Any]) -> int:
        index = (await self.request(event, payload)).get("index")
        if not isinstance(index, int):
            raise SignalingError(ErrorCode.PROTOCOL, f"{event}: malformed answer")
        return index

    async def _timeout(self, event: str, payload: dict[str, Any]) -> float:
        timeout_s = (await self.request(event, payload)).get("timeout_s")
        if not isinstance(timeout_s, int | float):
            raise SignalingError(ErrorCode.PROTOCOL, f"{event}: malformed answer")
        return float(timeout_s)

    # --- seats ------------------------------------------------------------------------

    async def take_seat(self, room_id: str, index: int) -> int:
        """Sit on seat ``index``; ``conflict`` if someone has it, ``forbidden`` if locked."""
        return await self._index("seat.take", {"room_id": room_id, "index": index})

    async def leave_seat(self, room_id: str) -> None:
        await self.request("seat.leave", {"room_id": room_id})

    async def switch_seat(self, room_id: str, to: int) -> int:
        return await self._index("seat.switch", {"room_id": room_id, "to": to})

    async def lock_seats(self, room_id: str, locked: bool, index: int | None = None) -> None:
        """Lock or unlock one seat, or (``index=None``) the whole room. Host powers."""
        await self.request("seat.lock", {"room_id": room_id, "index": index, "locked": locked})

    async def remove_from_seat(self, room_id: str, user_id: str) -> None:
        """Take a speaker off their seat; they get ``SeatRemovedEvent``. Host powers."""
        await self.request("seat.remove", {"room_id": room_id, "user_id": user_id})

    async def mute_speaker(self, room_id: str, user_id: str) -> None:
        """Turn a speaker's microphone off (forced). Host powers."""
        await self.request("seat.mute", {"room_id": room_id, "user_id": user_id})

    async def ask_to_unmute(self, room_id: str, user_id: str) -> None:
        """Ask a speaker to turn their microphone on; they decide. Host powers."""
        await self.request("seat.ask_unmute", {"room_id": room_id, "user_id": user_id})

    async def set_cohost(self, room_id: str, user_id: str | None) -> None:
        """Make ``user_id`` the co-host, or revoke with None. Host only."""
        await self.request("cohost.set", {"room_id": room_id, "user_id": user_id})

    # --- requests to speak --------------------------------------------------------------

    async def apply_for_seat(self, room_id: str) -> float:
        """Ask the host for a seat; returns how many seconds the request waits."""
        return await self._timeout("seat.apply", {"room_id": room_id})

    async def cancel_seat_application(self, room_id: str) -> None:
        await self.request("seat.apply_cancel", {"room_id": room_id})

    async def accept_seat_application(self, room_id: str, user_id: str) -> int:
        """Seat the applicant on the first free seat; returns it (``limit_exceeded``: none)."""
        return await self._index(
            "seat.application_accept", {"room_id": room_id, "user_id": user_id}
        )

    async def reject_seat_application(self, room_id: str, user_id: str) -> None:
        await self.request("seat.application_reject", {"room_id": room_id, "user_id": user_id})

    # --- invitations to a seat ----------------------------------------------------------

    async def invite_to_seat(self, room_id: str, user_id: str) -> float:
        """Invite a member to a seat; ``user_not_found`` when it cannot be delivered."""
        return await self._timeout("seat.invite", {"room_id": room_id, "user_id": user_id})

    async def accept_seat_invitation(self, room_id: str) -> int:
        return await self._index("seat.invite_accept", {"room_id": room_id})

    async def decline_seat_invitation(self, room_id: str) -> None:
        await self.request("seat.invite_decline", {"room_id": room_id})

    # --- user attributes ----------------------------------------------------------------

    async def set_user_attributes(
        self, room_id: str, attributes: Mapping[str, str]
    ) -> dict[str, str]:
        """Merge into your in-room attributes (an empty value deletes); returns them all."""
        answer = await self.request(
            "room.user_attributes.set", {"room_id": room_id, "attributes": dict(attributes)}
        )
        result = answer.get("attributes")
        if not isinstance(result, dict):
            raise SignalingError(ErrorCode.PROTOCOL, "malformed attributes answer")
        return {str(k): str(v) for k, v in result.items()}
