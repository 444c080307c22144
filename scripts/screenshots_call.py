"""Render the call pages and components offscreen into ``docs/screenshots/call-*.png``.

Every shot is rendered in the light and the dark theme with realistic view states and
synthetic video frames (a gradient "room" with a figure and a name), so a reviewer can
see the pages without a camera or a second person. Run:

    QT_QPA_PLATFORM=offscreen python scripts/screenshots_call.py
"""

from __future__ import annotations

import os
import sys
from collections.abc import Callable
from pathlib import Path

os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")
sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

import numpy as np
import numpy.typing as npt
from _stills import render_shots, settle
from PySide6.QtCore import QPoint, QRect, Qt
from PySide6.QtGui import QColor, QFont, QImage, QPainter
from PySide6.QtWidgets import QApplication, QLabel, QMenu, QVBoxLayout, QWidget

from app import HANG_UP_DIALOG, AudioRoute, CallConfig, CallLayoutMode, MessageState, User
from app.kit.views.call import (
    CallView,
    IncomingCallView,
    OutgoingCallView,
    TileConnection,
    TileView,
)
from app.kit.views.chat import ChatMessageView
from app.kit.views.outputs import AudioOutputView
from widgets.call_page import CallPage
from widgets.call_style import call_style_sheet
from widgets.confirm_dialog import ConfirmDialog
from widgets.incoming_call import IncomingCallBanner, IncomingCallPage
from widgets.minimize_overlay import MinimizeOverlay
from widgets.outgoing_call_page import OutgoingCallPage
from widgets.theme import Colors

SIZE = (960, 600)
Frame = npt.NDArray[np.uint8]

ALICE = User("alice", "Alice Martin")
BOB = User("bob", "Bob Okafor")
CHLOE = User("chloe", "Chloé Dubois")
DAVID = User("david", "David Chen")
EVA = User("eva", "Eva Novak")


