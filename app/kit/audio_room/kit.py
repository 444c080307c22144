"""The audio room kit's entry points: :class:`AudioRoomKit` and :class:`AudioRoomController`.

``AudioRoomKit.join(user, server, room_id, config, events=...)`` signs in (or reuses a
connection), joins the room as host or audience and returns the running
:class:`~app.kit.audio_room.session.AudioRoomSession`. The controller
(``ZegoUIKitPrebuiltLiveAudioRoomController``) acts on the room in progress through
small groups — ``seat.host``, ``seat.audience``, ``seat.speaker``, ``message``,
``room``, ``user``, ``minimize`` — each a thin delegate to the session. Qt-free.
"""

from __future__ import annotations

import logging
from collections.abc import Callable, Mapping, Sequence

from app.kit.audio_room.session import AudioRoomSession
from app.kit.bus import EventBus
from app.kit.config.audio_room import AudioRoomConfig
from app.kit.connect import ServerInfo, connect
from app.kit.events import AudioRoomEvents
from app.kit.listeners import Listeners, Unsubscribe
from app.kit.media import LocalMedia, MediaFactory, MediaOptions
from app.kit.minimize import MinimizeController
from app.kit.room.session import Change
from app.kit.tasks import TaskKeeper
from app.kit.types import AudioRoomRole, InRoomMessage, KitError, KitException, User
from signaling.client import SignalingClient
from signaling.errors import SignalingError

log = logging.getLogger("parley.audio_room")

__all__ = [
    "AudioRoomController",
    "AudioRoomKit",
    "AudioRoomMessageController",
    "AudioRoomRoomController",
    "AudioRoomSeatController",
    "AudioRoomUserController",
    "SeatAudienceController",
    "SeatHostController",
    "SeatSpeakerController",
]


class AudioRoomKit:
    """Joins audio rooms for one user and holds the room in progress."""

    def __init__(self, bus: EventBus | None = None) -> None:
        self.bus = bus or EventBus()
        self.controller = AudioRoomController(self)
        self.session: AudioRoomSession | None = None
        self._client: SignalingClient | None = None
        self._owns_client = False
        # The clean-up after each room's end (closing its session once on_ended ran).
        self._cleanups = TaskKeeper("audio room clean-ups")
        self._changes: Listeners[[Change]] = Listeners("audio room changes")

    async def join(
        self,
        user: User,
        server: ServerInfo | SignalingClient,
        room_id: str,
        config: AudioRoomConfig | None = None,
        *,
        events: AudioRoomEvents | None = None,
        media: MediaOptions | None = None,
        media_factory: MediaFactory = LocalMedia,
    ) -> AudioRoomSession:
        """Join ``room_id`` with ``config`` (default: audience); raises :class:`KitException`.

        ``server`` is where to sign in, or a connection the application already opened
        (it stays open after the room). A room still running is left first.
        """
        await self.leave(confirm=False)
        await self._settle()
        if events is not None:
            self.bus.audio_room.events = events
        client = await self._connect(server)
        session = AudioRoomSession(
            client,
            self.bus,
            user,
            room_id,
            config or AudioRoomConfig.audience(),
            media=media,
            media_factory=media_factory,
        )
        session.subscribe(self._changes.emit)
        self.session = session
        if not await session.start():
            await self._close_session(session)
            refusal = session.join_refusal
            raise KitException(
                refusal or KitError("join_failed", f"could not join room {room_id!r}")
            )
        self._cleanups.spawn(self._when_ended(session), f"after room {room_id}")
        return session

    async def _connect(self, server: ServerInfo | SignalingClient) -> SignalingClient:
        if isinstance(server, SignalingClient):
            self._client, self._owns_client = server, False
            return server
        if self._client is not None and self._owns_client:
            if self._client.url == server.url:
                return self._client
            await self._client.close()  # another server: this connection is done
        self._client = None
        client = await connect(server, self._report)
        self._client, self._owns_client = client, True
        return client

    async def _report(self, error: KitError) -> None:
        await self.bus.audio_room.publish(lambda e: e.on_error, error)

    async def _when_ended(self, session: AudioRoomSession) -> None:
        await session.finished.wait()
        await self._close_session(session)

    async def _close_session(self, session: AudioRoomSession) -> None:
        await session.close()
        if self.session is session:
            self.session = None
        self.controller.minimize.hide()

    async def _settle(self) -> None:
        """Wait until the rooms that ended are cleaned up (but the caller's own clean-up)."""
        await self._cleanups.drain()

    def subscribe(self, listener: Callable[[Change], None]) -> Unsubscribe:
        """Follow the changes of every room this kit joins (the page's redraws)."""
        return self._changes.subscribe(listener)

    async def leave(self, *, confirm: bool = True) -> bool:
        """Leave the room in progress (``on_leave_confirmation`` may veto); True if none."""
        session = self.session
        if session is None:
            return True
        if not await session.leave(confirm=confirm):
            return False
        await self._settle()
        return True

    async def close(self) -> None:
        """Leave without asking and sign out a connection the kit opened; idempotent."""
        session = self.session
        if session is not None:
            await self._close_session(session)
        await self._settle()
        client, self._client = self._client, None
        if client is not None and self._owns_client:
            await client.close()
        await self.bus.drain()


class _Group:
    def __init__(self, kit: AudioRoomKit) -> None:
        self._kit = kit

    def _session(self) -> AudioRoomSession:
        session = self._kit.session
        if session is None:
            raise KitException(KitError("not_in_room", "join an audio room first"))
        return session


