"""The call page's chat feed: message views, and what stays unread while the panel is shut.

:class:`CallChatFeed` turns the running call's chat into :class:`ChatMessageView` values
and counts remote messages that arrived while the chat panel was closed (the badge on
the chat button). Sending stays with the presenter, which owns the kit.
"""

from __future__ import annotations

from PySide6.QtCore import QObject, Signal

from app.kit.call.session import CallSession
from app.kit.views.chat import chat_views


class CallChatFeed(QObject):
    """``messages_changed(tuple[ChatMessageView, ...])``; ``unread_changed`` for re-rendering."""

    messages_changed = Signal(tuple)
    unread_changed = Signal()

    def __init__(self, parent: QObject | None = None) -> None:
        super().__init__(parent)
        self._unread = 0
        self._remote_seen = 0
        self._visible = False

    @property
    def unread(self) -> int:
        """Remote messages that arrived since the chat was last open."""
        return self._unread

    def reset(self) -> None:
        """A new call: nothing read, nothing unread, the panel shut."""
        self._unread = 0
        self._remote_seen = 0
        self._visible = False

    def publish(self, session: CallSession) -> None:
        """Emit ``session``'s messages, counting new remote ones while the panel is shut."""
        messages = session.chat.messages
        remote = sum(1 for m in messages if m.sender.id != session.me.id)
        if not self._visible:
            self._unread += max(0, remote - self._remote_seen)
        self._remote_seen = remote
        self.messages_changed.emit(chat_views(messages, session.me.id))

    def set_visible(self, visible: bool) -> None:
        """The chat panel opened or closed: opening it marks everything read."""
        self._visible = visible
        if visible and self._unread:
            self._unread = 0
            self.unread_changed.emit()
