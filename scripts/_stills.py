"""What the still-screenshot scripts share: render every shot in both themes, save PNGs.

``scripts/screenshots_call.py`` and ``scripts/screenshots_audio_room.py`` name their shots
(a function from the theme's colours to a widget) and call :func:`render_shots`.
"""

from __future__ import annotations

import sys
from collections.abc import Callable, Mapping
from pathlib import Path

from PySide6.QtGui import QImage, QPixmap
from PySide6.QtWidgets import QApplication, QWidget

from widgets.avatar_view import AvatarView
from widgets.theme import Colors, Theme, apply_theme

OUT = Path(__file__).resolve().parents[1] / "docs" / "screenshots"


def save(pixmap: QPixmap, path: Path) -> int:
    """Write a compact PNG (palette-reduced when that keeps it small); returns its size."""
    image = pixmap.toImage()
    image.save(str(path), quality=0)
    if path.stat().st_size > 140_000:
        # Video gradients compress badly; 256 dithered colours look the same here.
        image.convertToFormat(QImage.Format.Format_Indexed8).save(str(path), quality=0)
    return path.stat().st_size


def settle(widget: QWidget) -> None:
    """Stop ring animations where they would be mid-way: stills show the target level."""
    for avatar in widget.findChildren(AvatarView):
        avatar.settle()


def render_shots(shots: Mapping[str, Callable[[Colors], QWidget]], prefix: str) -> int:
    """Render every shot (or those named on the command line) in both themes into
    ``docs/screenshots/<prefix>-<name>-<theme>.png``."""
    app = QApplication.instance() or QApplication(sys.argv)
    assert isinstance(app, QApplication)
    OUT.mkdir(parents=True, exist_ok=True)
    only = set(sys.argv[1:])
    for theme in (Theme.LIGHT, Theme.DARK):
        colors = apply_theme(app, theme)
        for name, build in shots.items():
            if only and name not in only:
                continue
            widget = build(colors)
            widget.show()
            for _ in range(3):
                app.processEvents()
            settle(widget)
            app.processEvents()
            path = OUT / f"{prefix}-{name}-{theme.value}.png"
            size = save(widget.grab(), path)
            print(f"{path.relative_to(OUT.parents[1])}: {size // 1024} KB")
            widget.close()
            widget.deleteLater()
            app.processEvents()
    return 0
