"""The composition root end to end: start (hosting the local server), sign in, close."""

from __future__ import annotations

import asyncio
from pathlib import Path

import pytest
from PySide6.QtWidgets import QApplication

from app.local_server import ServerMode, probe_parley
from app.main import Application, parse_args
from app.session import LinkState
from tests.support.qt import wait_until


async def test_parley_starts_hosts_signs_in_and_shuts_down_cleanly(
    monkeypatch: pytest.MonkeyPatch, tmp_path: Path, unused_tcp_port: int
) -> None:
    monkeypatch.setenv("XDG_CONFIG_HOME", str(tmp_path))
    monkeypatch.setenv("PARLEY_LOCAL_PORT", str(unused_tcp_port))
    monkeypatch.delenv("PARLEY_SERVER_URL", raising=False)
    qt_app = QApplication.instance()
    assert isinstance(qt_app, QApplication)
    args, qt_args = parse_args(["--user-id", "alice", "--name", "Alice", "--theme", "dark"])
    assert qt_args == []
    application = Application(qt_app, args)
    run = asyncio.get_running_loop().create_task(application.run())
    try:
        await wait_until(lambda: application.window is not None and application.window.isVisible())
        assert application.window is not None
        window = application.window
        await wait_until(lambda: window.stack.currentWidget() is window.home_page)
        assert application.server is not None
        assert application.server.mode is ServerMode.HOSTING
        assert application.session is not None
        assert application.session.state is LinkState.ONLINE
        assert window.windowTitle() == "Parley"
        assert (tmp_path / "parley" / "local-secret").exists()

        window.close()  # the close button: the app signs out and stops the server
        assert await asyncio.wait_for(run, 10) == 0
        assert not window.isVisible()
        assert not await probe_parley("127.0.0.1", unused_tcp_port)
        assert application.tasks.pending == 0
    finally:
        if not run.done():
            application.request_quit()
            await run
        qt_app.setStyleSheet("")
        if application.window is not None:
            application.window.deleteLater()
