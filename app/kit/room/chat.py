"""In-room messages of a call or an audio room: history, sending with its state, resending.

A message the local user sends shows at once as ``SENDING`` under a local id; the
server's answer turns it into ``SUCCESS`` under the server's id, a refusal into
``FAILED`` (the page offers a resend, which keeps the local id until it succeeds).
The owner (a call or room session) is told of changes and of each send's outcome.
"""

from __future__ import annotations

import itertools
import time
from collections.abc import Awaitable, Callable
from dataclasses import replace

from app.kit.types import InRoomMessage, MessageState, User
from signaling.client import SignalingClient
from signaling.errors import SignalingError
from signaling.protocol import MessageInfo

__all__ = ["Chat"]

_local_ids = itertools.count(1)


def _from_info(info: MessageInfo) -> InRoomMessage:
    return InRoomMessage(
        str(info.message_id),
        User(info.sender.user_id, info.sender.name),
        info.text,
        info.timestamp_ms,
    )


class Chat:
    """The message list of one room, kept in ``messages`` (oldest first)."""

    def __init__(
        self,
        client: SignalingClient,
        room_id: str,
        me: User,
        *,
        changed: Callable[[], None],
        report_error: Callable[[str, str], Awaitable[None]],
        on_local_send: Callable[[InRoomMessage], Awaitable[None]] | None = None,
    ) -> None:
        self._client = client
        self._room_id = room_id
        self._me = me
        #: Oldest first; local messages still sending or failed included.
        self.messages: list[InRoomMessage] = []
        self._changed = changed
        self._report_error = report_error
        self._on_local_send = on_local_send

    def load_history(self, history: list[MessageInfo]) -> None:
        """A (re-)join snapshot's history: messages not known yet join the list, in time
        order (after a reconnect, those sent meanwhile); local pending messages stay."""
        known = {m.message_id for m in self.messages}
        fresh = [_from_info(info) for info in history if str(info.message_id) not in known]
        if fresh:
            self.messages.extend(fresh)
            self.messages.sort(key=lambda message: message.timestamp_ms)
        self._changed()

    async def received(self, info: MessageInfo) -> None:
        """Someone else's message arrived."""
        if any(m.message_id == str(info.message_id) for m in self.messages):
            return
        self.messages.append(_from_info(info))
        self._changed()

    async def send(self, text: str) -> InRoomMessage:
        """Send ``text``; returns the message in its final state (SUCCESS or FAILED)."""
        message = InRoomMessage(
            f"local-{next(_local_ids)}",
            self._me,
            text,
            int(time.time() * 1000),
            MessageState.SENDING,
        )
        self.messages.append(message)
        self._changed()
        return await self._deliver(message)

    async def resend(self, message_id: str) -> InRoomMessage | None:
        """Send a FAILED message again; None if there is no such failed message."""
        message = self.find(message_id)
        if message is None or message.state is not MessageState.FAILED:
            return None
        sending = replace(message, state=MessageState.SENDING)
        self._replace(message, sending)
        return await self._deliver(sending)

    async def _deliver(self, message: InRoomMessage) -> InRoomMessage:
        try:
            info = await self._client.send_message(self._room_id, message.text)
        except SignalingError as exc:
            done = replace(message, state=MessageState.FAILED)
            await self._report_error(exc.code.value, f"send message: {exc.message}")
        else:
            done = replace(
                message,
                message_id=str(info.message_id),
                timestamp_ms=info.timestamp_ms,
                state=MessageState.SUCCESS,
            )
        self._replace(message, done)
        if self._on_local_send is not None:
            await self._on_local_send(done)
        return done

    def _replace(self, old: InRoomMessage, new: InRoomMessage) -> None:
        for i, message in enumerate(self.messages):
            if message.message_id == old.message_id:
                self.messages[i] = new
                break
        self._changed()

    def find(self, message_id: str) -> InRoomMessage | None:
        """The message with this id (as a page's view carries it), if any."""
        return next((m for m in self.messages if m.message_id == message_id), None)