class SeatHostController(_Group):
    """Host powers (``controller.seat.host``); the co-host has them while no host is in."""

    async def open(self, index: int | None = None) -> bool:
        """Unlock one seat, or all of them."""
        return await self._session().seats.lock(False, index)

    async def close(self, index: int | None = None) -> bool:
        """Lock one seat, or all of them: taking one then needs the host's consent."""
        return await self._session().seats.lock(True, index)

    async def remove_speaker(self, user_id: str) -> bool:
        return await self._session().seats.remove(user_id)

    async def mute(self, user_id: str) -> bool:
        """Turn a speaker's microphone off (forced)."""
        return await self._session().seats.mute(user_id)

    async def ask_unmute(self, user_id: str) -> bool:
        """Ask a speaker to turn their microphone on; they may refuse."""
        return await self._session().seats.ask_unmute(user_id)

    async def invite_to_take(self, user_id: str) -> bool:
        return await self._session().seats.invite(user_id)

    async def accept_taking_request(self, user_id: str) -> bool:
        return await self._session().seats.accept_request(user_id)

    async def reject_taking_request(self, user_id: str) -> bool:
        return await self._session().seats.reject_request(user_id)

    async def set_cohost(self, user_id: str) -> bool:
        return await self._session().seats.set_cohost(user_id)

    async def revoke_cohost(self) -> bool:
        return await self._session().seats.set_cohost(None)

    @property
    def pending_requests(self) -> Sequence[User]:
        """Applicants waiting for an answer, oldest first."""
        return list(self._session().state.applications.values())


class SeatAudienceController(_Group):
    """What the audience does with seats (``controller.seat.audience``)."""

    async def take(self, index: int) -> bool:
        """Take an empty seat of an unlocked room."""
        return await self._session().seats.take(index)

    async def apply_to_take(self) -> bool:
        return await self._session().seats.apply()

    async def cancel_taking_request(self) -> bool:
        return await self._session().seats.cancel_apply()

    async def accept_taking_invitation(self) -> bool:
        return await self._session().seats.accept_invitation()

    async def decline_taking_invitation(self) -> bool:
        return await self._session().seats.decline_invitation()


class SeatSpeakerController(_Group):
    """What a seated speaker does (``controller.seat.speaker``)."""

    async def leave(self) -> bool:
        return await self._session().seats.leave()

    async def switch(self, index: int) -> bool:
        return await self._session().seats.switch(index)

    async def turn_microphone_on(self, on: bool) -> bool:
        """Only a seated user can turn the microphone on."""
        return await self._session().set_microphone(on)

    async def toggle_microphone(self) -> bool:
        session = self._session()
        return await session.set_microphone(not session.microphone_on)


class AudioRoomSeatController:
    """``controller.seat``: the three role groups and seat facts."""

    def __init__(self, kit: AudioRoomKit) -> None:
        self._kit = kit
        self.host = SeatHostController(kit)
        self.audience = SeatAudienceController(kit)
        self.speaker = SeatSpeakerController(kit)

    def taken(self) -> Mapping[int, User]:
        """Taken seats by index (empty without a room)."""
        session = self._kit.session
        return session.state.seat_users()[0] if session else {}


class AudioRoomMessageController(_Group):
    """In-room messages (``controller.message``)."""

    async def send(self, text: str) -> InRoomMessage:
        return await self._session().chat.send(text)

    async def resend(self, message_id: str) -> InRoomMessage | None:
        return await self._session().chat.resend(message_id)

    def list(self) -> Sequence[InRoomMessage]:
        session = self._kit.session
        return tuple(session.chat.messages) if session else ()


class AudioRoomRoomController(_Group):
    """The room itself (``controller.room``): leave, attributes, properties, commands."""

    async def leave(self, *, show_confirmation: bool = True) -> bool:
        return await self._kit.leave(confirm=show_confirmation)

    async def set_user_attributes(self, attributes: Mapping[str, str]) -> dict[str, str]:
        session = self._session()
        try:
            return await session.client.set_user_attributes(session.room_id, attributes)
        except SignalingError as exc:
            raise KitException(KitError(exc.code.value, exc.message)) from exc

    async def set_property(self, key: str, value: str) -> None:
        session = self._session()
        try:
            await session.client.set_room_property(session.room_id, key, value)
        except SignalingError as exc:
            raise KitException(KitError(exc.code.value, exc.message)) from exc

    async def get_properties(self) -> dict[str, str]:
        session = self._session()
        return await session.client.get_room_properties(session.room_id)

    async def send_command(self, command: str, to: Sequence[str] = ()) -> None:
        session = self._session()
        await session.client.send_room_command(session.room_id, command, to)

    async def switch_audio_output(self, device: int | str | None) -> None:
        await self._session().set_audio_output(device)


class AudioRoomUserController(_Group):
    """Members (``controller.user``)."""

    def members(self) -> Sequence[User]:
        session = self._kit.session
        return session.state.users() if session else []

    def role_of(self, user_id: str) -> AudioRoomRole:
        return self._session().state.role_of(user_id)

    async def kick(self, user_id: str) -> bool:
        """Remove from the room (host powers); they end with ``KICK_OUT``."""
        return await self._session().seats.kick(user_id)


class AudioRoomController:
    """Acts on the room in progress (``ZegoUIKitPrebuiltLiveAudioRoomController``)."""

    def __init__(self, kit: AudioRoomKit) -> None:
        self.seat = AudioRoomSeatController(kit)
        self.message = AudioRoomMessageController(kit)
        self.room = AudioRoomRoomController(kit)
        self.user = AudioRoomUserController(kit)
        self.minimize = MinimizeController(lambda: kit.session)
