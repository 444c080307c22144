"""The application shell against a real server, with real clients as the other users."""

from __future__ import annotations

import asyncio
from pathlib import Path

import qasync
from PySide6.QtCore import QSettings, Qt
from PySide6.QtTest import QTest
from pytestqt.qtbot import QtBot

from app import PresenceState
from app.kit.account import LinkState, OnlineUser, Session, SignInProblem
from app.kit.local_server import ServerHandle, ServerMode
from app.main import make_client_factory
from app.qt.account import SessionBridge, TaskKeeper
from signaling.protocol import PresenceChangedEvent
from signaling.server.app import RunningServer, start_server
from signaling.server.hub import ServerConfig
from tests.support.qt import wait_until
from tests.support.signaling import TEST_SECRET, ClientFactory
from tests.ui.conftest import Parley, build_parley, close_parley
from widgets.main_window import MainWindow
from widgets.signin_page import SETTINGS_NAME, SETTINGS_USER_ID, SignInPage
from widgets.theme import LIGHT
from widgets.user_list import STATE_TEXT_ROLE


def shown_users(parley: Parley) -> dict[str, OnlineUser]:
    return {u.user_id: u for u in parley.window.home_page.model.users()}


async def sign_in(qtbot: QtBot, parley: Parley, user_id: str, name: str) -> None:
    page = parley.window.signin_page
    page.user_id_edit.clear()
    page.name_edit.clear()
    QTest.keyClicks(page.user_id_edit, user_id)
    QTest.keyClicks(page.name_edit, name)
    QTest.mouseClick(page.sign_in_button, Qt.MouseButton.LeftButton)
    await wait_until(lambda: parley.window.stack.currentWidget() is parley.window.home_page)


async def test_sign_in_lists_yourself_and_the_others_online(
    qtbot: QtBot, parley: Parley, make_client: ClientFactory
) -> None:
    await make_client("bob", "Bob")
    await make_client("carol", "Carol")
    assert parley.window.stack.currentWidget() is parley.window.signin_page

    await sign_in(qtbot, parley, "alice", "Alice")

    await wait_until(lambda: set(shown_users(parley)) == {"alice", "bob", "carol"})
    model = parley.window.home_page.model
    assert model.index(0).data() == "Alice (You)"
    assert [u.user_id for u in model.users()] == ["alice", "bob", "carol"]
    assert all(u.state is PresenceState.IDLE for u in model.users())
    assert model.index(1).data(STATE_TEXT_ROLE) == "Available"
    assert "Signed in as Alice (alice)" in parley.window.home_page.identity_label.text()
    assert "Online" in parley.window.connection_label.text()
    assert parley.window.home_page.online_label.text() == "ONLINE NOW · 3"


async def test_the_list_follows_users_coming_and_going(
    qtbot: QtBot, parley: Parley, make_client: ClientFactory
) -> None:
    await sign_in(qtbot, parley, "alice", "Alice")
    dave = await make_client("dave", "Dave")
    await wait_until(lambda: "dave" in shown_users(parley))
    assert shown_users(parley)["dave"].name == "Dave"

    await dave.close()
    await wait_until(lambda: "dave" not in shown_users(parley))
    assert set(shown_users(parley)) == {"alice"}


async def test_a_user_joining_a_call_shows_as_in_a_call(
    qtbot: QtBot, parley: Parley, make_client: ClientFactory
) -> None:
    bob = await make_client("bob", "Bob")
    await sign_in(qtbot, parley, "alice", "Alice")
    await wait_until(lambda: "bob" in shown_users(parley))

    await bob.join_room("standup", "call")
    await wait_until(lambda: shown_users(parley)["bob"].state is PresenceState.IN_CALL)
    model = parley.window.home_page.model
    row = next(i for i, u in enumerate(model.users()) if u.user_id == "bob")
    assert model.index(row).data(STATE_TEXT_ROLE) == "In a call"

    await bob.leave_room("standup")
    await wait_until(lambda: shown_users(parley)["bob"].state is PresenceState.IDLE)


async def test_an_invalid_user_id_shows_an_inline_error_and_sends_nothing(
    qtbot: QtBot, parley: Parley, server: RunningServer
) -> None:
    page = parley.window.signin_page
    QTest.keyClicks(page.user_id_edit, "not valid!")
    QTest.mouseClick(page.sign_in_button, Qt.MouseButton.LeftButton)

    assert page.error_label.isVisible()
    assert "may only contain" in page.error_label.text()
    assert page.user_id_edit.property("invalid") is True
    assert parley.tasks.pending == 0
    assert parley.bridge.link_state is LinkState.SIGNED_OUT
    assert await server.hub.store.online() == []
    assert parley.settings.value(SETTINGS_USER_ID) is None

    page.user_id_edit.clear()
    QTest.mouseClick(page.sign_in_button, Qt.MouseButton.LeftButton)
    assert page.error_label.text() == "Enter a user ID."


