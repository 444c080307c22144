"""The composition root end to end: start (hosting the local server), sign in, close.

``parley`` shows its sign-in page before it imports the network stack and opens the
server; signing in meanwhile waits for the server, and a server that cannot be opened is
still reported (and ends the app).
"""

from __future__ import annotations

import asyncio
import os
import signal
import socket
import subprocess
import sys
import time
from pathlib import Path

import pytest
from aiohttp import web
from PySide6.QtCore import Qt
from PySide6.QtTest import QTest
from PySide6.QtWidgets import QApplication

from app.kit.account import LinkState
from app.kit.local_server import ServerMode, probe_parley
from app.main import Application, parse_args
from app.testing import wait_until, window_options
from signaling.server.child_processes import die_with_parent
from tests.support.x_server import top_level_windows, x_display
from widgets.device_settings_dialog import DeviceSettingsDialog

ROOT = Path(__file__).resolve().parents[2]
# Imported only once the first page is on screen (docs/performance.md, "App").
HEAVY = ("aiohttp", "socketio", "engineio", "pydantic", "jwt", "aiortc", "av", "cv2", "numpy")


@pytest.fixture
def local_server_env(monkeypatch: pytest.MonkeyPatch, tmp_path: Path, unused_tcp_port: int) -> int:
    """A private config directory and local port; returns the port."""
    monkeypatch.setenv("XDG_CONFIG_HOME", str(tmp_path))
    monkeypatch.setenv("PARLEY_DATA_DIR", str(tmp_path / "data"))
    monkeypatch.setenv("PARLEY_LOCAL_PORT", str(unused_tcp_port))
    monkeypatch.delenv("PARLEY_SERVER_URL", raising=False)
    return unused_tcp_port


def qt_application() -> QApplication:
    qt_app = QApplication.instance()
    assert isinstance(qt_app, QApplication)
    return qt_app


async def finish(application: Application, run: asyncio.Task[int]) -> None:
    if not run.done():
        application.request_quit()
        await run
    application.qt_app.setStyleSheet("")
    if application.window is not None:
        application.window.deleteLater()


async def test_parley_starts_hosts_signs_in_and_shuts_down_cleanly(
    local_server_env: int, tmp_path: Path
) -> None:
    options, _, qt_args = parse_args(["--user-id", "alice", "--name", "Alice", "--theme", "dark"])
    assert qt_args == []
    application = Application(qt_application(), options)
    run = asyncio.get_running_loop().create_task(application.run())
    try:
        await wait_until(lambda: application.window is not None and application.window.isVisible())
        assert application.window is not None
        window = application.window
        await wait_until(lambda: window.stack.currentWidget() is window.home_page)
        assert application.server is not None
        assert application.server.mode is ServerMode.HOSTING
        assert application.account is not None
        assert application.account.state is LinkState.ONLINE
        assert window.windowTitle() == "Parley"
        assert (tmp_path / "parley" / "local-secret").exists()

        # Every feature is wired: the room kit, the history file, the device settings.
        assert application.room_kit is not None
        assert application.room_kit.bus is application.bus
        assert (tmp_path / "data" / "history.sqlite3").exists()
        assert window.home_page.history_list.is_empty
        QTest.mouseClick(window.home_page.devices_button, Qt.MouseButton.LeftButton)
        dialog = window.findChild(DeviceSettingsDialog)
        assert dialog is not None
        await wait_until(dialog.isVisible)
        dialog.reject()
        await wait_until(lambda: application.tasks.pending == 0, timeout=10)

        window.close()  # the close button: the app signs out and stops the server
        assert await asyncio.wait_for(run, 10) == 0
        assert not window.isVisible()
        assert not await probe_parley("127.0.0.1", local_server_env)
        assert application.tasks.pending == 0
    finally:
        await finish(application, run)