def synthetic_frame(name: str, hue: tuple[int, int, int], width: int = 640) -> Frame:
    """A 4:3 RGB frame: a lit wall gradient, a seated figure, and ``name`` in a corner."""
    height = width * 3 // 4
    y, x = np.mgrid[0:height, 0:width].astype(np.float64)
    light = 1.0 - 0.55 * np.hypot((x - width * 0.3) / width, (y - height * 0.2) / height)
    base = np.array(hue, dtype=np.float64)
    image = np.clip(base[None, None, :] * light[..., None], 0, 255)
    head = ((x - width / 2) / (width * 0.11)) ** 2 + ((y - height * 0.42) / (height * 0.17)) ** 2
    body = ((x - width / 2) / (width * 0.27)) ** 2 + ((y - height * 1.02) / (height * 0.42)) ** 2
    skin = np.array([214, 170, 140]) * (0.85 + 0.15 * light[..., None])
    shirt = (255 - base) * 0.45 * light[..., None] + 30
    image = np.where((body < 1)[..., None], shirt, image)
    image = np.where((head < 1)[..., None], skin, image)
    frame = np.ascontiguousarray(image.astype(np.uint8))
    # Text via QPainter: numpy has no font rasteriser, and the frame stays an ndarray.
    qimage = QImage(frame.data, width, height, 3 * width, QImage.Format.Format_RGB888).copy()
    painter = QPainter(qimage)
    font = QFont()
    font.setPixelSize(height // 36)
    font.setBold(True)
    painter.setFont(font)
    painter.setPen(QColor(255, 255, 255, 200))
    painter.drawText(
        QRect(0, height // 6, width, height // 10),
        Qt.AlignmentFlag.AlignHCenter | Qt.AlignmentFlag.AlignTop,
        name,
    )
    painter.end()
    pointer = qimage.constBits()
    data = np.frombuffer(pointer, dtype=np.uint8, count=qimage.sizeInBytes())
    rows = data.reshape(height, qimage.bytesPerLine())[:, : width * 3]
    return rows.reshape(height, width, 3).copy()


FRAMES: dict[str, Frame] = {}


def frame(user: User, hue: tuple[int, int, int]) -> Frame:
    """A cached synthetic frame of ``user``."""
    if user.id not in FRAMES:
        FRAMES[user.id] = synthetic_frame(user.name, hue)
    return FRAMES[user.id]


HUES = {
    "alice": (96, 132, 168),
    "bob": (176, 140, 102),
    "chloe": (110, 150, 120),
    "david": (150, 120, 160),
}


def tile(user: User, **kwargs: object) -> TileView:
    """A tile of ``user``."""
    return TileView(user_id=user.id, name=user.name, **kwargs)  # type: ignore[arg-type]


def push_frames(page: CallPage, view: CallView) -> None:
    """Give every tile with a camera on its frame."""
    for item in view.tiles:
        if item.camera_on and not item.waiting:
            page.set_frame(item.user_id, frame(User(item.user_id, item.name), HUES[item.user_id]))


def call_page(colors: Colors, config: CallConfig, view: CallView) -> CallPage:
    """A call page showing ``view`` with frames."""
    page = CallPage(config, colors, idle_timeout_ms=3_600_000)
    page.resize(*SIZE)
    page.set_view(view)
    push_frames(page, view)
    return page


def pip_video(colors: Colors) -> QWidget:
    view = CallView(
        call_id="c1",
        title=BOB.name,
        duration_s=754,
        tiles=(tile(ALICE, is_local=True), tile(BOB, speaking_level=0.5, is_speaking=True)),
    )
    return call_page(colors, CallConfig.one_on_one_video(), view)


def pip_voice(colors: Colors) -> QWidget:
    view = CallView(
        call_id="c2",
        title=BOB.name,
        is_video=False,
        duration_s=65,
        camera_on=False,
        unread_messages=2,
        tiles=(
            tile(ALICE, is_local=True, camera_on=False, microphone_on=False),
            tile(BOB, camera_on=False, speaking_level=0.7, is_speaking=True),
        ),
    )
    return call_page(colors, CallConfig.one_on_one_voice(), view)


def gallery_view() -> CallView:
    return CallView(
        call_id="c3",
        title="Design review",
        layout=CallLayoutMode.GALLERY,
        duration_s=1834,
        can_remove_members=True,
        tiles=(
            tile(ALICE, is_local=True),
            tile(BOB, speaking_level=0.6, is_speaking=True),
            tile(CHLOE, camera_on=False, microphone_on=False),
            tile(DAVID, connection=TileConnection.RECONNECTING),
        ),
    )


def gallery(colors: Colors) -> QWidget:
    return call_page(colors, CallConfig.group_video(), gallery_view())


def gallery_members(colors: Colors) -> QWidget:
    view = CallView(
        call_id="c3",
        title="Design review",
        layout=CallLayoutMode.GALLERY,
        duration_s=1834,
        can_remove_members=True,
        tiles=(*gallery_view().tiles[:3], tile(EVA, waiting=True, camera_on=False)),
    )
    page = call_page(colors, CallConfig.group_video(), view)
    page.toggle_panel(page.member_list, animate=False)
    return page


def chat(colors: Colors) -> QWidget:
    view = CallView(
        call_id="c4",
        title=BOB.name,
        duration_s=412,
        unread_messages=0,
        tiles=(tile(ALICE, is_local=True), tile(BOB)),
    )
    page = call_page(colors, CallConfig.one_on_one_video(), view)
    start = 1_763_800_000_000
    page.set_messages(
        (
            ChatMessageView(
                message_id="m1",
                sender_name=BOB.name,
                text="Can you see my screen?",
                timestamp_ms=start,
            ),
            ChatMessageView(
                message_id="m2",
                sender_name=ALICE.name,
                text="Yes — the new layout looks great.",
                timestamp_ms=start + 40_000,
                is_local=True,
            ),
            ChatMessageView(
                message_id="m3",
                sender_name=BOB.name,
                text="Great! I'll send the notes after the call.",
                timestamp_ms=start + 95_000,
            ),
            ChatMessageView(
                message_id="m4",
                sender_name=ALICE.name,
                text="Thanks, talk soon",
                timestamp_ms=start + 130_000,
                is_local=True,
                state=MessageState.FAILED,
            ),
        )
    )
    page.toggle_panel(page.chat_panel, animate=False)
    return page


def reconnecting(colors: Colors) -> QWidget:
    view = CallView(
        call_id="c5",
        title="Design review",
        layout=CallLayoutMode.GALLERY,
        duration_s=95,
        reconnecting=True,
        tiles=(tile(ALICE, is_local=True), tile(BOB, connection=TileConnection.RECONNECTING)),
    )
    page = call_page(colors, CallConfig.group_video(), view)
    page.show_error("Connection lost. Trying to reconnect…")
    return page


def outgoing_video(colors: Colors) -> QWidget:
    page = OutgoingCallPage(colors)
    page.resize(*SIZE)
    page.set_view(OutgoingCallView(callees=(BOB,), is_video=True))
    page.set_preview_frame(frame(ALICE, HUES["alice"]))
    return page


def outgoing_voice(colors: Colors) -> QWidget:
    page = OutgoingCallPage(colors)
    page.resize(*SIZE)
    page.set_view(OutgoingCallView(callees=(BOB,), is_video=False, microphone_on=False))
    return page


def incoming_page(colors: Colors) -> QWidget:
    page = IncomingCallPage(colors)
    page.resize(*SIZE)
    page.set_view(IncomingCallView(call_id="c6", caller=BOB, is_video=True, invitees=(ALICE,)))
    page.set_preview_frame(frame(ALICE, HUES["alice"]))
    return page


def on_window(colors: Colors, child: QWidget, width: int) -> QWidget:
    """``child`` on a plain window background, as it appears over the app."""
    host = QWidget()
    host.setObjectName("page")
    host.setAttribute(Qt.WidgetAttribute.WA_StyledBackground)
    layout = QVBoxLayout(host)
    layout.setContentsMargins(20, 20, 20, 20)
    layout.addWidget(child)
    host.resize(width, host.sizeHint().height())
    return host


def incoming_banner(colors: Colors) -> QWidget:
    banner = IncomingCallBanner(colors)
    banner.set_view(IncomingCallView(call_id="c7", caller=CHLOE, is_video=True, invitees=(ALICE,)))
    return on_window(colors, banner, 460)


def overlay(colors: Colors) -> QWidget:
    window = MinimizeOverlay(colors)
    view = CallView(
        call_id="c8",
        duration_s=754,
        microphone_on=False,
        tiles=(tile(ALICE, is_local=True), tile(BOB, speaking_level=0.4, is_speaking=True)),
    )
    window.set_view(view)
    window.set_frame(BOB.id, frame(BOB, HUES["bob"]))
    return window


def overlay_voice(colors: Colors) -> QWidget:
    window = MinimizeOverlay(colors)
    view = CallView(
        call_id="c9",
        duration_s=3725,
        is_video=False,
        tiles=(
            tile(ALICE, is_local=True, camera_on=False),
            tile(CHLOE, camera_on=False, speaking_level=0.8, is_speaking=True),
        ),
    )
    window.set_view(view)
    return window


def more_menu(colors: Colors) -> QWidget:
    """The bottom bar's "More" menu of the one-to-one video preset, opened."""
    page = pip_video(colors)
    assert isinstance(page, CallPage)
    menu = page.bottom_bar.more_menu
    assert menu is not None
    menu.setParent(None)  # its own window, as when it pops up
    menu.setStyleSheet(call_style_sheet(colors))
    return menu


def desktop_frame(width: int = 960, height: int = 600) -> Frame:
    """A 16:10 "desktop": a wallpaper, a window with a title bar and lines of text."""
    x = np.mgrid[0:height, 0:width][1].astype(np.float64)
    image = np.zeros((height, width, 3), dtype=np.float64)
    image[...] = np.array([40, 70, 110]) + (x / width)[..., None] * np.array([30, 40, 50])
    left, top, right, bottom = width // 8, height // 8, width * 7 // 8, height * 7 // 8
    image[top:bottom, left:right] = (246, 246, 244)
    image[top : top + 28, left:right] = (214, 218, 226)
    for row in range(top + 52, bottom - 24, 22):  # "text": lines of ragged length
        length = (right - left - 80) * (0.55 + 0.4 * ((row * 37) % 11) / 11)
        image[row : row + 9, left + 40 : left + 40 + int(length)] = (70, 74, 82)
    return np.clip(image, 0, 255).astype(np.uint8)


def screen_share(colors: Colors) -> QWidget:
    """Bob shares his screen (fitted, with his name); Alice's own tile says she is not."""
    view = CallView(
        call_id="c5",
        title=BOB.name,
        duration_s=1312,
        tiles=(
            tile(ALICE, is_local=True),
            tile(BOB, camera_on=False, sharing_screen=True, speaking_level=0.4),
        ),
    )
    page = call_page(colors, CallConfig.one_on_one_video(), view)
    page.resize(720, 640)  # a tall window: a cropped screen would lose its sides
    page.set_frame(BOB.id, desktop_frame())
    return page


def screen_share_sender(colors: Colors) -> QWidget:
    """Alice shares her screen: her own tile says so instead of showing it."""
    view = CallView(
        call_id="c6",
        title=BOB.name,
        duration_s=1312,
        tiles=(tile(ALICE, is_local=True, camera_on=False, sharing_screen=True), tile(BOB)),
        sharing_screen=True,
    )
    return call_page(colors, CallConfig.one_on_one_video(), view)


OUTPUTS = (
    AudioOutputView(device=0, name="Built-in Audio Analog Stereo", is_system_default=True),
    AudioOutputView(device=3, name="Jabra Evolve2 65", route=AudioRoute.HEADPHONE, current=True),
    AudioOutputView(device=4, name="HDMI / DisplayPort 1 (DELL U2720Q)"),
)


def audio_output_menu(colors: Colors) -> QWidget:
    """The one-to-one video call with the audio-output menu open over its bottom bar."""
    page = pip_video(colors)
    assert isinstance(page, CallPage)
    page.show()
    app = QApplication.instance()
    assert app is not None
    for _ in range(3):
        app.processEvents()
    settle(page)
    popped: list[tuple[QMenu, QPoint]] = []
    page.menu_popper = lambda menu, at: popped.append((menu, at))
    page.show_audio_output_menu(OUTPUTS)
    menu, at = popped[0]
    menu.adjustSize()
    # A popup is its own window, which grab() leaves out: paint it where it would pop.
    shot = page.grab()
    painter = QPainter(shot)
    painter.drawPixmap(page.mapFromGlobal(at), menu.grab())
    painter.end()
    page.close()
    label = QLabel()
    label.setPixmap(shot)
    label.resize(shot.size())
    return label


def confirm(colors: Colors) -> QWidget:
    return ConfirmDialog(HANG_UP_DIALOG, colors)


SHOTS: dict[str, Callable[[Colors], QWidget]] = {
    "pip-video": pip_video,
    "pip-voice": pip_voice,
    "gallery": gallery,
    "gallery-members": gallery_members,
    "chat": chat,
    "reconnecting": reconnecting,
    "outgoing-video": outgoing_video,
    "outgoing-voice": outgoing_voice,
    "incoming-page": incoming_page,
    "incoming-banner": incoming_banner,
    "overlay": overlay,
    "overlay-voice": overlay_voice,
    "more-menu": more_menu,
    "screen-share": screen_share,
    "screen-share-sender": screen_share_sender,
    "audio-output-menu": audio_output_menu,
    "confirm": confirm,
}


def main() -> int:
    """Render every shot in both themes."""
    return render_shots(SHOTS, "call")


if __name__ == "__main__":
    sys.exit(main())
