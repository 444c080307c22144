"""Headless audio-room members ("room bots"): join as host or audience, sit, apply, speak.

A room bot drives the public kit API (:class:`~app.kit.audio_room.kit.AudioRoomKit` and its
controller) with synthetic media and no Qt, and records every kit event it saw, like
:class:`app.kit.bots.call.Bot`. Where the desktop app shows a dialog (a seat invitation),
the bot answers as told by ``on_seat_invitation``; a test's own hooks take precedence.
"""

from __future__ import annotations

from collections.abc import Mapping

from app.kit.audio_room.kit import AudioRoomController, AudioRoomKit
from app.kit.audio_room.session import AudioRoomSession
from app.kit.bots.call import Answer
from app.kit.bots.recorder import EventRecorder, Recorded
from app.kit.config.audio_room import AudioRoomConfig
from app.kit.events import AudioRoomEvents
from app.kit.media import MediaOptions
from app.kit.types import InRoomMessage, KitError, KitException, User
from signaling.client import SignalingClient

__all__ = ["RoomBot"]


class RoomBot(Recorded):
    """One headless user of a Parley server in audio rooms."""

    def __init__(
        self,
        server_url: str,
        token: str,
        user: User,
        *,
        on_seat_invitation: Answer = Answer.IGNORE,
        media: MediaOptions | None = None,
        events: AudioRoomEvents | None = None,
    ) -> None:
        """``events``: the bot's own hooks in every room it joins (unless ``join`` is
        given others)."""
        self.user = user
        self.client = SignalingClient(server_url, token)
        self.media_options = media or MediaOptions(synthetic=True)
        self.on_seat_invitation = on_seat_invitation
        self.events = events
        self.kit = AudioRoomKit()
        self.bus = self.kit.bus
        self.recorder = EventRecorder(self.bus)
        # Where the desktop app shows its invitation dialog, the bot answers by itself.
        self.bus.audio_room.set_default(
            lambda e: e.seat.audience.on_taking_invitation_received, self._invited
        )

    async def sign_in(self) -> None:
        """Connect to the server (no room yet)."""
        await self.client.connect()

    async def join(
        self,
        room_id: str,
        config: AudioRoomConfig | None = None,
        *,
        host: bool = False,
        events: AudioRoomEvents | None = None,
    ) -> AudioRoomSession:
        """Join ``room_id``: with ``config``, or the host or audience preset."""
        if config is None:
            config = AudioRoomConfig.host() if host else AudioRoomConfig.audience()
        return await self.kit.join(
            self.user,
            self.client,
            room_id,
            config,
            events=events or self.events or AudioRoomEvents(),
            media=self.media_options,
        )

    def _invited(self) -> None:
        if self.on_seat_invitation is Answer.ANSWER:
            self.bus.spawn(self._answer(True))
        elif self.on_seat_invitation is Answer.DECLINE:
            self.bus.spawn(self._answer(False))

    async def _answer(self, accept: bool) -> None:
        if self.kit.session is None:
            return
        if accept:
            await self.controller.seat.audience.accept_taking_invitation()
        else:
            await self.controller.seat.audience.decline_taking_invitation()

    # --- actions --------------------------------------------------------------------

    @property
    def controller(self) -> AudioRoomController:
        return self.kit.controller

    @property
    def session(self) -> AudioRoomSession:
        """The room in progress; :class:`KitException` without one."""
        if self.kit.session is None:
            raise KitException(KitError("not_in_room", f"{self.user.id} is in no room"))
        return self.kit.session

    async def take_seat(self, index: int) -> bool:
        return await self.controller.seat.audience.take(index)

    async def leave_seat(self) -> bool:
        return await self.controller.seat.speaker.leave()

    async def switch_seat(self, index: int) -> bool:
        return await self.controller.seat.speaker.switch(index)

    async def apply(self) -> bool:
        return await self.controller.seat.audience.apply_to_take()

    async def cancel_apply(self) -> bool:
        return await self.controller.seat.audience.cancel_taking_request()

    async def accept_invitation(self) -> bool:
        return await self.controller.seat.audience.accept_taking_invitation()

    async def decline_invitation(self) -> bool:
        return await self.controller.seat.audience.decline_taking_invitation()

    async def send(self, text: str) -> InRoomMessage:
        return await self.controller.message.send(text)

    async def leave(self, *, confirm: bool = False) -> bool:
        """Leave the room (by default without asking ``on_leave_confirmation``)."""
        return await self.kit.leave(confirm=confirm)

    def seats(self) -> Mapping[int, str]:
        """The bot's current seat map: index → user id."""
        return self.kit.session.state.occupants() if self.kit.session else {}

    # --- observation ----------------------------------------------------------------

    async def drop_connection(self, *, reconnect: bool = False) -> None:
        """Lose the connection abruptly, as a crash (or, with ``reconnect``, a network
        drop the bot recovers from): no leaving, no goodbye to the server. The server
        keeps the bot's place (and seat) for its ``rejoin_grace_s`` before the others see
        it leave."""
        await self.client.drop(reconnect=reconnect)

    async def close(self) -> None:
        """Leave the room, sign out and release everything; idempotent."""
        await self.kit.close()
        await self.client.close()
        await self.bus.drain()
