"""In-room messages of an audio room: the shared :class:`~app.services.chat.Chat` plus the
audio-room kit's events (``in_room_message.on_local_send``, ``on_clicked``,
``on_long_press``)."""

from __future__ import annotations

from typing import TYPE_CHECKING

from app.kit.room.chat import Chat
from app.kit.types import InRoomMessage

if TYPE_CHECKING:
    from app.kit.audio_room.session import AudioRoomSession

__all__ = ["RoomChat"]


class RoomChat(Chat):
    """The message list of one audio room (``session.chat``), reporting to its bus."""

    def __init__(self, session: AudioRoomSession) -> None:
        self._session = session

        async def local_send(message: InRoomMessage) -> None:
            await session.bus.audio_room.publish(lambda e: e.in_room_message.on_local_send, message)

        super().__init__(
            session.client,
            session.room_id,
            session.me,
            session.state.messages,
            changed=lambda: session.changed("messages"),
            report_error=session.publish_error,
            on_local_send=local_send,
        )

    # --- UI events the page reports -------------------------------------------------

    async def clicked(self, message: InRoomMessage | str) -> None:
        """A message was clicked (the message, or its id as the page knows it)."""
        found = self.find(message) if isinstance(message, str) else message
        if found is not None:
            await self._session.bus.audio_room.publish(
                lambda e: e.in_room_message.on_clicked, found
            )

    async def long_pressed(self, message: InRoomMessage | str) -> None:
        found = self.find(message) if isinstance(message, str) else message
        if found is not None:
            await self._session.bus.audio_room.publish(
                lambda e: e.in_room_message.on_long_press, found
            )