async def test_sign_out_returns_to_the_sign_in_page(
    qtbot: QtBot, parley: Parley, make_client: ClientFactory
) -> None:
    bob = await make_client("bob", "Bob")
    await bob.subscribe_presence()
    await sign_in(qtbot, parley, "alice", "Alice")

    QTest.mouseClick(parley.window.home_page.sign_out_button, Qt.MouseButton.LeftButton)

    await wait_until(lambda: parley.window.stack.currentWidget() is parley.window.signin_page)
    await bob.expect(PresenceChangedEvent, lambda e: e.user_id == "alice" and not e.online)
    assert parley.window.home_page.model.rowCount() == 0
    assert parley.bridge.link_state is LinkState.SIGNED_OUT
    assert "Not signed in" in parley.window.connection_label.text()


async def test_the_sign_in_is_remembered(
    qtbot: QtBot, parley: Parley, make_client: ClientFactory
) -> None:
    await sign_in(qtbot, parley, "alice", "Alice Martin")

    assert parley.settings.value(SETTINGS_USER_ID) == "alice"
    assert parley.settings.value(SETTINGS_NAME) == "Alice Martin"
    settings = QSettings(parley.settings.fileName(), QSettings.Format.IniFormat)
    again = SignInPage(parley.bridge, settings)
    qtbot.addWidget(again)
    assert again.user_id_edit.text() == "alice"
    assert again.name_edit.text() == "Alice Martin"


async def test_a_refused_sign_in_shows_why(
    qtbot: QtBot, server: RunningServer, tmp_path: Path
) -> None:
    wrong = ServerHandle(server.url, "a-different-secret-0123456789abcdef", ServerMode.REMOTE)
    parley = build_parley(qtbot, wrong, tmp_path / "settings.ini")
    try:
        page = parley.window.signin_page
        QTest.keyClicks(page.user_id_edit, "alice")
        QTest.mouseClick(page.sign_in_button, Qt.MouseButton.LeftButton)
        await wait_until(page.error_label.isVisible)
        assert page.error_label.text().startswith("The server refused the sign-in")
        assert page.sign_in_button.isEnabled()
        assert parley.window.stack.currentWidget() is page
    finally:
        await close_parley(parley)


async def test_the_call_buttons_ask_for_a_call_with_the_ids_typed(
    qtbot: QtBot, parley: Parley, make_client: ClientFactory
) -> None:
    await make_client("bob", "Bob")
    await sign_in(qtbot, parley, "alice", "Alice")
    home = parley.window.home_page
    asked: list[tuple[list[str], bool]] = []
    home.call_requested.connect(lambda ids, video: asked.append((ids, video)))
    assert home.voice_button.isEnabled()
    assert home.video_button.isEnabled()
    assert "issue 4" not in home.voice_button.toolTip()

    QTest.mouseClick(home.video_button, Qt.MouseButton.LeftButton)
    assert asked == []  # nothing typed: nobody to call
    assert home.call_hint.text() == "Type the user ID of someone to call first."

    await wait_until(lambda: "bob" in shown_users(parley))
    row = next(i for i, u in enumerate(home.model.users()) if u.user_id == "bob")
    home.user_list.doubleClicked.emit(home.model.index(row))
    assert home.callee_edit.text() == "bob"
    QTest.keyClicks(home.callee_edit, ", carol alice")
    QTest.mouseClick(home.voice_button, Qt.MouseButton.LeftButton)
    QTest.mouseClick(home.video_button, Qt.MouseButton.LeftButton)
    assert asked == [(["bob", "carol"], False), (["bob", "carol"], True)]


async def test_losing_the_server_shows_reconnecting_and_recovers(
    qtbot: QtBot, tmp_path: Path
) -> None:
    assert isinstance(asyncio.get_running_loop(), qasync.QEventLoop)
    first = await start_server(ServerConfig(secret=TEST_SECRET), "127.0.0.1", 0)
    port = first.port
    handle = ServerHandle(first.url, TEST_SECRET, ServerMode.REMOTE)
    parley = build_parley(qtbot, handle, tmp_path / "settings.ini")
    second: RunningServer | None = None
    try:
        await sign_in(qtbot, parley, "alice", "Alice")
        assert not parley.window.reconnect_banner.isVisible()

        await first.stop()
        await wait_until(parley.window.reconnect_banner.isVisible)
        assert "Reconnecting…" in parley.window.connection_label.text()
        assert parley.window.stack.currentWidget() is parley.window.home_page

        second = await start_server(ServerConfig(secret=TEST_SECRET), "127.0.0.1", port)
        await wait_until(lambda: parley.bridge.link_state is LinkState.ONLINE, timeout=10)
        assert not parley.window.reconnect_banner.isVisible()
        assert "Online" in parley.window.connection_label.text()
        await wait_until(lambda: set(shown_users(parley)) == {"alice"})
    finally:
        await close_parley(parley)
        if second is not None:
            await second.stop()


