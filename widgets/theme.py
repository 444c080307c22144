"""Light and dark themes: a QPalette plus a style sheet built from one set of colours.

Sizes are in logical pixels, which Qt scales by the screen's device pixel ratio, so
the look holds on high-DPI screens. No external assets are needed.
"""

from __future__ import annotations

import atexit
import shutil
import tempfile
from dataclasses import dataclass
from functools import lru_cache
from pathlib import Path

from PySide6.QtCore import QPointF, Qt
from PySide6.QtGui import QColor, QGuiApplication, QImage, QPainter, QPalette, QPen
from PySide6.QtWidgets import QApplication

from app import PresenceState

# One enum for the colours a person chooses (kept with the preferences) and the palette
# applied: ``AUTO`` follows the desktop's colour scheme.
from app.kit.preferences import ThemeChoice as Theme

__all__ = [
    "DARK",
    "LIGHT",
    "Colors",
    "Theme",
    "apply_theme",
    "colors_for",
    "resolve",
    "style_sheet",
]


@dataclass(frozen=True)
class Colors:
    """One theme's colours."""

    window: str
    surface: str
    surface_alt: str
    border: str
    text: str
    muted: str
    accent: str
    accent_hover: str
    accent_text: str
    danger: str
    warning_bg: str
    warning_text: str
    selection: str
    presence: dict[PresenceState, str]


LIGHT = Colors(
    window="#f4f5f8",
    surface="#ffffff",
    surface_alt="#eef0f5",
    border="#d9dde6",
    text="#1c2230",
    muted="#5d6678",
    accent="#2f6f73",
    accent_hover="#255b5e",
    accent_text="#ffffff",
    danger="#b3261e",
    warning_bg="#fff1c2",
    warning_text="#5c4200",
    selection="#d7ecec",
    presence={
        PresenceState.IDLE: "#2e9b5f",
        PresenceState.RINGING: "#d99100",
        PresenceState.INVITING: "#3b73c4",
        PresenceState.IN_CALL: "#c8463d",
    },
)

DARK = Colors(
    window="#15181e",
    surface="#1d2129",
    surface_alt="#252a34",
    border="#323946",
    text="#e5e8ef",
    muted="#9ba4b4",
    accent="#5fb3b3",
    accent_hover="#76c3c3",
    accent_text="#0f1a1b",
    danger="#f2847b",
    warning_bg="#4a3a12",
    warning_text="#ffe08a",
    selection="#23403f",
    presence={
        PresenceState.IDLE: "#4cc38a",
        PresenceState.RINGING: "#f2b538",
        PresenceState.INVITING: "#6fa2f0",
        PresenceState.IN_CALL: "#f0736a",
    },
)

_STYLE = """
QWidget {{ color: {text}; font-size: 10.5pt; }}
QMainWindow, QStackedWidget, QWidget[kind="page"] {{ background: {window}; }}
QFrame#card, QFrame[kind="card"] {{
    background: {surface}; border: 1px solid {border}; border-radius: 12px;
}}
QLabel#title {{ font-size: 20pt; font-weight: 600; }}
QLabel#subtitle, QLabel#hint {{ color: {muted}; }}
QLabel#section {{ font-weight: 600; color: {muted}; font-size: 9.5pt; }}
QLabel#error {{ color: {danger}; }}
QLabel#field {{ font-weight: 600; font-size: 9.5pt; }}
QLabel#banner {{
    background: {warning_bg}; color: {warning_text}; padding: 6px 12px; font-weight: 600;
}}
QLineEdit {{
    background: {surface_alt}; border: 1px solid {border}; border-radius: 8px;
    padding: 4px 10px; min-height: 26px; selection-background-color: {accent};
    selection-color: {accent_text};
}}
QLineEdit:focus {{ border: 1px solid {accent}; }}
QLineEdit[invalid="true"] {{ border: 1px solid {danger}; }}
QPushButton {{
    background: {surface_alt}; border: 1px solid {border}; border-radius: 8px;
    padding: 6px 16px; min-height: 22px;
}}
QPushButton:hover {{ border-color: {accent}; }}
QPushButton:focus, QCheckBox:focus, QRadioButton:focus {{ outline: none; }}
QPushButton:focus {{ border: 2px solid {accent}; padding: 5px 15px; }}
QCheckBox:focus, QRadioButton:focus {{ color: {accent}; }}
QListView:focus {{ border: 2px solid {accent}; padding: 3px; }}
QPushButton:disabled {{ color: {muted}; background: {window}; border-style: dashed; }}
QPushButton[kind="primary"] {{
    background: {accent}; color: {accent_text}; border: 1px solid {accent}; font-weight: 600;
}}
QPushButton[kind="primary"]:hover {{ background: {accent_hover}; }}
QPushButton[kind="primary"]:focus {{ border: 2px solid {text}; padding: 5px 15px; }}
QPushButton[kind="primary"]:disabled {{
    background: {surface_alt}; color: {muted}; border: 1px dashed {border};
}}
QPushButton[kind="segment"] {{ border-radius: 0; font-weight: 600; color: {muted}; }}
QPushButton[kind="segment"]:checked {{
    background: {selection}; color: {text}; border-color: {accent};
}}
QPushButton#mode_local {{ border-top-left-radius: 8px; border-bottom-left-radius: 8px; }}
QPushButton#mode_server {{ border-top-right-radius: 8px; border-bottom-right-radius: 8px; }}
QPushButton[kind="segment"]:focus {{ border: 2px solid {accent}; }}
QListView {{
    background: {surface}; border: 1px solid {border}; border-radius: 10px; padding: 4px;
    outline: none;
}}
QListView::item:selected {{ background: {selection}; color: {text}; border-radius: 6px; }}
QScrollBar:vertical {{ background: transparent; width: 10px; margin: 2px; }}
QScrollBar::handle:vertical {{ background: {border}; border-radius: 3px; min-height: 24px; }}
QScrollBar::handle:vertical:hover {{ background: {muted}; }}
QScrollBar::add-line, QScrollBar::sub-line {{ height: 0; width: 0; }}
QScrollBar::add-page, QScrollBar::sub-page {{ background: none; }}
QStatusBar {{ background: {surface}; border-top: 1px solid {border}; }}
QStatusBar QLabel {{ color: {muted}; padding: 0 6px; }}
QToolTip {{
    background: {surface}; color: {text}; border: 1px solid {border}; padding: 4px 6px;
}}
"""


