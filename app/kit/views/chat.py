"""What the chat of a call or an audio room shows: one line per message, one rule for both."""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass, field

from app.kit.types import InRoomMessage, MessageState

__all__ = ["ChatMessageView", "chat_views"]


@dataclass(frozen=True, slots=True, kw_only=True)
class ChatMessageView:
    """One line of the in-call chat."""

    message_id: str
    sender_name: str
    text: str
    timestamp_ms: int
    is_local: bool = False
    state: MessageState = field(default=MessageState.SUCCESS)

    def __post_init__(self) -> None:
        if not self.message_id:
            raise ValueError("ChatMessageView.message_id must not be empty")
        if not isinstance(self.state, MessageState):
            raise TypeError("ChatMessageView.state must be a MessageState")

    @property
    def failed(self) -> bool:
        """Sending failed: the chat offers a resend."""
        return self.state is MessageState.FAILED


def chat_views(messages: Iterable[InRoomMessage], me_id: str) -> tuple[ChatMessageView, ...]:
    """The chat's lines: a sender without a display name is shown by user ID."""
    return tuple(
        ChatMessageView(
            message_id=message.message_id,
            sender_name=message.sender.name or message.sender.id,
            text=message.text,
            timestamp_ms=message.timestamp_ms,
            is_local=message.sender.id == me_id,
            state=message.state,
        )
        for message in messages
    )