# --- the window before the server is open (as parley starts) -------------------------


def pending_window(qtbot: QtBot, tmp_path: Path) -> tuple[MainWindow, SessionBridge, TaskKeeper]:
    """The window as ``parley`` first shows it: the bridge has no session or server yet."""
    tasks = TaskKeeper()
    bridge = SessionBridge(None, None, tasks)
    settings = QSettings(str(tmp_path / "settings.ini"), QSettings.Format.IniFormat)
    window = MainWindow(bridge, settings, LIGHT)
    window.show()
    return window, bridge, tasks


async def test_signing_in_before_the_server_is_ready_waits_for_it(
    qtbot: QtBot, server: RunningServer, make_client: ClientFactory, tmp_path: Path
) -> None:
    bob = await make_client("bob", "Bob")
    await bob.subscribe_presence()
    window, bridge, tasks = pending_window(qtbot, tmp_path)
    session: Session | None = None
    try:
        page = window.signin_page
        assert window.stack.currentWidget() is page
        assert "Starting local server…" in window.server_label.text()
        assert page.sign_in_button.isEnabled()  # a click is taken, and waits
        QTest.keyClicks(page.user_id_edit, "alice")
        QTest.keyClicks(page.name_edit, "Alice")
        QTest.mouseClick(page.sign_in_button, Qt.MouseButton.LeftButton)
        assert not page.sign_in_button.isEnabled()
        assert page.sign_in_button.text() == "Starting local server…"
        await asyncio.sleep(0.1)
        assert tasks.pending == 1  # the sign-in, waiting
        waiting_state = bridge.link_state
        assert waiting_state is LinkState.SIGNED_OUT
        assert [u.user_id for u in await server.hub.store.online()] == ["bob"]

        handle = ServerHandle(server.url, TEST_SECRET, ServerMode.REMOTE)
        session = Session(make_client_factory(handle))
        bridge.attach(session, handle)
        assert page.sign_in_button.text() == "Signing in…"
        assert window.server_label.text() == f"Server · {server.url}"
        await wait_until(lambda: window.stack.currentWidget() is window.home_page)
        assert bridge.link_state is LinkState.ONLINE
        await wait_until(lambda: len(window.home_page.model.users()) == 2)
        assert [u.user_id for u in window.home_page.model.users()] == ["alice", "bob"]
        assert page.sign_in_button.isEnabled()
        assert "1–64 characters" in page.user_id_edit.toolTip()
    finally:
        await tasks.close()
        if session is not None:
            await session.close()
            # The server has handled alice leaving while the loop still runs.
            await bob.expect(PresenceChangedEvent, lambda e: e.user_id == "alice" and not e.online)
        window.close_for_good()
        window.deleteLater()


async def test_a_server_that_cannot_open_is_shown_on_the_sign_in_page(
    qtbot: QtBot, tmp_path: Path
) -> None:
    window, bridge, tasks = pending_window(qtbot, tmp_path)
    try:
        page = window.signin_page
        refused: list[tuple[SignInProblem, str]] = []
        bridge.sign_in_failed.connect(lambda problem, detail: refused.append((problem, detail)))
        QTest.keyClicks(page.user_id_edit, "alice")
        QTest.mouseClick(page.sign_in_button, Qt.MouseButton.LeftButton)
        await asyncio.sleep(0.05)
        assert tasks.pending == 1

        why = "port 8719 on 127.0.0.1 is taken by another program that is not a Parley server"
        bridge.fail(why)
        assert page.error_label.isVisible()
        assert page.error_label.text() == f"The server is not available: {why}"
        assert not page.sign_in_button.isEnabled()
        assert page.sign_in_button.text() == "Sign in"
        assert "Server unavailable" in window.server_label.text()
        assert window.server_label.toolTip() == why
        await wait_until(lambda: tasks.pending == 0)
        assert refused == [(SignInProblem.UNREACHABLE, why)]
        assert page.error_label.text() == f"The server is not available: {why}"
        assert window.stack.currentWidget() is page
    finally:
        await tasks.close()
        window.close_for_good()
        window.deleteLater()
