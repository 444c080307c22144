"""The menu a seat opens: what the local user may do with that seat, by role and state.

:func:`seat_menu_actions` decides the entries (pure, unit-tested); :class:`SeatMenu` shows
them and emits the chosen intent as ``action_chosen(action, index, user_id)``. "Cancel"
closes the menu and emits nothing.
"""

from __future__ import annotations

from PySide6.QtCore import Signal
from PySide6.QtGui import QAction
from PySide6.QtWidgets import QMenu, QWidget

from app.kit.types import AudioRoomRole
from app.kit.views.audio_room import AudioRoomView, SeatAction

__all__ = ["SeatAction", "SeatMenu", "seat_menu_actions"]


def seat_menu_actions(view: AudioRoomView, index: int) -> tuple[SeatAction, ...]:
    """The entries of seat ``index``'s menu for the local user, "Cancel" last.

    Only "Cancel" means there is nothing to do there: the page then opens no menu.
    Host powers follow ``view.can_manage`` (the host, or the co-host while no host is
    present); assigning the co-host stays the host's alone.
    """
    seat = view.seat(index)
    own = view.local_seat
    role = view.local_role
    actions: list[SeatAction] = []
    if seat.user is None:
        closed = view.locked or seat.locked
        if not seat.is_host_seat and role is not AudioRoomRole.HOST:
            if own is not None:
                if not closed:
                    actions.append(SeatAction.SWITCH)
            elif not closed:
                actions.append(SeatAction.TAKE)
            elif not seat.locked:
                # A closed room: a seat is had by asking the host, as the bottom bar does.
                actions.append(SeatAction.CANCEL_APPLY if view.requesting else SeatAction.APPLY)
        if view.can_manage:
            actions.append(SeatAction.UNLOCK if seat.locked else SeatAction.LOCK)
    elif seat.is_local:
        # The host keeps the host seat; leaving the room frees it.
        if role is not AudioRoomRole.HOST:
            actions.append(SeatAction.LEAVE)
    elif view.can_manage and not seat.is_host:
        actions.append(SeatAction.REMOVE)
        actions.append(SeatAction.MUTE if seat.microphone_on else SeatAction.ASK_UNMUTE)
        if role is AudioRoomRole.HOST:
            actions.append(SeatAction.REVOKE_COHOST if seat.is_cohost else SeatAction.ASSIGN_COHOST)
    actions.append(SeatAction.CANCEL)
    return tuple(actions)


class SeatMenu(QMenu):
    """The seat menu for one seat; emits ``action_chosen(action, index, user_id)``.

    ``user_id`` is the occupant's id, or ``""`` for an empty seat.
    """

    action_chosen = Signal(SeatAction, int, str)

    def __init__(
        self,
        actions: tuple[SeatAction, ...],
        index: int,
        user_id: str = "",
        parent: QWidget | None = None,
    ) -> None:
        super().__init__(parent)
        self.setObjectName("seatMenu")
        self.index = index
        self.user_id = user_id
        self.entries = actions
        for action in actions:
            if action is SeatAction.CANCEL:
                self.addSeparator()
            entry = self.addAction(self.label(action))
            entry.setObjectName(f"seat_{action.value}")
            entry.setData(action.value)
            if action is not SeatAction.CANCEL:
                entry.triggered.connect(
                    lambda _checked=False, a=action: self.action_chosen.emit(
                        a, self.index, self.user_id
                    )
                )

    def label(self, action: SeatAction) -> str:
        """The translated text of ``action`` (the kit's wording)."""
        labels = {
            SeatAction.TAKE: self.tr("Take seat"),
            SeatAction.SWITCH: self.tr("Switch to this seat"),
            SeatAction.LEAVE: self.tr("Leave seat"),
            SeatAction.APPLY: self.tr("Apply to take seat"),
            SeatAction.CANCEL_APPLY: self.tr("Cancel the application"),
            SeatAction.REMOVE: self.tr("Remove from seat"),
            SeatAction.MUTE: self.tr("Mute"),
            SeatAction.ASK_UNMUTE: self.tr("Ask to unmute"),
            SeatAction.ASSIGN_COHOST: self.tr("Assign co-host"),
            SeatAction.REVOKE_COHOST: self.tr("Revoke co-host"),
            SeatAction.LOCK: self.tr("Lock seat"),
            SeatAction.UNLOCK: self.tr("Unlock seat"),
            SeatAction.CANCEL: self.tr("Cancel"),
        }
        return labels[action]

    def entry(self, action: SeatAction) -> QAction | None:
        """The menu entry of ``action``, if the menu has it."""
        return next((a for a in self.actions() if a.data() == action.value), None)
