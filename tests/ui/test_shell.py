"""The application shell against a real server, with real clients as the other users."""

from __future__ import annotations

import asyncio
from pathlib import Path

import qasync
from PySide6.QtCore import QSettings, Qt
from PySide6.QtTest import QTest
from PySide6.QtWidgets import QApplication, QWidget
from pytestqt.qtbot import QtBot

from app import PresenceState
from app.kit.account import LinkState, OnlineUser, SignInProblem
from app.kit.local_server import ServerError, ServerHandle, ServerMode
from app.main import Application
from app.testing import wait_until, window_options
from signaling.client_events import ConnectionState, ConnectionStateChanged
from signaling.enums import CallType
from signaling.protocol import (
    InvitationCancelledEvent,
    InvitationReceivedEvent,
    PresenceChangedEvent,
)
from signaling.server.app import RunningServer, start_server
from signaling.server.hub import ServerConfig
from signaling.tls import server_context
from tests.support.signaling import TEST_SECRET, ClientFactory
from tests.support.test_ca import TestCA
from tests.ui.conftest import close_app
from widgets.signin_page import SETTINGS_NAME, SETTINGS_USER_ID, SignInPage
from widgets.user_list import STATE_TEXT_ROLE

Parley = Application


async def started(server: ServerHandle, folder: Path) -> Application:
    """A signed-out window on ``server`` (which may refuse it), as ``parley`` opens it."""
    qt_app = QApplication.instance()
    assert isinstance(qt_app, QApplication)
    app = Application(qt_app, window_options(folder, server=server))
    assert await app.start()
    return app


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
    assert "sign in" not in {task.get_name() for task in parley.tasks.tasks}
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


async def test_signed_in_somewhere_else_shows_the_sign_in_page_saying_why(
    qtbot: QtBot, parley: Parley, make_client: ClientFactory
) -> None:
    await sign_in(qtbot, parley, "alice", "Alice")
    other = await make_client("alice", "Alice")  # the same user on another device

    window = parley.window
    await wait_until(lambda: window.stack.currentWidget() is window.signin_page)
    assert "signed in as alice somewhere else" in window.signin_page.error_label.text()
    assert parley.bridge.link_state is LinkState.SIGNED_IN_ELSEWHERE
    # Signing in here again takes the session back (and ends the other one).
    QTest.mouseClick(window.signin_page.sign_in_button, Qt.MouseButton.LeftButton)
    await wait_until(lambda: window.stack.currentWidget() is window.home_page)
    assert not window.signin_page.error_label.isVisible()
    await other.expect(ConnectionStateChanged, lambda e: e.state is ConnectionState.KICKED)


async def test_the_sign_in_is_remembered(
    qtbot: QtBot, parley: Parley, make_client: ClientFactory
) -> None:
    await sign_in(qtbot, parley, "alice", "Alice Martin")

    assert parley.settings.value(SETTINGS_USER_ID) == "alice"
    assert parley.settings.value(SETTINGS_NAME) == "Alice Martin"
    settings = QSettings(parley.settings.fileName(), QSettings.Format.IniFormat)
    host = QWidget()  # a child, as in the window (a top-level warns offscreen)
    qtbot.addWidget(host)
    again = SignInPage(settings, host)
    assert again.user_id_edit.text() == "alice"
    assert again.name_edit.text() == "Alice Martin"
    # Someone else at the same computer types their own ID: it replaces the remembered
    # one (the caret used to sit after it: "alicebob").
    host.show()
    await wait_until(again.user_id_edit.hasFocus)
    QTest.keyClicks(again.user_id_edit, "bob")
    assert again.user_id_edit.text() == "bob"


async def test_a_refused_sign_in_shows_why(
    qtbot: QtBot, server: RunningServer, tmp_path: Path
) -> None:
    wrong = ServerHandle(server.url, "a-different-secret-0123456789abcdef", ServerMode.REMOTE)
    parley = await started(wrong, tmp_path)
    try:
        page = parley.window.signin_page
        QTest.keyClicks(page.user_id_edit, "alice")
        QTest.mouseClick(page.sign_in_button, Qt.MouseButton.LeftButton)
        await wait_until(page.error_label.isVisible)
        assert page.error_label.text().startswith("The server refused the sign-in")
        assert page.sign_in_button.isEnabled()
        assert parley.window.stack.currentWidget() is page
    finally:
        await close_app(parley)


