"""Signing in to *a server* from the real window: an account's password over TLS, a new
account with an invite code, the sign-in kept for the next start, signing out ending it;
two windows with their own folders on one machine. No window holds the server's secret."""

from __future__ import annotations

import json
from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

import pytest
import pytest_asyncio
from PySide6.QtCore import QPoint, Qt
from PySide6.QtTest import QTest
from PySide6.QtWidgets import QAbstractButton, QApplication, QWidget
from pytestqt.qtbot import QtBot

from app.kit.credentials import Credentials, FileStore
from app.kit.local_server import ServerHandle, ServerMode
from app.main import Application
from app.testing import wait_until, window_options
from signaling.accounts_client import AccountsClient
from signaling.errors import SignalingError
from signaling.server.accounts import AccountDb
from signaling.server.app import RunningServer, start_server
from signaling.server.hub import ServerConfig
from signaling.tls import server_context
from tests.support.accounts import CHEAP_HASHER, PASSWORD
from tests.support.signaling import TEST_SECRET
from tests.support.test_ca import TestCA
from tests.ui.conftest import close_app
from widgets.signin_page import MODE_SERVER, SignInPage

pytestmark = pytest.mark.timeout(90)
#: The account server's own secret: the windows never see it.
SERVER_SECRET = "the-account-servers-own-secret-0123456789"


class Lab:
    """A TLS server with accounts, its CA, and a plain server standing for each window's
    local one (This computer)."""

    def __init__(self, tmp_path: Path, ca: TestCA, server: RunningServer, db: AccountDb) -> None:
        self.tmp_path, self.ca, self.server, self.db = tmp_path, ca, server, db

    async def window(self, name: str, local: RunningServer, **options: Any) -> Application:
        qt_app = QApplication.instance()
        assert isinstance(qt_app, QApplication)
        handle = ServerHandle(local.url, TEST_SECRET, ServerMode.SHARED)
        app = Application(
            qt_app,
            window_options(
                self.tmp_path / name, server=handle, ca_file=str(self.ca.ca_file), **options
            ),
        )
        assert await app.start()
        return app


@pytest_asyncio.fixture
async def lab(tmp_path: Path) -> AsyncIterator[Lab]:
    ca = TestCA(tmp_path)
    files = ca.issue("127.0.0.1")
    db = AccountDb(tmp_path / "accounts.db", CHEAP_HASHER)
    server = await start_server(
        ServerConfig(secret=SERVER_SECRET),
        ssl_context=server_context(files.cert, files.key),
        accounts=db,
    )
    try:
        yield Lab(tmp_path, ca, server, db)
    finally:
        await server.stop()
        db.close()


@pytest_asyncio.fixture
async def local() -> AsyncIterator[RunningServer]:
    running = await start_server(ServerConfig(secret=TEST_SECRET))
    try:
        yield running
    finally:
        await running.stop()


def fill_in(page: SignInPage, **fields: str) -> None:
    """Type into the page's fields as a person would (``server``, ``user_id`` ...)."""
    for field, text in fields.items():
        edit = getattr(page, f"{field}_edit")
        edit.clear()
        QTest.keyClicks(edit, text)


