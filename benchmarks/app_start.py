"""App start and call pick-up: two figures a person feels, in one JSON line.

1. **Start → sign-in page shown**: ``parley`` is spawned with ``PARLEY_REPORT_STARTUP=1``
   and prints ``parley: first page shown <perf_counter>`` once its first page is on
   screen (painted; the server is opened behind it); the time from spawn to that value
   (``perf_counter`` is the system's monotonic clock, shared by both processes) is
   compared with a bare PySide6 window doing the same (the floor). Goal: ≤ 1.5 × the
   floor. Both are spawned alternately, so machine load hits both alike.
2. **Accept → first remote frame painted**: in one process, a server, Alice's wired app
   (offscreen) and a bot calling her with synthetic video; from her pressing Accept to
   the bot's first frame painted in her call page. Goal: ≤ 300 ms on loopback.

    QT_QPA_PLATFORM=offscreen python benchmarks/app_start.py --runs 5
    QT_QPA_PLATFORM=offscreen python benchmarks/app_start.py --runs 15 --only start
"""

from __future__ import annotations

import argparse
import asyncio
import os
import secrets
import socket
import subprocess
import sys
import tempfile
import time
from pathlib import Path

from _common import emit, machine, summary_ms

os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")

START_GOAL_RATIO = 1.5
ACCEPT_GOAL_MS = 300.0
MARKER = "first page shown "

BARE_WINDOW = """
import sys, time
from PySide6.QtCore import QTimer
from PySide6.QtWidgets import QApplication, QLabel
app = QApplication(sys.argv)
label = QLabel("Sign in"); label.resize(760, 640); label.show()
QTimer.singleShot(0, lambda: (print("bare: first page shown %.6f" % time.perf_counter(),
                                   flush=True), app.quit()))
app.exec()
"""


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def _time_to_marker(command: list[str], env: dict[str, str], timeout: float = 60.0) -> float:
    """Seconds from spawning ``command`` to the perf_counter it prints after MARKER."""
    started = time.perf_counter()
    process = subprocess.Popen(
        command, env=env, stdout=subprocess.PIPE, stderr=subprocess.DEVNULL, text=True
    )
    try:
        assert process.stdout is not None
        for line in process.stdout:
            if MARKER in line:
                return float(line.rsplit(" ", 1)[1]) - started
        raise RuntimeError(f"{command[:3]} ended without printing its marker")
    finally:
        process.terminate()  # parley shuts down cleanly on SIGTERM
        try:
            process.wait(timeout)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait()


def measure_start(runs: int) -> dict[str, object]:
    env = dict(os.environ, PARLEY_REPORT_STARTUP="1", QT_QPA_PLATFORM="offscreen")
    parley: list[float] = []
    bare: list[float] = []
    with tempfile.TemporaryDirectory() as config:
        env["XDG_CONFIG_HOME"] = config
        env.pop("PARLEY_SERVER_URL", None)
        for _ in range(runs + 1):  # the first of each warms the disk cache, not counted
            env["PARLEY_LOCAL_PORT"] = str(_free_port())
            parley.append(_time_to_marker([sys.executable, "-m", "app"], env))
            bare.append(_time_to_marker([sys.executable, "-c", BARE_WINDOW], env))
    parley_ms, bare_ms = summary_ms(parley[1:]), summary_ms(bare[1:])
    ratio = round(parley_ms["p50"] / bare_ms["p50"], 2)
    return {
        "start_ms": parley_ms,
        "bare_window_ms": bare_ms,
        "start_ratio_p50": ratio,
        "start_goal_ratio": START_GOAL_RATIO,
        "start_goal_met": ratio <= START_GOAL_RATIO,
    }


