"""In-room messages of an audio room: history, sending with its state, resending.

A message the local user sends shows at once as ``SENDING`` under a local id; the
server's answer turns it into ``SUCCESS`` under the server's id, a refusal into
``FAILED`` (the page offers a resend, which keeps the local id until it succeeds).
``in_room_message.on_local_send`` reports both outcomes, as the kit does.
"""

from __future__ import annotations

import itertools
import time
from dataclasses import replace
from typing import TYPE_CHECKING

from app.types import InRoomMessage, MessageState, User
from signaling.errors import SignalingError
from signaling.protocol import MessageInfo

if TYPE_CHECKING:
    from app.services.audio_room_session import AudioRoomSession

__all__ = ["RoomChat"]

_local_ids = itertools.count(1)


def _from_info(info: MessageInfo) -> InRoomMessage:
    return InRoomMessage(
        str(info.message_id),
        User(info.sender.user_id, info.sender.name),
        info.text,
        info.timestamp_ms,
    )


class RoomChat:
    """The message list of one session (``session.chat``)."""

    def __init__(self, session: AudioRoomSession) -> None:
        self._session = session

    @property
    def messages(self) -> list[InRoomMessage]:
        return self._session.state.messages

    def load_history(self, history: list[MessageInfo]) -> None:
        """The join snapshot's history (oldest first); local pending messages stay."""
        known = {m.message_id for m in self.messages}
        fresh = [_from_info(info) for info in history if str(info.message_id) not in known]
        self.messages[:0] = fresh
        self._session.changed("messages")

    async def received(self, info: MessageInfo) -> None:
        """Someone else's message arrived."""
        if any(m.message_id == str(info.message_id) for m in self.messages):
            return
        self.messages.append(_from_info(info))
        self._session.changed("messages")

    async def send(self, text: str) -> InRoomMessage:
        """Send ``text``; returns the message in its final state (SUCCESS or FAILED)."""
        message = InRoomMessage(
            f"local-{next(_local_ids)}",
            self._session.me,
            text,
            int(time.time() * 1000),
            MessageState.SENDING,
        )
        self.messages.append(message)
        self._session.changed("messages")
        return await self._deliver(message)

    async def resend(self, message_id: str) -> InRoomMessage | None:
        """Send a FAILED message again; None if there is no such failed message."""
        message = next((m for m in self.messages if m.message_id == message_id), None)
        if message is None or message.state is not MessageState.FAILED:
            return None
        sending = replace(message, state=MessageState.SENDING)
        self._replace(message, sending)
        return await self._deliver(sending)

    async def _deliver(self, message: InRoomMessage) -> InRoomMessage:
        session = self._session
        try:
            info = await session.client.send_message(session.room_id, message.text)
        except SignalingError as exc:
            done = replace(message, state=MessageState.FAILED)
            await session.publish_error(exc.code.value, f"send message: {exc.message}")
        else:
            done = replace(
                message,
                message_id=str(info.message_id),
                timestamp_ms=info.timestamp_ms,
                state=MessageState.SUCCESS,
            )
        self._replace(message, done)
        await session.bus.audio_room.publish(lambda e: e.in_room_message.on_local_send, done)
        return done

    def _replace(self, old: InRoomMessage, new: InRoomMessage) -> None:
        for i, message in enumerate(self.messages):
            if message.message_id == old.message_id:
                self.messages[i] = new
                break
        self._session.changed("messages")

    # --- UI events the page reports -------------------------------------------------

    def find(self, message_id: str) -> InRoomMessage | None:
        """The message with this id (as :class:`ChatMessageView` carries it), if any."""
        return next((m for m in self.messages if m.message_id == message_id), None)

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
