"""Colours and style sheet of the audio-room page, on top of the call pages' style.

The room's stage (seats, bars) stays dark in both themes, like the call stage: avatars and
the sound-wave rings read best on a dark surround, and the room looks the same as a call
with the camera off. The message and member panels, menus and dialogs follow the theme.
"""

from __future__ import annotations

from widgets import call_style
from widgets.call_style import call_style_sheet
from widgets.theme import Colors

#: The host's badge: warm, so the host stands out among the seats.
HOST_BADGE = "#f2b538"
HOST_BADGE_TEXT = "#2b1d00"
#: The co-host's badge: cool, clearly a different rank from the host's.
COHOST_BADGE = "#6fa2f0"
COHOST_BADGE_TEXT = "#0b1a33"
#: An empty seat's disc and outline on the stage.
EMPTY_SEAT_FILL = (255, 255, 255, 22)
EMPTY_SEAT_BORDER = (255, 255, 255, 70)

_EXTRA = """
QLabel#seatName {{ color: {on_stage}; font-size: 9.5pt; background: transparent; }}
QLabel#seatNameEmpty {{ color: {on_stage_muted}; font-size: 9pt; background: transparent; }}
QLabel#hostBadge, QLabel#cohostBadge {{
    border-radius: 7px; padding: 0 6px; font-size: 7.5pt; font-weight: 700;
}}
QLabel#hostBadge {{ background: {host}; color: {host_text}; }}
QLabel#cohostBadge {{ background: {cohost}; color: {cohost_text}; }}
QLabel#micOffBadge {{ background: {hang_up}; border-radius: 10px; }}
QPushButton#applyButton {{
    background: {accent}; color: {accent_text}; border: none; border-radius: 20px;
    padding: 0 18px; min-height: 40px; font-weight: 600;
}}
QPushButton#applyButton:hover {{ background: {accent_hover}; }}
QPushButton#applyButton[requesting="true"] {{
    background: rgba(255, 255, 255, 42); color: {on_stage};
}}
QPushButton#applyButton[requesting="true"]:hover {{ background: rgba(255, 255, 255, 70); }}
QFrame#inviteCard {{
    background: {surface}; border: 1px solid {border}; border-radius: 16px;
}}
QPushButton#accept {{
    background: {accept}; color: #ffffff; border: 1px solid {accept}; font-weight: 600;
}}
QPushButton#accept:hover {{ background: {accept_hover}; }}
QPushButton#agree {{
    background: {accent}; color: {accent_text}; border: 1px solid {accent};
    padding: 3px 10px; min-height: 18px; font-weight: 600; font-size: 9pt;
}}
QPushButton#agree:hover {{ background: {accent_hover}; }}
QPushButton#disagree {{ padding: 3px 10px; min-height: 18px; font-size: 9pt; }}
QLabel#roleLabel {{ color: {muted}; font-size: 9pt; }}
QLabel#requestLabel {{ color: {accent}; font-size: 9pt; font-weight: 600; }}
"""


def room_style_sheet(colors: Colors) -> str:
    """The audio-room page's style sheet: the call widgets' rules plus the room's own."""
    fields = {k: v for k, v in vars(colors).items() if isinstance(v, str)}
    extra = _EXTRA.format(
        on_stage=call_style.ON_STAGE,
        on_stage_muted=call_style.ON_STAGE_MUTED,
        host=HOST_BADGE,
        host_text=HOST_BADGE_TEXT,
        cohost=COHOST_BADGE,
        cohost_text=COHOST_BADGE_TEXT,
        hang_up=call_style.HANG_UP,
        accept=call_style.ACCEPT,
        accept_hover=call_style.ACCEPT_HOVER,
        **fields,
    )
    return call_style_sheet(colors) + extra
