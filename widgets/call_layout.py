"""Where the call page puts its tiles: pure geometry, so it is easy to test and to change.

Sizes are logical pixels; the stage leaves room at the top and bottom for the bars,
whether they are shown or not, so tiles do not jump when the bars hide.
"""

from __future__ import annotations

import math

from PySide6.QtCore import QRect

from app import ViewCorner

#: Space between gallery tiles.
GAP = 10
#: Room kept for the top bar and for the bottom bar.
TOP_ROOM = 72
BOTTOM_ROOM = 100
_SIDE = 16


def grid_shape(count: int) -> tuple[int, int]:
    """Columns and rows of a gallery of ``count`` tiles: as square as possible, wide first."""
    if count <= 0:
        return 0, 0
    columns = math.ceil(math.sqrt(count))
    return columns, math.ceil(count / columns)


def gallery_rects(count: int, stage: QRect) -> list[QRect]:
    """``count`` tile rectangles in reading order, centred, 4:3 unless a row has room to spare.

    A last row that is not full is centred, so three people read as two and one.
    """
    columns, rows = grid_shape(count)
    if not columns:
        return []
    area = stage.adjusted(_SIDE, TOP_ROOM - 8, -_SIDE, -BOTTOM_ROOM)
    cell_w = (area.width() - (columns - 1) * GAP) / columns
    cell_h = (area.height() - (rows - 1) * GAP) / rows
    tile_w = min(cell_w, cell_h * 16 / 9)
    # One row of one or two: use the full height (portrait-ish windows); else keep 4:3.
    tile_h = min(cell_h, tile_w * 3 / 4) if rows > 1 or columns > 2 else cell_h
    top = area.top() + (area.height() - (rows * tile_h + (rows - 1) * GAP)) / 2
    rects = []
    for index in range(count):
        row, column = divmod(index, columns)
        in_row = min(columns, count - row * columns)
        left = area.left() + (area.width() - (in_row * tile_w + (in_row - 1) * GAP)) / 2
        rects.append(
            QRect(
                round(left + column * (tile_w + GAP)),
                round(top + row * (tile_h + GAP)),
                round(tile_w),
                round(tile_h),
            )
        )
    return rects


def small_view_rect(stage: QRect, corner: ViewCorner) -> QRect:
    """Picture-in-picture's small view in ``corner``: a 4:3 quarter of the width, bounded."""
    width = max(150, min(280, stage.width() // 4))
    height = width * 3 // 4
    left = corner in (ViewCorner.TOP_LEFT, ViewCorner.BOTTOM_LEFT)
    top = corner in (ViewCorner.TOP_LEFT, ViewCorner.TOP_RIGHT)
    x = _SIDE if left else stage.width() - width - _SIDE
    y = TOP_ROOM if top else stage.height() - height - BOTTOM_ROOM
    return QRect(x, y, width, height)


def nearest_corner(stage: QRect, rect: QRect) -> ViewCorner:
    """The corner whose small-view position is closest to ``rect`` (where a drag ends)."""
    center = rect.center()
    return min(
        ViewCorner,
        key=lambda corner: (small_view_rect(stage, corner).center() - center).manhattanLength(),
    )
