"""Colours and style sheet of the call pages.

The call stage (video, avatars, bars) stays dark in both themes, as in every calling app:
faces and video read best on a dark surround and the bars float over video. Panels that
hold text (chat, member list, dialogs, the incoming banner) follow the light or dark theme
from :mod:`widgets.theme`.
"""

from __future__ import annotations

from PySide6.QtGui import QColor

from widgets.theme import Colors

#: The stage behind video and avatars.
STAGE = "#0f1217"
#: A tile without video.
TILE = "#1d222b"
TILE_BORDER = "#2b323d"
#: Text and icons on the stage.
ON_STAGE = "#f3f5f9"
ON_STAGE_MUTED = "#a9b1bf"
#: Hang up, decline, failures: one red for all, readable on dark and light.
HANG_UP = "#e5484d"
HANG_UP_HOVER = "#f0646a"
ACCEPT = "#2fb36a"
ACCEPT_HOVER = "#3cc77a"
#: The ring and border of whoever is speaking.
SPEAKING = "#4cd38f"


def glass(alpha: int = 150) -> QColor:
    """The translucent black of bars and name tags over video."""
    return QColor(10, 12, 16, alpha)


_STYLE = """
QFrame#callStage, QFrame[kind="stage"] {{ background: {stage}; }}
QLabel#stageTitle {{ color: {on_stage}; font-size: 12.5pt; font-weight: 600; }}
QLabel#stageText {{ color: {on_stage}; }}
QLabel#stageMuted {{ color: {on_stage_muted}; }}
QLabel#stageHeadline {{ color: {on_stage}; font-size: 20pt; font-weight: 600; }}
QLabel#buttonCaption {{ color: {on_stage_muted}; font-size: 9pt; }}
QFrame#nameTag {{ background: rgba(10, 12, 16, 165); border-radius: 8px; }}
QFrame#nameTag QLabel {{ color: {on_stage}; background: transparent; font-size: 9.5pt; }}
QLabel#tileStatus {{
    background: rgba(10, 12, 16, 165); color: {on_stage}; border-radius: 8px;
    padding: 3px 8px; font-size: 9pt;
}}
QLabel#reconnecting {{
    background: {warning_bg}; color: {warning_text}; border-radius: 10px;
    padding: 6px 14px; font-weight: 600;
}}
QFrame#sidePanel {{
    background: {surface}; border-left: 1px solid {border};
}}
QLabel#panelTitle {{ font-size: 12pt; font-weight: 600; }}
QLabel#panelMuted {{ color: {muted}; font-size: 9pt; }}
QLabel#bubbleLocal {{
    background: {accent}; color: {accent_text}; border-radius: 12px;
}}
QLabel#bubbleRemote {{
    background: {surface_alt}; color: {text}; border-radius: 12px;
}}
QLabel#failed {{ color: {danger}; font-size: 9pt; }}
QPushButton#link {{
    background: transparent; border: none; color: {danger}; padding: 0 4px;
    font-weight: 600; font-size: 9pt; text-decoration: underline;
}}
QPushButton#danger {{
    background: {hang_up}; color: #ffffff; border: 1px solid {hang_up}; font-weight: 600;
}}
QPushButton#danger:hover {{ background: {hang_up_hover}; }}
QFrame[kind="banner"] {{
    background: {surface}; border: 1px solid {border}; border-radius: 16px;
}}
QMenu {{
    background: {surface}; color: {text}; border: 1px solid {border}; border-radius: 8px;
    padding: 6px;
}}
QMenu::item {{ padding: 7px 18px 7px 10px; border-radius: 6px; }}
QMenu::item:selected {{ background: {selection}; }}
QMenu::icon {{ padding-left: 6px; }}
QMenu::indicator {{ width: 0; }}
QFrame#memberRow {{ border-radius: 8px; }}
QFrame#memberRow:hover {{ background: {surface_alt}; }}
QScrollArea, QScrollArea > QWidget > QWidget#scrollBody {{ background: transparent; border: none; }}
"""


def call_style_sheet(colors: Colors) -> str:
    """The call widgets' style sheet for the theme ``colors`` (set on each call page)."""
    fields = {k: v for k, v in vars(colors).items() if isinstance(v, str)}
    return _STYLE.format(
        stage=STAGE,
        on_stage=ON_STAGE,
        on_stage_muted=ON_STAGE_MUTED,
        hang_up=HANG_UP,
        hang_up_hover=HANG_UP_HOVER,
        **fields,
    )