async def test_the_call_buttons_ask_for_a_call_with_the_ids_typed(
    qtbot: QtBot, parley: Parley, make_client: ClientFactory
) -> None:
    bob = await make_client("bob", "Bob")
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
    assert home.call_hint.text() == "Bob is in the call field: press Voice call or Video call."
    home.callee_edit.clear()
    # The keyboard does the same: the row under the cursor, Enter.
    home.user_list.setFocus()
    home.user_list.setCurrentIndex(home.model.index(row))
    QTest.keyClick(home.user_list, Qt.Key.Key_Return)
    assert home.callee_edit.text() == "bob"
    QTest.keyClicks(home.callee_edit, ", carol alice")
    QTest.mouseClick(home.voice_button, Qt.MouseButton.LeftButton)
    assert asked == [(["bob", "carol"], False)]

    # The window really calls: a group voice call, bob's phone rings (carol is offline).
    invitation = await bob.expect(InvitationReceivedEvent)
    assert invitation.call_type is CallType.VOICE
    assert [u.user_id for u in invitation.invitees] == ["bob", "carol"]
    kit = parley.call_kit
    assert kit is not None
    await wait_until(lambda: kit.session is not None)
    assert await kit.controller.hang_up(show_confirmation=False)
    await bob.expect(InvitationCancelledEvent)
    await wait_until(lambda: shown_users(parley)["alice"].state is PresenceState.IDLE)


async def test_losing_the_server_shows_reconnecting_and_recovers(
    qtbot: QtBot, tmp_path: Path
) -> None:
    assert isinstance(asyncio.get_running_loop(), qasync.QEventLoop)
    first = await start_server(ServerConfig(secret=TEST_SECRET), "127.0.0.1", 0)
    port = first.port
    handle = ServerHandle(first.url, TEST_SECRET, ServerMode.REMOTE)
    parley = await started(handle, tmp_path)
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
        await close_app(parley)
        if second is not None:
            await second.stop()


# --- the window before the server is open (as parley starts) -------------------------


def pending_app(tmp_path: Path, opened: asyncio.Future[ServerHandle]) -> Application:
    """The window as ``parley`` first shows it: its server opens when ``opened`` is set."""
    qt_app = QApplication.instance()
    assert isinstance(qt_app, QApplication)

    async def open_server() -> ServerHandle:
        return await opened

    return Application(qt_app, window_options(tmp_path, server=open_server))


async def test_signing_in_before_the_server_is_ready_waits_for_it(
    qtbot: QtBot, server: RunningServer, make_client: ClientFactory, tmp_path: Path
) -> None:
    bob = await make_client("bob", "Bob")
    await bob.subscribe_presence()
    opened: asyncio.Future[ServerHandle] = asyncio.get_running_loop().create_future()
    app = pending_app(tmp_path, opened)
    window, bridge, tasks = app.window, app.bridge, app.tasks
    start = asyncio.get_running_loop().create_task(app.start())
    try:
        await wait_until(window.isVisible)
        page = window.signin_page
        assert window.stack.currentWidget() is page
        assert "Connecting to the server…" in window.server_label.full_text()
        assert page.sign_in_button.isEnabled()  # a click is taken, and waits
        QTest.keyClicks(page.user_id_edit, "alice")
        QTest.keyClicks(page.name_edit, "Alice")
        QTest.mouseClick(page.sign_in_button, Qt.MouseButton.LeftButton)
        assert not page.sign_in_button.isEnabled()
        assert page.sign_in_button.text() == "Connecting to the server…"
        await asyncio.sleep(0.1)
        assert tasks.pending == 1  # the sign-in, waiting
        waiting_state = bridge.link_state
        assert waiting_state is LinkState.SIGNED_OUT
        assert [u.user_id for u in await server.hub.store.online()] == ["bob"]

        opened.set_result(ServerHandle(server.url, TEST_SECRET, ServerMode.REMOTE))
        assert await start
        await wait_until(lambda: page.sign_in_button.text() == "Signing in…" or page.isHidden())
        assert window.server_label.full_text() == f"Server · {server.url}"
        await wait_until(lambda: window.stack.currentWidget() is window.home_page)
        assert bridge.link_state is LinkState.ONLINE
        await wait_until(lambda: len(window.home_page.model.users()) == 2)
        assert [u.user_id for u in window.home_page.model.users()] == ["alice", "bob"]
        assert page.sign_in_button.isEnabled()
        assert "1–64 characters" in page.user_id_edit.toolTip()
    finally:
        await close_app(app)
        # The server has handled alice leaving while the loop still runs.
        await bob.expect(PresenceChangedEvent, lambda e: e.user_id == "alice" and not e.online)


