"""View states and input helpers shared by the call widget tests."""

from __future__ import annotations

import numpy as np
import numpy.typing as npt
from PySide6.QtCore import QEvent, QPoint, QPointF, Qt
from PySide6.QtGui import QMouseEvent
from PySide6.QtWidgets import QApplication, QWidget

from app.kit.views.call import CallView, TileView

NAMES = ("Alice Martin", "Bob Okafor", "Chloé Dubois", "David Chen")


def tiles(count: int, **remote: object) -> tuple[TileView, ...]:
    """``count`` tiles, the first local."""
    return tuple(
        TileView(
            user_id=f"u{index}",
            name=NAMES[index],
            is_local=index == 0,
            **({} if index == 0 else remote),  # type: ignore[arg-type]
        )
        for index in range(count)
    )


def call_view(count: int = 2, **fields: object) -> CallView:
    """A call of ``count`` people."""
    return CallView(call_id="call-1", title="Bob", tiles=tiles(count), **fields)  # type: ignore[arg-type]


def rgb_frame(color: tuple[int, int, int] = (200, 40, 60)) -> npt.NDArray[np.uint8]:
    """A 4:3 frame of one colour."""
    frame = np.zeros((120, 160, 3), dtype=np.uint8)
    frame[:, :] = color
    return frame


def send_mouse(widget: QWidget, kind: QEvent.Type, pos: QPoint, pressed: bool) -> None:
    """A mouse event straight to ``widget`` (drags need the button held across moves)."""
    left = Qt.MouseButton.LeftButton
    button = left if kind is not QEvent.Type.MouseMove else Qt.MouseButton.NoButton
    held = left if pressed else Qt.MouseButton.NoButton
    global_pos = QPointF(widget.mapToGlobal(pos))
    event = QMouseEvent(
        kind, QPointF(pos), global_pos, button, held, Qt.KeyboardModifier.NoModifier
    )
    QApplication.sendEvent(widget, event)
