"""Parley and a browser in one call: Chromium (Debian's, headless, with its fake camera
and microphone) running a client written from ``docs/protocol.md`` alone
(``tests/support/browser/parley.js``), and a Parley bot (aiortc) calling it.

Media must flow both ways; when the browser closes its connection (a tab's
``pc.close()``), Parley links again and the browser answers the new session on a new
connection (the rebuild contract), with media both ways again.
"""

from __future__ import annotations

import json
import secrets
import shutil
import subprocess
import tempfile
from collections.abc import AsyncIterator, Awaitable, Callable
from pathlib import Path
from typing import Any
from urllib.parse import urlencode

import pytest
from aiohttp import web

from app.kit.bots import Bot
from app.kit.media import MediaOptions
from app.kit.types import User
from app.testing import wait_until
from media.levels import SILENCE_DBFS
from signaling.auth import mint_token
from signaling.server.app import RunningServer, start_server
from signaling.server.child_processes import die_with_parent
from signaling.server.hub import ServerConfig

ROOT = Path(__file__).resolve().parents[3]
WEB = ROOT / "tests" / "support" / "browser"
SOCKET_IO = ROOT / "tests/conformance/node_modules/socket.io-client/dist/socket.io.min.js"
CHROMIUM = shutil.which("chromium")

pytestmark = [pytest.mark.slow, pytest.mark.timeout(120)]

if CHROMIUM is None:
    pytest.skip(
        "no chromium here: `python3 scripts/dev.py test` installs Debian's (as root)",
        allow_module_level=True,
    )


class Page:
    """Serves the browser client and hears what it reports."""

    def __init__(self) -> None:
        self.reports: list[dict[str, Any]] = []
        self.commands: list[str] = []
        self.url = ""
        self._runner: web.AppRunner | None = None

    async def start(self) -> None:
        app = web.Application()
        for route, path in (
            ("/", WEB / "index.html"),
            ("/parley.js", WEB / "parley.js"),
            ("/socket.io.min.js", SOCKET_IO),
        ):
            app.router.add_get(route, _file(path))
        app.router.add_post("/report", self._report)
        app.router.add_get("/command", self._command)
        self._runner = web.AppRunner(app)
        await self._runner.setup()
        site = web.TCPSite(self._runner, "127.0.0.1", 0)
        await site.start()
        port = site._server.sockets[0].getsockname()[1]  # type: ignore[union-attr]
        self.url = f"http://127.0.0.1:{port}"

    async def stop(self) -> None:
        if self._runner is not None:
            await self._runner.cleanup()

    async def _report(self, request: web.Request) -> web.Response:
        self.reports.append(json.loads(await request.text()))
        return web.json_response({"ok": True})

    async def _command(self, _request: web.Request) -> web.Response:
        return web.json_response({"command": self.commands.pop(0) if self.commands else ""})

    def errors(self) -> list[Any]:
        return [r["data"] for r in self.reports if r["what"] in ("error", "refused")]

    def latest(self, what: str, check: Callable[[dict[str, Any]], bool]) -> dict[str, Any] | None:
        for entry in reversed(self.reports):
            if entry["what"] == what and check(entry["data"]):
                found: dict[str, Any] = entry["data"]
                return found
        return None


def _file(path: Path) -> Callable[[web.Request], Awaitable[web.StreamResponse]]:
    async def serve(_request: web.Request) -> web.StreamResponse:
        return web.FileResponse(path)

    return serve


@pytest.fixture
async def lab() -> AsyncIterator[tuple[RunningServer, str, Page]]:
    secret = secrets.token_urlsafe(32)
    page = Page()
    await page.start()
    server = await start_server(
        ServerConfig(secret=secret, allowed_origins=(page.url,)), "127.0.0.1", 0
    )
    try:
        yield server, secret, page
    finally:
        await server.stop()
        await page.stop()


def open_browser(
    page: Page, server: RunningServer, secret: str, user_id: str
) -> subprocess.Popen[bytes]:
    query = urlencode(
        {"server": server.url, "token": mint_token(secret, user_id, user_id.title()), "me": user_id}
    )
    profile = tempfile.mkdtemp(prefix="parley-chromium-")
    assert CHROMIUM is not None
    return subprocess.Popen(
        [
            CHROMIUM, "--headless=new", "--no-sandbox", "--disable-gpu", "--no-first-run",
            f"--user-data-dir={profile}",
            "--use-fake-ui-for-media-stream", "--use-fake-device-for-media-stream",
            # Loopback only here: without it the browser offers no host candidates.
            "--allow-loopback-in-peer-connection",
            f"{page.url}/?{query}",
        ],
        stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, preexec_fn=die_with_parent(),
    )  # fmt: skip


def flowing(link: int) -> Callable[[dict[str, Any]], bool]:
    """A media report of connection ``link`` with sound and pictures arriving."""
    return lambda d: (
        d["link"] == link and d["audio_packets"] > 50 and d["video_frames"] > 15
        and d["sent_bytes"] > 4000
    )  # fmt: skip


@pytest.mark.parametrize(
    "browser_user",
    [
        pytest.param("zoe", id="parley-offers"),  # "alice" < "zoe"
        pytest.param("aaron", id="browser-offers"),  # "aaron" < "alice"
    ],
)
async def test_a_browser_client_answers_a_parley_call_and_keeps_media_through_a_new_link(
    lab: tuple[RunningServer, str, Page], browser_user: str
) -> None:
    server, secret, page = lab
    browser = open_browser(page, server, secret, browser_user)
    alice = Bot(
        server.url,
        mint_token(secret, "alice", "Alice"),
        User("alice", "Alice"),
        media=MediaOptions(synthetic=True, tone_hz=440),  # sound: silence sends few packets
    )
    try:
        await wait_until(lambda: page.latest("ready", lambda _d: True) is not None, timeout=30)
        await alice.sign_in()
        await alice.call([browser_user], video=True)
        await wait_until(lambda: page.latest("media", flowing(1)) is not None, timeout=30)
        assert page.errors() == []

        # And Parley's side receives the browser's camera and microphone.
        def parley_receives() -> bool:
            session = alice.session
            them = session.members.get(browser_user) if session is not None else None
            return them is not None and them.video is not None and them.level_dbfs > SILENCE_DBFS

        await wait_until(parley_receives, timeout=20)

        # The browser closes its connection: Parley links again, on a new session.
        page.commands.append("close")
        await wait_until(lambda: page.latest("closed", lambda _d: True) is not None)
        await wait_until(lambda: page.latest("media", flowing(2)) is not None, timeout=30)
        assert page.errors() == []
        assert await alice.hang_up()
    finally:
        await alice.close()
        # A clean goodbye (a killed browser's socket would keep the server's engine.io
        # ping task asleep for its 25 s interval after the server stops).
        page.commands.append("leave")
        await wait_until(lambda: page.latest("left", lambda _d: True) is not None, timeout=10)
        browser.terminate()
        try:
            browser.wait(timeout=10)
        except subprocess.TimeoutExpired:
            browser.kill()
