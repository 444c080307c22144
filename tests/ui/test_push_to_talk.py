"""Push to talk, as a person uses it: the call starts silent, Space held in the window is
talk, let go is silence; Space typed into a text field stays text."""

from __future__ import annotations

from PySide6.QtCore import Qt
from PySide6.QtTest import QTest
from PySide6.QtWidgets import QApplication, QLineEdit

from app.kit.bots import Answer
from app.kit.call.invitations import Phase
from app.testing import BotFactory, WindowFactory, wait_until


async def test_the_microphone_is_on_only_while_space_is_held(
    parley_window: WindowFactory, parley_bot: BotFactory
) -> None:
    alice = await parley_window("alice")
    app = alice.app
    app.preferences.update(push_to_talk=True)
    bob = await parley_bot("bob", on_invited=Answer.ANSWER)
    calls = app.calls
    assert calls is not None
    calls.call(["bob"], False)
    await wait_until(lambda: calls.phase is Phase.IN_CALL)
    await bob.expect("call.user.on_enter")

    def alice_heard_as() -> bool | None:
        session = bob.session
        member = session.members.get("alice") if session is not None else None
        return member.microphone if member is not None else None

    await wait_until(lambda: alice_heard_as() is False)  # silent until Space is held
    window = app.window
    window.activateWindow()
    await wait_until(lambda: QApplication.activeWindow() is window)
    QTest.keyPress(window, Qt.Key.Key_Space)
    await wait_until(lambda: alice_heard_as() is True)
    QTest.keyRelease(window, Qt.Key.Key_Space)
    await wait_until(lambda: alice_heard_as() is False)

    # Space typed into a text field is text.
    field = QLineEdit(window)
    field.show()
    field.setFocus()
    await wait_until(lambda: QApplication.focusWidget() is field)
    QTest.keyClick(field, Qt.Key.Key_Space)
    assert field.text() == " "
    assert alice_heard_as() is False
    field.deleteLater()
    assert await bob.hang_up()
