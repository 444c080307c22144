"""Tinted icons from the monochrome SVGs in ``resources/icons`` (package data).

Qt's SVG renderer has no ``currentColor``, so every icon is drawn in black and tinted
here: render at the device pixel ratio, then paint the colour through the icon's alpha.
Rendered images are cached, because bars repaint often and the SVGs never change. The
cache holds ``QImage``s, not pixmaps or renderers: those belong to the running
application and must not outlive it in a module global.
"""

from __future__ import annotations

from functools import lru_cache
from pathlib import Path

from PySide6.QtCore import QRectF, Qt
from PySide6.QtGui import QColor, QGuiApplication, QIcon, QImage, QPainter, QPixmap
from PySide6.QtSvg import QSvgRenderer

from resources import ICONS

ICON_DIR = ICONS


def icon_path(name: str) -> Path:
    """The SVG file of ``name``; raises ``FileNotFoundError`` for unknown names."""
    path = ICON_DIR / f"{name}.svg"
    if not path.is_file():
        raise FileNotFoundError(f"no icon named {name!r} in {ICON_DIR}")
    return path


@lru_cache(maxsize=512)
def _tinted(name: str, color: str, size: int, ratio: float) -> QImage:
    # The renderer first: a failure must not leave a painter active on the image.
    renderer = QSvgRenderer(str(icon_path(name)))
    if not renderer.isValid():
        raise ValueError(f"icon {name!r} is not a valid SVG")
    pixels = max(1, round(size * ratio))
    image = QImage(pixels, pixels, QImage.Format.Format_ARGB32_Premultiplied)
    image.fill(Qt.GlobalColor.transparent)
    painter = QPainter(image)
    painter.setRenderHint(QPainter.RenderHint.Antialiasing)
    renderer.render(painter, QRectF(0, 0, pixels, pixels))
    # SourceIn keeps the icon's alpha and replaces its colour: the tint.
    painter.setCompositionMode(QPainter.CompositionMode.CompositionMode_SourceIn)
    painter.fillRect(image.rect(), QColor(color))
    painter.end()
    image.setDevicePixelRatio(ratio)
    return image


def _screen_ratio() -> float:
    screen = QGuiApplication.primaryScreen()
    return screen.devicePixelRatio() if screen is not None else 1.0


def pixmap(name: str, color: QColor | str, size: int = 24, ratio: float | None = None) -> QPixmap:
    """``name`` tinted with ``color``, ``size`` logical pixels square, sharp at ``ratio``."""
    key = QColor(color).name(QColor.NameFormat.HexArgb)
    return QPixmap.fromImage(
        _tinted(name, key, size, ratio if ratio is not None else _screen_ratio())
    )


def icon(name: str, color: QColor | str, size: int = 24) -> QIcon:
    """A ``QIcon`` of ``name`` tinted with ``color``, with 1×, 2× and the screen's ratio."""
    result = QIcon()
    for ratio in sorted({1.0, 2.0, _screen_ratio()}):
        result.addPixmap(pixmap(name, color, size, ratio))
    return result
