"""One Parley per profile, and ``parley://`` links opened in it.

A second ``parley`` on a profile is a real process: it finds the profile taken, hands
its link to the running Parley through the local socket and ends; the running one
comes forward and fills in the link — it never calls or joins by itself.
"""

from __future__ import annotations

import asyncio
import os
import subprocess
import sys
from pathlib import Path

import pytest
from PySide6.QtCore import Qt
from PySide6.QtTest import QTest
from PySide6.QtWidgets import QApplication

from app.main import Application, parse_args, profile_dir
from app.qt.single_instance import SingleInstance
from app.testing import WindowFactory, wait_until, window_options
from signaling.server.app import RunningServer
from tests.ui.room_app import modal_dialog
from widgets.join_room_dialog import JoinRoomDialog

ROOT = Path(__file__).resolve().parents[2]


async def start_parley(folder: Path, *args: str) -> tuple[int, str, str]:
    """``parley ARGS`` as its own process on the profile in ``folder``; (status, out, err)."""
    env = dict(
        os.environ,
        QT_QPA_PLATFORM="offscreen",
        PARLEY_DATA_DIR=str(folder),
        XDG_CONFIG_HOME=str(folder / "config"),
    )
    process = await asyncio.create_subprocess_exec(
        sys.executable, "-m", "app", *args, cwd=ROOT, env=env,
        stdout=asyncio.subprocess.PIPE, stderr=asyncio.subprocess.PIPE,
    )  # fmt: skip
    out, err = await asyncio.wait_for(process.communicate(), 30)
    assert process.returncode is not None
    return process.returncode, out.decode(), err.decode()


async def test_a_second_parley_on_the_profile_brings_the_first_forward_with_its_link(
    parley_window: WindowFactory,
) -> None:
    alice = await parley_window("alice")
    app = alice.app
    folder = app.options.data_dir
    assert folder is not None
    instance = SingleInstance(folder)
    assert instance.claim()
    instance.opened.connect(app.open_link)
    try:
        app.window.showMinimized()
        status, out, err = await start_parley(folder, "parley://call/bob")
        assert status == 0, err
        assert "Parley is already running for this profile: brought it to the front" in out
        assert "parley --profile NAME" in out
        home = app.window.home_page
        # Filled in, not called: the person presses the button.
        assert home.callee_edit.text() == "bob"
        assert alice.page == "home_page"
        assert not app.window.isMinimized()
        assert "To call bob, press Voice call or Video call." in (
            app.window.statusBar().currentMessage()
        )

        # Without a link the running Parley just comes forward.
        app.window.showMinimized()
        status, _, err = await start_parley(folder)
        assert status == 0, err
        assert not app.window.isMinimized()
        assert home.callee_edit.text() == "bob"
    finally:
        instance.release()
    # Released (the first Parley quit): the next start is the profile's Parley.
    assert SingleInstance(folder).claim()


async def test_a_room_link_offers_the_join_dialog_with_the_room_filled_in(
    parley_window: WindowFactory,
) -> None:
    alice = await parley_window("alice")
    alice.app.open_link("parley://room/friday-chat")
    dialog = await modal_dialog(JoinRoomDialog)
    assert isinstance(dialog, JoinRoomDialog)
    assert dialog.room_id_edit.text() == "friday-chat"
    dialog.reject()  # nothing joined until the person chooses a role and presses Join
    await wait_until(lambda: QApplication.activeModalWidget() is None)
    assert alice.page == "home_page"


async def test_a_link_that_comes_before_the_sign_in_waits_for_it(
    parley_server: RunningServer, tmp_path: Path
) -> None:
    qt_app = QApplication.instance()
    assert isinstance(qt_app, QApplication)
    application = Application(
        qt_app, window_options(tmp_path, parley_server, link="parley://call/bob")
    )
    run = asyncio.get_running_loop().create_task(application.run())
    try:
        await asyncio.sleep(0)  # run() up to its first pause: the page is shown, no more
        window = application.window
        page = window.signin_page
        assert window.statusBar().currentMessage() == (
            "Sign in, and Parley opens the link parley://call/bob."
        )
        page.user_id_edit.setText("alice")
        QTest.mouseClick(page.sign_in_button, Qt.MouseButton.LeftButton)
        await wait_until(lambda: window.stack.currentWidget() is window.home_page)
        assert window.home_page.callee_edit.text() == "bob"
    finally:
        application.request_quit()
        await asyncio.wait_for(run, 10)
        application.qt_app.setStyleSheet("")
        application.window.deleteLater()


async def test_a_broken_link_is_told_and_changes_nothing(parley_window: WindowFactory) -> None:
    alice = await parley_window("alice")
    home = alice.app.window.home_page
    home.callee_edit.setText("chloe")
    alice.app.open_link("parley://call/bob smith")
    assert home.callee_edit.text() == "chloe"
    message = alice.app.window.statusBar().currentMessage()
    assert message.startswith("This link cannot be opened: 'parley://call/bob smith' has an ID")


def test_the_command_line_takes_one_link_beside_qt_options(
    capsys: pytest.CaptureFixture[str],
) -> None:
    options, _, qt_args = parse_args(["-platform", "offscreen", "parley://room/r1"])
    assert options.link == "parley://room/r1"
    assert qt_args == ["-platform", "offscreen"]
    for argv, said in (
        (["parley://call/a b"], "'parley://call/a b' has an ID with characters other than"),
        (["parley://call/a", "parley://call/b"], "one parley:// link at a time"),
        (["parley://video/a"], "Parley opens parley://call/<user ID> and parley://room/"),
        (["--profile", "bob's"], "a profile name is 1–32 letters, digits, '-' or '_'"),
    ):
        with pytest.raises(SystemExit) as ended:
            parse_args(argv)
        assert ended.value.code == 2
        assert said in capsys.readouterr().err


def test_each_profile_has_its_own_parley(
    monkeypatch: pytest.MonkeyPatch, tmp_path: Path, qapp: QApplication
) -> None:
    monkeypatch.setenv("PARLEY_DATA_DIR", str(tmp_path))
    default, bob = profile_dir(""), profile_dir("bob")
    assert (default, bob) == (tmp_path, tmp_path / "profiles" / "bob")
    first, second = SingleInstance(default), SingleInstance(bob)
    try:
        assert first.claim()
        assert second.claim()  # another profile: runs beside it
        assert not SingleInstance(default).claim()
        assert SingleInstance(default).holder() == os.getpid()
    finally:
        first.release()
        second.release()


def test_a_profile_left_locked_by_a_parley_that_died_is_taken_over(
    tmp_path: Path, qapp: QApplication
) -> None:
    # A process takes the lock and dies without releasing it (a crash, kill -9).
    subprocess.run(
        [sys.executable, "-c",
         "import os, sys; from PySide6.QtCore import QLockFile; "
         "lock = QLockFile(sys.argv[1]); assert lock.tryLock(0); os._exit(0)",
         str(tmp_path / "parley.lock")],
        check=True, timeout=30,
    )  # fmt: skip
    assert (tmp_path / "parley.lock").exists()
    instance = SingleInstance(tmp_path)
    try:
        assert instance.claim()
    finally:
        instance.release()