async def _one_accept(qt_app: object, timeout: float) -> float:
    from PySide6.QtCore import QSettings
    from PySide6.QtWidgets import QApplication

    from app.kit.bots import Bot
    from app.kit.local_server import ServerHandle, ServerMode
    from app.kit.media import MediaOptions
    from app.kit.types import User
    from app.main import Application, Options
    from signaling.auth import mint_token
    from signaling.server.app import start_server
    from signaling.server.hub import ServerConfig
    from widgets.call_page import CallPage

    assert isinstance(qt_app, QApplication)
    secret = secrets.token_urlsafe(48)
    server = await start_server(ServerConfig(secret=secret), "127.0.0.1", 0)
    with tempfile.TemporaryDirectory() as tmp:
        options = Options(
            user_id="alice",
            name="Alice",
            server=ServerHandle(server.url, secret, ServerMode.REMOTE),
            settings=QSettings(f"{tmp}/s.ini", QSettings.Format.IniFormat),
            data_dir=Path(tmp),
            media=MediaOptions(synthetic=True),
            sounds=False,
            echo=False,
            handle_signals=False,
        )
        app = Application(qt_app, options)
        bob = Bot(server.url, mint_token(secret, "bob", "Bob"), User("bob", "Bob"))
        loop = asyncio.get_running_loop()
        painted: asyncio.Future[float] = loop.create_future()
        try:
            assert await app.start()
            calls, navigator, banner = app.calls, app.navigator, app.banner
            assert calls is not None
            assert navigator is not None
            assert banner is not None
            kit = app.call_kit
            assert kit is not None

            def on_frame(user_id: str, frame: object) -> None:
                page = navigator.call_page
                shown = isinstance(page, CallPage) and "bob" in page.tiles
                if user_id == "bob" and shown and not painted.done():
                    assert isinstance(page, CallPage)
                    page.tiles["bob"].video.repaint()  # paint now, synchronously, and time it
                    painted.set_result(time.perf_counter())

            calls.frame_ready.connect(on_frame)  # after the page's own slot
            await bob.sign_in()
            while kit.invitations is None:  # noqa: ASYNC110 (the kit has no "started" event)
                await asyncio.sleep(0.01)
            ringing: asyncio.Future[None] = loop.create_future()
            calls.incoming_view_changed.connect(
                lambda _view: None if ringing.done() else ringing.set_result(None)
            )
            await bob.call(["alice"])
            await asyncio.wait_for(ringing, timeout)
            accepted_at = time.perf_counter()
            banner.accept_button.click()
            return await asyncio.wait_for(painted, timeout) - accepted_at
        finally:
            await app.shutdown()
            await bob.close()
            await server.stop()
            app.window.deleteLater()


def measure_accept(runs: int, timeout: float) -> dict[str, object]:
    import qasync
    from PySide6.QtWidgets import QApplication

    qt_app = QApplication.instance() or QApplication([])
    assert isinstance(qt_app, QApplication)
    # As in parley: closing the window must not make Qt stop the loop under the shutdown.
    qt_app.setQuitOnLastWindowClosed(False)
    loop = qasync.QEventLoop(qt_app)
    times = [loop.run_until_complete(_one_accept(qt_app, timeout)) for _ in range(runs + 1)]
    loop.close()
    summary = summary_ms(times[1:])  # the first run pays for imports and codec set-up
    return {
        "accept_to_first_frame_painted_ms": summary,
        "accept_goal_ms": ACCEPT_GOAL_MS,
        "accept_goal_met": summary["p50"] <= ACCEPT_GOAL_MS,
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--runs", type=int, default=5)
    parser.add_argument("--timeout", type=float, default=20.0)
    parser.add_argument(
        "--only", choices=["start", "accept"], help="measure one figure (default: both)"
    )
    args = parser.parse_args()
    result: dict[str, object] = {"benchmark": "app_start"}
    if args.only in (None, "start"):
        result |= measure_start(args.runs)
    if args.only in (None, "accept"):
        result |= measure_accept(args.runs, args.timeout)
    result["machine"] = machine()  # the load at the end
    emit(result)


if __name__ == "__main__":
    main()