async def test_the_sign_in_page_comes_first_and_a_sign_in_waits_for_the_server(
    local_server_env: int,
) -> None:
    options, _, _ = parse_args(["--theme", "light"])
    application = Application(qt_application(), options)
    run = asyncio.get_running_loop().create_task(application.run())
    try:
        await asyncio.sleep(0)  # run() up to its first pause: the page is shown, no more
        window = application.window
        assert window is not None
        assert window.isVisible()
        server_at_first = application.server
        assert server_at_first is None
        assert not await probe_parley("127.0.0.1", local_server_env)
        page = window.signin_page
        assert window.stack.currentWidget() is page
        assert "Starting local server…" in window.server_label.full_text()

        page.user_id_edit.setText("alice")
        page.name_edit.setText("Alice")
        QTest.mouseClick(page.sign_in_button, Qt.MouseButton.LeftButton)
        assert page.sign_in_button.text() == "Starting local server…"
        assert not page.sign_in_button.isEnabled()

        await wait_until(lambda: window.stack.currentWidget() is window.home_page, timeout=10)
        assert application.server is not None
        assert application.server.mode is ServerMode.HOSTING
        assert application.account is not None
        assert application.account.state is LinkState.ONLINE
        assert "hosted by this window" in window.server_label.full_text()
        window.close()
        assert await asyncio.wait_for(run, 10) == 0
        assert application.tasks.pending == 0
    finally:
        await finish(application, run)


async def test_a_port_taken_by_another_program_is_reported_and_ends_the_app(
    local_server_env: int, capsys: pytest.CaptureFixture[str]
) -> None:
    other = web.Application()  # answers, but not as a Parley server
    runner = web.AppRunner(other)
    await runner.setup()
    await web.TCPSite(runner, "127.0.0.1", local_server_env).start()
    options, _, _ = parse_args([])
    application = Application(qt_application(), options)
    run = asyncio.get_running_loop().create_task(application.run())
    try:
        await asyncio.sleep(0)
        window = application.window
        assert window is not None
        assert application.bridge is not None
        failures: list[str] = []
        application.bridge.server_status_changed.connect(
            lambda status: failures.append(status.error) if status.error else None
        )
        page = window.signin_page
        page.user_id_edit.setText("alice")
        QTest.mouseClick(page.sign_in_button, Qt.MouseButton.LeftButton)

        assert await asyncio.wait_for(run, 10) == 1
        assert len(failures) == 1
        assert "not a Parley server" in failures[0]
        assert "PARLEY_LOCAL_PORT" in failures[0]
        assert page.error_label.text() == f"The server is not available: {failures[0]}"
        assert f"parley: {failures[0]}" in capsys.readouterr().err
        assert not window.isVisible()  # the app has shut down
        assert application.tasks.pending == 0
    finally:
        await finish(application, run)
        await runner.cleanup()


def test_nothing_heavy_is_imported_before_the_first_page_is_shown(
    tmp_path: Path, unused_tcp_port: int
) -> None:
    """The real ``parley`` process: the import log up to its "first page shown" line."""
    env = dict(
        os.environ,
        QT_QPA_PLATFORM="offscreen",
        PARLEY_REPORT_STARTUP="1",
        XDG_CONFIG_HOME=str(tmp_path),
        PARLEY_DATA_DIR=str(tmp_path / "data"),
        PARLEY_LOCAL_PORT=str(unused_tcp_port),
    )
    env.pop("PARLEY_SERVER_URL", None)
    imported: list[str] = []
    with subprocess.Popen(
        [sys.executable, "-X", "importtime", "-m", "app"],
        cwd=ROOT,
        env=env,
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,  # one stream: the import lines stay in order with it
        text=True,
        preexec_fn=die_with_parent(),
    ) as process:
        try:
            assert process.stdout is not None
            for line in process.stdout:
                if "parley: first page shown" in line:
                    break
                if line.startswith("import time:"):
                    imported.append(line.rsplit("|", 1)[1].strip())
            else:
                pytest.fail("parley ended without showing its first page")
        finally:
            process.kill()
    assert "widgets.signin_page" in imported
    roots = {name.split(".")[0] for name in imported}
    assert sorted(roots & set(HEAVY)) == []
    assert not [m for m in imported if m.startswith("signaling.server")]
    assert "signaling.client" not in imported
    assert "signaling.protocol" not in imported
    assert "widgets.home_page" not in imported