def colors_for(theme: Theme) -> Colors:
    """The colours of ``theme`` (``AUTO`` resolved against the desktop's scheme)."""
    return DARK if resolve(theme) is Theme.DARK else LIGHT


def resolve(theme: Theme) -> Theme:
    """``LIGHT`` or ``DARK``: ``AUTO`` asks Qt which scheme the desktop prefers."""
    if theme is not Theme.AUTO:
        return theme
    hints = QGuiApplication.styleHints()
    return Theme.DARK if hints.colorScheme() == Qt.ColorScheme.Dark else Theme.LIGHT


# Fusion draws a check box's frame a shade darker than the window: on the dark theme
# that is black on near-black, and an unticked box cannot be seen. Styling the indicator
# replaces Fusion's drawing, tick included, so the tick comes as an image.
_CHECK_BOX = """
QCheckBox::indicator, QMenu::indicator:non-exclusive {{
    width: 16px; height: 16px; border: 2px solid {muted}; border-radius: 4px;
    background: {surface};
}}
QCheckBox::indicator:checked, QMenu::indicator:non-exclusive:checked {{
    background: {accent}; border-color: {accent}; image: url({tick});
}}
QMenu#tray_menu::item {{ padding: 5px 22px 5px 34px; }}
QMenu#tray_menu::indicator {{ left: 9px; }}
QCheckBox::indicator:disabled {{ border-color: {border}; background: {surface_alt}; }}
QCheckBox::indicator:checked:disabled {{ background: {border}; border-color: {border}; }}
"""


def style_sheet(colors: Colors) -> str:
    """The application style sheet for ``colors``."""
    fields = {k: v for k, v in vars(colors).items() if isinstance(v, str)}
    return _STYLE.format(**fields) + _CHECK_BOX.format(**fields, tick=_tick(colors.accent_text))


@lru_cache(maxsize=4)
def _tick(color: str) -> str:
    """A tick drawn in ``color`` as a PNG file (a style sheet takes images by file only),
    in a folder of this process's, removed when it ends."""
    folder = Path(tempfile.mkdtemp(prefix="parley-theme-"))
    atexit.register(shutil.rmtree, folder, True)
    image = QImage(32, 32, QImage.Format.Format_ARGB32_Premultiplied)  # 2x: sharp on HiDPI
    image.fill(Qt.GlobalColor.transparent)
    painter = QPainter(image)
    painter.setRenderHint(QPainter.RenderHint.Antialiasing)
    pen = QPen(QColor(color), 4.5)
    pen.setCapStyle(Qt.PenCapStyle.RoundCap)
    pen.setJoinStyle(Qt.PenJoinStyle.RoundJoin)
    painter.setPen(pen)
    painter.drawPolyline([QPointF(7, 17), QPointF(13, 23), QPointF(25, 9)])
    painter.end()
    path = folder / "tick.png"
    image.save(str(path))
    return path.as_posix()


def apply_theme(app: QApplication, theme: Theme) -> Colors:
    """Style ``app`` with ``theme``; returns the colours used (for painted widgets)."""
    colors = colors_for(theme)
    app.setStyle("Fusion")  # the same metrics everywhere; native styles ignore parts of QSS
    palette = QPalette()
    roles = {
        QPalette.ColorRole.Window: colors.window,
        QPalette.ColorRole.WindowText: colors.text,
        QPalette.ColorRole.Base: colors.surface,
        QPalette.ColorRole.AlternateBase: colors.surface_alt,
        QPalette.ColorRole.Text: colors.text,
        QPalette.ColorRole.Button: colors.surface_alt,
        QPalette.ColorRole.ButtonText: colors.text,
        QPalette.ColorRole.Highlight: colors.accent,
        QPalette.ColorRole.HighlightedText: colors.accent_text,
        QPalette.ColorRole.ToolTipBase: colors.surface,
        QPalette.ColorRole.ToolTipText: colors.text,
        QPalette.ColorRole.PlaceholderText: colors.muted,
    }
    for role, value in roles.items():
        palette.setColor(role, QColor(value))
    palette.setColor(QPalette.ColorGroup.Disabled, QPalette.ColorRole.ButtonText, colors.muted)
    palette.setColor(QPalette.ColorGroup.Disabled, QPalette.ColorRole.Text, colors.muted)
    palette.setColor(QPalette.ColorGroup.Disabled, QPalette.ColorRole.WindowText, colors.muted)
    app.setPalette(palette)
    app.setStyleSheet(style_sheet(colors))
    return colors
