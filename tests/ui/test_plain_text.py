"""Names and messages from other people are shown as text, never rendered as HTML.

Qt's labels and tool tips guess whether a string is HTML; a display name like
``<b style=…>SECURITY ALERT</b>`` once drew as styled text in a call tile. Here a bot
with such a name (and such a message) calls, chats and hosts an audio room, and every
widget of the window is checked at each step.
"""

from __future__ import annotations

from PySide6.QtCore import Qt
from PySide6.QtWidgets import QApplication, QLabel

from app import AudioRoomRole
from app.kit.bots import Answer
from app.testing import BotFactory, RoomBotFactory, WindowFactory, wait_until

HOSTILE = '<b style="font-size:40px">SECURITY ALERT</b> call 555 0100'
# What stays of it where a long name is elided ("<b style=\"fo…").
START = HOSTILE[:12]
# The status line's dot is coloured in rich text, with everything escaped.
RICH_STATUS = {"connection_label"}


def markup_problems() -> list[str]:
    """Every label that could read HTML, and every place ``HOSTILE`` would be rendered as
    HTML (a rich-text label or a tool tip holding it, or its start, unescaped)."""
    problems = []
    for widget in QApplication.allWidgets():
        parent = widget.parentWidget()
        where = f"{type(widget).__name__} {widget.objectName()!r} in {type(parent).__name__}"
        if START in widget.toolTip():
            problems.append(f"{where}: tool tip")
        if not isinstance(widget, QLabel) or widget.textFormat() == Qt.TextFormat.PlainText:
            continue
        if widget.objectName() not in RICH_STATUS:
            problems.append(f"{where}: text format {widget.textFormat().name}")
        elif START in widget.text():
            problems.append(f"{where}: unescaped")
    return problems


def shown_as_text() -> bool:
    """Some visible label shows ``HOSTILE`` as it is, maybe elided (the test did put it
    on screen)."""
    return any(
        isinstance(w, QLabel) and w.isVisible() and START in w.text()
        for w in QApplication.allWidgets()
    )


async def test_names_and_messages_are_never_rendered_as_html(
    parley_window: WindowFactory, parley_bot: BotFactory, parley_room_bot: RoomBotFactory
) -> None:
    mallory = await parley_bot("mallory", HOSTILE, on_invited=Answer.ANSWER)
    alice = await parley_window("alice")
    home = markup_problems()

    # Mallory calls: the banner over the home page.
    await mallory.call(["alice"], video=False)
    await wait_until(lambda: alice.shows("incoming_banner"))
    await wait_until(shown_as_text)
    ringing = markup_problems()
    await mallory.cancel()
    await wait_until(lambda: not alice.shows("incoming_banner"))

    # Alice calls mallory, who answers and writes: tiles, title, chat.
    alice.call("mallory", video=False)
    await alice.wait_for_page("call_page")
    await mallory.expect("call.user.on_enter")
    session = mallory.session
    assert session is not None
    await session.chat.send(HOSTILE)
    calls = alice.app.calls
    assert calls is not None
    await wait_until(lambda: calls.session is not None and len(calls.session.chat.messages) == 1)
    await wait_until(shown_as_text)
    in_call = markup_problems()
    alice.click("bar_hang_up")
    await alice.wait_for_page("home_page")

    # Mallory hosts an audio room alice listens in: the seat grid and its tool tips.
    host = await parley_room_bot("mallory-room", HOSTILE)
    await host.join("stage", host=True)
    entry = alice.app.room_entry
    assert entry is not None
    assert await entry.join("stage", AudioRoomRole.AUDIENCE)
    await alice.wait_for_page("audio_room_page")
    await wait_until(shown_as_text)
    in_room = markup_problems()
    room_kit = alice.app.room_kit
    assert room_kit is not None
    await room_kit.leave(confirm=False)

    assert home == []
    assert ringing == []
    assert in_call == []
    assert in_room == []
