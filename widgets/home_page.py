"""The home page: who you are, who is online and what they are doing, and whom to call."""

from __future__ import annotations

from PySide6.QtCore import QEvent, QModelIndex, Qt, Signal, Slot
from PySide6.QtGui import QIcon, QPalette, QResizeEvent, QShowEvent
from PySide6.QtWidgets import (
    QFrame,
    QHBoxLayout,
    QLineEdit,
    QListView,
    QPushButton,
    QVBoxLayout,
    QWidget,
)

from app.kit.account import OnlineUser
from app.kit.identity import parse_user_ids
from widgets.call_history_list import CallHistoryList
from widgets.icons import icon
from widgets.plain_text import ElidedLabel, PlainLabel
from widgets.theme import Colors
from widgets.user_list import USER_ROLE, UserDelegate, UserListModel

_NO_LIMIT = 16_777_215  # Qt's QWIDGETSIZE_MAX, which PySide6 does not export


class HomePage(QWidget):
    """Signed-in home: whom to call, and who is online; emits what the user asks for."""

    call_requested = Signal(list, bool)
    """``(user_ids, is_video)``: the Voice call or Video call button was pressed."""
    room_requested = Signal()
    """The audio room button was pressed: ask which room, and as host or listener."""
    devices_requested = Signal()
    #: The Settings… button.
    settings_requested = Signal()
    """The Devices button was pressed: open the device settings."""
    sign_out_requested = Signal()
    """The Sign out button was pressed."""

    def __init__(self, colors: Colors, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setObjectName("home_page")
        self.setProperty("kind", "page")
        self._me: OnlineUser | None = None

        self.title_label = ElidedLabel(self)  # a long name must not push the buttons out
        self.title_label.setObjectName("title")
        self.identity_label = ElidedLabel(self)
        self.identity_label.setObjectName("subtitle")
        self.identity_label.setTextInteractionFlags(Qt.TextInteractionFlag.TextSelectableByMouse)
        # Made in reading order, which is the order Tab visits them in.
        self.devices_button = QPushButton(self.tr("Devices…"), self)
        self.devices_button.setObjectName("devices_button")
        self.devices_button.setCursor(Qt.CursorShape.PointingHandCursor)
        self.devices_button.setToolTip(self.tr("Camera, microphone and speaker, with a preview"))
        self.settings_button = QPushButton(self.tr("Settings…"), self)
        self.settings_button.setObjectName("settings_button")
        self.settings_button.setCursor(Qt.CursorShape.PointingHandCursor)
        self.settings_button.setToolTip(
            self.tr("Do not disturb, answering, notifications, the tray, colours")
        )
        self.sign_out_button = QPushButton(self.tr("Sign out"), self)
        self.sign_out_button.setObjectName("sign_out_button")
        self.sign_out_button.setCursor(Qt.CursorShape.PointingHandCursor)
        self.sign_out_button.setToolTip(self.tr("Sign out"))
        # Their icons and names, for a window too narrow for their names beside the greeting.
        self._header_buttons = tuple(
            (button, name, button.text())
            for button, name in (
                (self.devices_button, "devices"),
                (self.settings_button, "settings"),
                (self.sign_out_button, "sign-out"),
            )
        )
        self._compact_header = False
        self._wide_buttons = 0

        header_text = QVBoxLayout()
        header_text.setSpacing(2)
        header_text.addWidget(self.title_label)
        header_text.addWidget(self.identity_label)
        header = QHBoxLayout()
        header.addLayout(header_text, 1)
        header.addWidget(self.devices_button, 0, Qt.AlignmentFlag.AlignTop)
        header.addWidget(self.settings_button, 0, Qt.AlignmentFlag.AlignTop)
        header.addWidget(self.sign_out_button, 0, Qt.AlignmentFlag.AlignTop)

        call_card = QFrame(self)
        call_card.setObjectName("card")
        call_title = PlainLabel(self.tr("CALL SOMEONE"), call_card)
        call_title.setObjectName("section")
        self.callee_edit = QLineEdit(call_card)
        self.callee_edit.setObjectName("callee_edit")
        self.callee_edit.setAccessibleName(self.tr("User IDs to call"))
        self.callee_edit.setPlaceholderText(
            self.tr("One or several user IDs, separated by commas or spaces")
        )
        self.voice_button = QPushButton(self.tr("Voice call"), call_card)
        self.voice_button.setObjectName("voice_call_button")
        self.video_button = QPushButton(self.tr("Video call"), call_card)
        self.video_button.setObjectName("video_call_button")
        for button in (self.voice_button, self.video_button):
            button.setProperty("kind", "primary")
            button.setCursor(Qt.CursorShape.PointingHandCursor)
        self.voice_button.setToolTip(self.tr("Call the user IDs above, voice only"))
        self.video_button.setToolTip(self.tr("Call the user IDs above with video"))
        self.call_hint = PlainLabel(
            self.tr("Several IDs make a group call. Call “echo” to check your devices."),
            call_card,
        )
        self.call_hint.setObjectName("hint")
        self.call_hint.setWordWrap(True)
        buttons = QHBoxLayout()
        buttons.addWidget(self.voice_button)
        buttons.addWidget(self.video_button)
        buttons.addStretch(1)
        call_layout = QVBoxLayout(call_card)
        call_layout.setContentsMargins(18, 16, 18, 16)
        call_layout.setSpacing(10)
        call_layout.addWidget(call_title)
        call_layout.addWidget(self.callee_edit)
        call_layout.addLayout(buttons)
        call_layout.addWidget(self.call_hint)

        room_card = QFrame(self)
        room_card.setObjectName("card")
        room_title = PlainLabel(self.tr("AUDIO ROOM"), room_card)
        room_title.setObjectName("section")
        self.room_button = QPushButton(self.tr("Host or join a room…"), room_card)
        self.room_button.setObjectName("room_button")
        self.room_button.setCursor(Qt.CursorShape.PointingHandCursor)
        self.room_button.setToolTip(self.tr("Open a live audio room with seats, or listen in one"))
        room_hint = PlainLabel(
            self.tr("A host opens a room by its ID; listeners join with the same ID."),
            room_card,
        )
        room_hint.setObjectName("hint")
        room_hint.setWordWrap(True)
        room_row = QHBoxLayout()
        room_row.addWidget(self.room_button)
        room_row.addWidget(room_hint, 1)
        room_layout = QVBoxLayout(room_card)
        room_layout.setContentsMargins(18, 12, 18, 12)
        room_layout.setSpacing(8)
        room_layout.addWidget(room_title)
        room_layout.addLayout(room_row)

        self.online_label = PlainLabel(self)
        self.online_label.setObjectName("section")
        self.model = UserListModel(self)
        self.delegate = UserDelegate(colors, self)
        self.user_list = QListView(self)
        self.user_list.setObjectName("online_list")
        self.user_list.setAccessibleName(self.tr("Who is online"))
        self.user_list.setModel(self.model)
        # Rows take the list's width and shorten names to it (the state stays whole).
        self.user_list.setHorizontalScrollBarPolicy(Qt.ScrollBarPolicy.ScrollBarAlwaysOff)
        self.user_list.setItemDelegate(self.delegate)
        self.user_list.setUniformItemSizes(True)
        self.user_list.setEditTriggers(QListView.EditTrigger.NoEditTriggers)
        self.user_list.setToolTip(self.tr("Double-click someone to add them to the call field"))

        layout = QVBoxLayout(self)
        layout.setContentsMargins(24, 20, 24, 16)
        layout.setSpacing(14)
        layout.addLayout(header)
        layout.addWidget(call_card)
        layout.addWidget(room_card)
        self.history_list = CallHistoryList(colors, self)
        online = QVBoxLayout()
        online.setSpacing(8)
        online.addWidget(self.online_label)
        online.addWidget(self.user_list, 1)
        lists = QHBoxLayout()
        lists.setSpacing(14)
        lists.addLayout(online, 1)
        lists.addWidget(self.history_list, 1)
        layout.addLayout(lists, 1)

        self.sign_out_button.clicked.connect(self.on_sign_out_button_clicked)
        self.voice_button.clicked.connect(self.on_voice_button_clicked)
        self.video_button.clicked.connect(self.on_video_button_clicked)
        self.callee_edit.returnPressed.connect(self.on_video_button_clicked)
        self.room_button.clicked.connect(self.room_requested)
        self.devices_button.clicked.connect(self.devices_requested)
        self.settings_button.clicked.connect(self.settings_requested)
        self.user_list.doubleClicked.connect(self.on_user_list_double_clicked)
        # Enter on a row (keyboard use): the same as a double click.
        self.user_list.activated.connect(self.on_user_list_double_clicked)
        self.model.rowsInserted.connect(self._update_count)
        self.model.rowsRemoved.connect(self._update_count)
        self.model.modelReset.connect(self._update_count)
        self._update_count()

    @Slot(OnlineUser)
    def set_me(self, me: OnlineUser) -> None:
        """Signed in as ``me``."""
        self._me = me
        self._show_identity(me)

    @Slot()
    def clear(self) -> None:
        """Signed out: nobody listed, nothing typed."""
        self._me = None
        self.model.clear()
        self.callee_edit.clear()

    @Slot(tuple)
    def reset_roster(self, users: tuple[OnlineUser, ...]) -> None:
        """The whole online list."""
        self.model.reset(users)

    @Slot(OnlineUser, bool)
    def update_user(self, user: OnlineUser, online: bool) -> None:
        """One user came online, went offline or changed state."""
        self.model.update_user(user, online)
        if user.is_self:
            self._me = user
            self._show_identity(user)

    @Slot()
    def on_sign_out_button_clicked(self) -> None:
        self.sign_out_button.setEnabled(False)
        self.sign_out_requested.emit()

    @Slot()
    def on_voice_button_clicked(self) -> None:
        self._request_call(is_video=False)

    @Slot()
    def on_video_button_clicked(self) -> None:
        self._request_call(is_video=True)

    def _request_call(self, *, is_video: bool) -> None:
        me = self._me
        ids = [i for i in parse_user_ids(self.callee_edit.text()) if me is None or i != me.user_id]
        if not ids:
            self.callee_edit.setFocus()
            self.call_hint.setText(self.tr("Type the user ID of someone to call first."))
            return
        self.call_requested.emit(ids, is_video)

    @Slot(QModelIndex)
    def on_user_list_double_clicked(self, index: QModelIndex) -> None:
        user = index.data(USER_ROLE)
        if not isinstance(user, OnlineUser) or user.is_self:
            return
        ids = parse_user_ids(self.callee_edit.text())
        if user.user_id not in ids:
            self.callee_edit.setText(", ".join([*ids, user.user_id]))
        self.call_hint.setText(
            self.tr("{name} is in the call field: press Voice call or Video call.").format(
                name=user.name
            )
        )

    def resizeEvent(self, event: QResizeEvent) -> None:  # noqa: N802
        super().resizeEvent(event)
        self._fit_header()

    def changeEvent(self, event: QEvent) -> None:  # noqa: N802
        super().changeEvent(event)
        if event.type() is QEvent.Type.PaletteChange and self._compact_header:
            self._show_header_buttons()  # icons in the new theme's colour

    def _fit_header(self) -> None:
        """In a narrow window the header's buttons show icons only (their names stay their
        tooltips and accessible names), so the greeting keeps its room instead of
        shrinking to "Hello, …"."""
        buttons = (self.devices_button, self.settings_button, self.sign_out_button)
        if not self._compact_header:
            self._wide_buttons = sum(b.sizeHint().width() for b in buttons)
        layout = self.layout()
        room = self.width()
        if layout is not None:
            margins = layout.contentsMargins()
            room -= margins.left() + margins.right() + 3 * max(0, layout.spacing())
        greeting = self.title_label.fontMetrics().horizontalAdvance(self.title_label.full_text())
        compact = greeting + self._wide_buttons > room
        if compact != self._compact_header:
            self._compact_header = compact
            self._show_header_buttons()
            if layout is not None:
                layout.activate()  # now, not after the size that asked for it was drawn

    def _show_header_buttons(self) -> None:
        color = self.palette().color(QPalette.ColorRole.ButtonText)
        for button, name, text in self._header_buttons:
            button.setAccessibleName(text)
            if self._compact_header:
                button.setText("")
                button.setIcon(icon(name, color, 20))
                # Square: the style's minimum width is for a name.
                button.setFixedWidth(button.sizeHint().height())
            else:
                button.setText(text)
                button.setIcon(QIcon())
                button.setMinimumWidth(0)
                button.setMaximumWidth(_NO_LIMIT)

    def showEvent(self, event: QShowEvent) -> None:  # noqa: N802
        """The call field takes the focus: typing an ID and Enter calls (the focus was
        left on Sign out, where Enter signs out)."""
        self.sign_out_button.setEnabled(True)
        super().showEvent(event)
        self.callee_edit.setFocus(Qt.FocusReason.OtherFocusReason)

    def _show_identity(self, me: OnlineUser) -> None:
        self.title_label.setText(self.tr("Hello, {name}").format(name=me.name))
        self._fit_header()
        self.identity_label.setText(
            self.tr("Signed in as {name} ({user_id})").format(name=me.name, user_id=me.user_id)
        )

    @Slot()
    def _update_count(self) -> None:
        count = self.model.rowCount()
        self.online_label.setText(self.tr("ONLINE NOW · {count}").format(count=count))