def click(button: QAbstractButton) -> None:
    # Near the left edge: a check box takes clicks on its box and text, not on the
    # empty rest of its row.
    at = QPoint(min(8, button.width() // 2), button.height() // 2)
    QTest.mouseClick(button, Qt.MouseButton.LeftButton, Qt.KeyboardModifier.NoModifier, at)


def ask_to_sign_in(page: SignInPage, url: str, user_id: str = "alice") -> None:
    """*A server*, the address, the user ID and PASSWORD typed, Sign in pressed."""
    click(page.server_button)
    fill_in(page, server=url, user_id=user_id, password=PASSWORD)
    click(page.sign_in_button)


async def signed_in_to_lab(app: Application, lab: Lab) -> None:
    """Alice signs in to the lab's server from ``app``'s page, and it shows home."""
    ask_to_sign_in(app.window.signin_page, lab.server.url)
    await wait_until(lambda: app.window.stack.currentWidget() is app.window.home_page)


def kept(folder: Path) -> dict[str, str]:
    path = folder / "sign-ins.json"
    return json.loads(path.read_text()) if path.exists() else {}


async def test_two_windows_sign_in_and_up_over_tls_and_see_each_other(
    qtbot: QtBot, lab: Lab, local: RunningServer
) -> None:
    lab.db.add_user("alice", "Alice Martin", PASSWORD)
    code = lab.db.create_invite()
    alice = await lab.window("alice", local)
    bob = await lab.window("bob", local)
    try:
        page = alice.window.signin_page
        click(page.server_button)
        assert page.password_edit.isVisible()
        assert not page.name_edit.isVisible()
        await signed_in_to_lab(alice, lab)
        assert alice.bridge.me is not None
        assert alice.bridge.me.name == "Alice Martin"  # the account's name
        assert alice.window.server_label.full_text() == f"Server · {lab.server.url}"

        page = bob.window.signin_page
        click(page.server_button)
        click(page.create_check)
        assert page.invite_edit.isVisible()
        assert page.name_edit.isVisible()
        assert page.sign_in_button.text() == "Create account"
        fill_in(
            page,
            server=lab.server.url.removeprefix("https://"),  # as people type it
            user_id="bob",
            password="bobs new password",
            name="Bob Builder",
            invite=code,
        )
        click(page.sign_in_button)
        await wait_until(lambda: bob.window.stack.currentWidget() is bob.window.home_page)
        assert [u.user_id for u in lab.db.users()] == ["alice", "bob"]
        await wait_until(lambda: {u.user_id for u in alice.bridge.users} == {"alice", "bob"})
        await wait_until(lambda: {u.user_id for u in bob.bridge.users} == {"alice", "bob"})
        # Nothing a window keeps is the server's secret, nor a password.
        for folder in ("alice", "bob"):
            stored = "".join(
                p.read_text()
                for p in (lab.tmp_path / folder).glob("*.*")
                if p.suffix in (".ini", ".json")
            )
            assert SERVER_SECRET not in stored
            assert PASSWORD not in stored
            assert "bobs new password" not in stored
            assert len(kept(lab.tmp_path / folder)) == 1
    finally:
        await close_app(alice)
        await close_app(bob)


async def test_a_wrong_password_says_so_and_keeps_nothing(
    qtbot: QtBot, lab: Lab, local: RunningServer
) -> None:
    lab.db.add_user("alice", "Alice", PASSWORD)
    app = await lab.window("alice", local)
    try:
        page = app.window.signin_page
        click(page.server_button)
        fill_in(page, server=lab.server.url, user_id="alice", password="not it")
        click(page.sign_in_button)
        await wait_until(lambda: page.error_label.isVisible())
        assert "user ID or the password is wrong" in page.error_label.text()
        assert page.password_edit.text() == ""
        assert page.sign_in_button.isEnabled()
        assert app.window.stack.currentWidget() is page
        assert kept(lab.tmp_path / "alice") == {}

        fill_in(page, server="https://host/with/a/path", password="x")
        click(page.sign_in_button)
        assert "Check the server address" in page.error_label.text()
    finally:
        await close_app(app)


async def test_the_next_start_is_signed_in_and_signing_out_ends_it_on_the_server(
    qtbot: QtBot, lab: Lab, local: RunningServer
) -> None:
    lab.db.add_user("alice", "Alice", PASSWORD)
    folder = lab.tmp_path / "alice"
    first = await lab.window("alice", local)
    try:
        await signed_in_to_lab(first, lab)
    finally:
        await close_app(first)
    (token,) = kept(folder).values()

    second = await lab.window("alice", local)  # no password typed
    try:
        await wait_until(lambda: second.window.stack.currentWidget() is second.window.home_page)
        assert second.window.signin_page.mode == MODE_SERVER
        (renewed,) = kept(folder).values()
        assert renewed != token  # spent and replaced
        with pytest.raises(SignalingError):
            await AccountsClient(lab.server.url, ca_file=str(lab.ca.ca_file)).refresh(token)

        second.bridge.sign_out()
        await wait_until(lambda: second.window.stack.currentWidget() is second.window.signin_page)
        await wait_until(lambda: kept(folder) == {})
        with pytest.raises(SignalingError):
            await AccountsClient(lab.server.url, ca_file=str(lab.ca.ca_file)).refresh(renewed)
    finally:
        await close_app(second)

    third = await lab.window("alice", local)
    try:
        page = third.window.signin_page
        assert third.window.stack.currentWidget() is page  # signed out: asks again
        assert page.mode == MODE_SERVER
        assert page.server_edit.text() == lab.server.url
        assert page.user_id_edit.text() == "alice"
    finally:
        await close_app(third)


async def test_without_a_keyring_the_window_says_where_the_sign_in_is_kept(
    qtbot: QtBot, lab: Lab, local: RunningServer
) -> None:
    lab.db.add_user("alice", "Alice", PASSWORD)
    store = FileStore(lab.tmp_path / "alice" / "sign-ins.json")
    warning = f"No unlocked keyring: your sign-in is kept in {store.path}"
    app = await lab.window("alice", local, credentials=Credentials(store, warning))
    notices: list[str] = []
    app.bridge.notice.connect(notices.append)
    try:
        ask_to_sign_in(app.window.signin_page, lab.server.url)
        await wait_until(lambda: notices == [warning])
    finally:
        await close_app(app)


def test_tab_runs_down_the_page_as_it_is_drawn(qtbot: QtBot, tmp_path: Path) -> None:
    from PySide6.QtCore import QSettings

    page = SignInPage(QSettings(str(tmp_path / "s.ini"), QSettings.Format.IniFormat))
    qtbot.addWidget(page)
    page.set_mode(MODE_SERVER)
    page.create_check.setChecked(True)
    order = []
    widget: QWidget | None = page.server_edit
    for _ in range(6):
        assert widget is not None
        order.append(widget.objectName())
        widget = widget.nextInFocusChain()
        while widget is not None and (
            not widget.isVisibleTo(page) or widget.focusPolicy() == Qt.FocusPolicy.NoFocus
        ):
            widget = widget.nextInFocusChain()
    assert order == [
        "server_edit",
        "user_id_edit",
        "password_edit",
        "create_check",
        "name_edit",
        "invite_edit",
    ]


async def test_a_kept_sign_in_ended_on_the_server_asks_for_the_password_again(
    qtbot: QtBot, lab: Lab, local: RunningServer
) -> None:
    lab.db.add_user("alice", "Alice", PASSWORD)
    first = await lab.window("alice", local)
    try:
        await signed_in_to_lab(first, lab)
    finally:
        await close_app(first)
    lab.db.set_password("alice", "a brand new password")  # ends every sign-in of hers

    second = await lab.window("alice", local)
    try:
        page = second.window.signin_page
        await wait_until(lambda: page.error_label.isVisible())
        assert "your sign-in has ended" in page.error_label.text()
        assert page.sign_in_button.isEnabled()
        assert page.sign_in_button.text() == "Sign in"
        assert second.window.stack.currentWidget() is page
        assert kept(lab.tmp_path / "alice") == {}  # the dead token is forgotten
    finally:
        await close_app(second)