async def test_the_echo_user_comes_back_when_another_window_takes_over(
    local_server_env: int, tmp_path: Path
) -> None:
    first = Application(
        qt_application(), window_options(tmp_path / "a", echo=True, user_id="alice", name="A")
    )
    second = Application(
        qt_application(), window_options(tmp_path / "b", echo=True, user_id="bob", name="B")
    )
    try:
        assert await first.start()
        assert await second.start()
        assert second.server is not None
        assert second.server.mode is ServerMode.SHARED

        def echo_online() -> bool:
            return "echo" in {u.user_id for u in second.bridge.users}

        await wait_until(echo_online, 10)
        assert second.echo is None  # the first window's echo user
        await first.shutdown()  # the host quits: its server and echo user go with it
        await wait_until(
            lambda: second.server is not None and second.server.mode is ServerMode.HOSTING, 30
        )
        await wait_until(lambda: second.echo is not None, 10)  # the new host starts one
        await wait_until(echo_online, 15)
    finally:
        await first.shutdown()
        await second.shutdown()


@pytest.mark.slow
def test_the_window_is_named_parley_for_the_desktop(tmp_path: Path, unused_tcp_port: int) -> None:
    """Docks match a window to ``parley.desktop`` by its WM_CLASS: a real X server's view.

    ``python -m app`` (as the installer's launcher runs it) made ``__main__.py`` of it.
    """
    with x_display() as display:
        env = dict(
            os.environ,
            DISPLAY=display,
            QT_QPA_PLATFORM="xcb",
            XDG_CONFIG_HOME=str(tmp_path),
            PARLEY_DATA_DIR=str(tmp_path / "data"),
            PARLEY_LOCAL_PORT=str(unused_tcp_port),
        )
        env.pop("PARLEY_SERVER_URL", None)
        with subprocess.Popen(
            [sys.executable, "-m", "app"],
            cwd=ROOT, env=env, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
            preexec_fn=die_with_parent(),
        ) as process:  # fmt: skip
            try:
                classes = _wm_classes_when_shown(display, process)
            finally:
                process.kill()
    assert classes == {("parley", "Parley")}


def _wm_classes_when_shown(display: str, process: subprocess.Popen[bytes]) -> set[tuple[str, str]]:
    """The WM_CLASS of every top-level window titled "Parley…", once there is one."""
    for _ in range(600):  # 30 s: a loaded CI machine starts Parley slowly
        if process.poll() is not None:
            pytest.fail(f"parley ended ({process.returncode}) before showing a window")
        found = {w.wm_class for w in top_level_windows(display) if w.title.startswith("Parley")}
        if found:
            return found
        time.sleep(0.05)
    pytest.fail("no Parley window appeared on the X server within 30 s")


@pytest.mark.slow
async def test_ctrl_c_ends_a_signed_in_parley_cleanly(tmp_path: Path, unused_tcp_port: int) -> None:
    """Ctrl+C (SIGINT) is an orderly quit: exit status 0, no traceback. The socket.io
    client used to put its own SIGINT handler in place, which cancelled every task."""
    env = dict(
        os.environ,
        QT_QPA_PLATFORM="offscreen",
        XDG_CONFIG_HOME=str(tmp_path),
        PARLEY_DATA_DIR=str(tmp_path / "data"),
        PARLEY_LOCAL_PORT=str(unused_tcp_port),
    )
    env.pop("PARLEY_SERVER_URL", None)
    process = await asyncio.create_subprocess_exec(
        sys.executable, "-m", "app", "--user-id", "alice", cwd=ROOT, env=env,
        stdout=asyncio.subprocess.PIPE, stderr=asyncio.subprocess.PIPE,
    )  # fmt: skip
    try:
        await wait_until(lambda: probe_parley_sync(unused_tcp_port), timeout=20)
        await asyncio.sleep(1.5)  # signed in: the socket.io client is connected
        process.send_signal(signal.SIGINT)
        _out, err = await asyncio.wait_for(process.communicate(), 20)
    finally:
        if process.returncode is None:
            process.kill()
            await process.wait()
    assert "Traceback" not in err.decode(), err.decode()
    assert process.returncode == 0


def probe_parley_sync(port: int) -> bool:
    """Whether something accepts connections on ``port`` (the local server is up)."""
    try:
        socket.create_connection(("127.0.0.1", port), timeout=0.2).close()
    except OSError:
        return False
    return True