async def test_a_server_that_cannot_open_is_shown_on_the_sign_in_page(
    qtbot: QtBot, tmp_path: Path
) -> None:
    opened: asyncio.Future[ServerHandle] = asyncio.get_running_loop().create_future()
    app = pending_app(tmp_path, opened)
    window, bridge, tasks = app.window, app.bridge, app.tasks
    start = asyncio.get_running_loop().create_task(app.start())
    try:
        await wait_until(window.isVisible)
        page = window.signin_page
        refused: list[tuple[SignInProblem, str]] = []
        bridge.sign_in_failed.connect(lambda problem, detail: refused.append((problem, detail)))
        QTest.keyClicks(page.user_id_edit, "alice")
        QTest.mouseClick(page.sign_in_button, Qt.MouseButton.LeftButton)
        await asyncio.sleep(0.05)
        assert tasks.pending == 1

        why = "port 8719 on 127.0.0.1 is taken by another program that is not a Parley server"
        opened.set_exception(ServerError(why))
        assert not await start
        assert page.error_label.isVisible()
        assert page.error_label.text() == f"The server is not available: {why}"
        assert not page.sign_in_button.isEnabled()
        assert page.sign_in_button.text() == "Sign in"
        assert "Server unavailable" in window.server_label.full_text()
        assert window.server_label.toolTip() == why
        await wait_until(lambda: tasks.pending == 0)
        assert refused == [(SignInProblem.UNREACHABLE, why)]
        assert page.error_label.text() == f"The server is not available: {why}"
        assert window.stack.currentWidget() is page
    finally:
        await close_app(app)


# --- a server reached over TLS, or not ---------------------------------------------------


async def test_the_window_signs_in_to_a_tls_server_with_its_own_ca(
    qtbot: QtBot, tmp_path: Path
) -> None:
    ca = TestCA(tmp_path)
    files = ca.issue("127.0.0.1")
    server = await start_server(
        ServerConfig(secret=TEST_SECRET),
        "127.0.0.1",
        0,
        ssl_context=server_context(files.cert, files.key),
    )
    opened: asyncio.Future[ServerHandle] = asyncio.get_running_loop().create_future()
    opened.set_result(
        ServerHandle(server.url, TEST_SECRET, ServerMode.REMOTE, ca_file=str(ca.ca_file))
    )
    app = pending_app(tmp_path, opened)
    try:
        assert await app.start()
        window = app.window
        assert window.server_label.full_text() == f"Server · {server.url}"  # no warning
        app.bridge.sign_in("alice", "Alice")
        await wait_until(lambda: window.stack.currentWidget() is window.home_page)
        assert [s.user_id for s in await server.hub.store.online()] == ["alice"]
    finally:
        await close_app(app)
        await server.stop()


async def test_an_unencrypted_server_on_the_network_is_flagged(
    qtbot: QtBot, tmp_path: Path
) -> None:
    opened: asyncio.Future[ServerHandle] = asyncio.get_running_loop().create_future()
    opened.set_result(ServerHandle("http://192.0.2.7:8719", TEST_SECRET, ServerMode.REMOTE))
    app = pending_app(tmp_path, opened)
    try:
        assert await app.start()
        label = app.window.server_label
        assert "Server · http://192.0.2.7:8719 · not encrypted" in label.full_text()
        assert "without TLS" in label.toolTip()
        await asyncio.sleep(0.05)  # let the status bar lay the longer text out
        app.window.grab().save(str(tmp_path / "unencrypted.png"))
    finally:
        await close_app(app)


async def test_calling_an_id_nobody_is_signed_in_as_says_so(
    qtbot: QtBot, parley: Parley, tmp_path: Path
) -> None:
    await sign_in(qtbot, parley, "alice", "Alice")
    home = parley.window.home_page

    QTest.keyClicks(home.callee_edit, "bobb")
    QTest.mouseClick(home.voice_button, Qt.MouseButton.LeftButton)

    status = parley.window.statusBar()
    await wait_until(lambda: "not online" in status.currentMessage())
    assert status.currentMessage() == "bobb is not online — check the user ID."
    assert parley.window.stack.currentWidget() is home  # nothing rings, nothing opens
    parley.window.grab().save(str(tmp_path / "offline.png"))
