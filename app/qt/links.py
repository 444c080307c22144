"""Opening ``parley://`` links in the window (``app.kit.links`` says what a link is).

A link only prepares: the person to call goes into the call field, a room into the
join dialog; the person presses the button. A link that comes before a sign-in waits
for it.
"""

from __future__ import annotations

from collections.abc import Callable

from PySide6.QtCore import QObject, Slot

from app.kit.links import CallLink, Link, LinkError, RoomLink, parse_link

__all__ = ["LinkOpener"]


class LinkOpener(QObject):
    """Opens links once someone is signed in; the last link before that waits."""

    def __init__(
        self,
        *,
        prepare_call: Callable[[str], None],
        offer_room: Callable[[str], None],
        notice: Callable[[str], None],
        parent: QObject | None = None,
    ) -> None:
        """``prepare_call(user_id)`` fills the call field, ``offer_room(room_id)`` asks
        how to join the room, ``notice(text)`` tells the person something."""
        super().__init__(parent)
        self._prepare_call = prepare_call
        self._offer_room = offer_room
        self._notice = notice
        self._signed_in = False
        self.waiting: Link | None = None

    def open(self, text: str) -> None:
        """Open the link in ``text``, or tell the person why it cannot be opened."""
        try:
            link = parse_link(text)
        except LinkError as error:
            self._notice(self.tr("This link cannot be opened: {}").format(error))
            return
        if not self._signed_in:
            self.waiting = link
            self._notice(self.tr("Sign in, and Parley opens the link {}.").format(text.strip()))
            return
        self._apply(link)

    @Slot()
    def signed_in(self) -> None:
        """Someone signed in: open the link that waited."""
        self._signed_in = True
        link, self.waiting = self.waiting, None
        if link is not None:
            self._apply(link)

    @Slot()
    def signed_out(self) -> None:
        self._signed_in = False

    def _apply(self, link: Link) -> None:
        if isinstance(link, CallLink):
            self._prepare_call(link.user_id)
            self._notice(
                self.tr("To call {}, press Voice call or Video call.").format(link.user_id)
            )
        elif isinstance(link, RoomLink):
            self._offer_room(link.room_id)
