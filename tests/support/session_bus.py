"""A private D-Bus session bus and the fake notification daemon on it, as plain
processes (``dbus-daemon`` from Debian's ``dbus``), for the notification tests."""

from __future__ import annotations

import asyncio
import json
import queue
import subprocess
import sys
import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

from signaling.server.child_processes import die_with_parent
from tests.support.nat_lab import ROOT


class FakeService:
    """A fake desktop service (``python -m MODULE``) on the session bus at ``address``:
    it answers in JSON lines, and takes commands as lines on its stdin."""

    MODULE = ""

    def __init__(self, address: str) -> None:
        self.process = subprocess.Popen(
            [sys.executable, "-m", self.MODULE],
            stdin=subprocess.PIPE,
            stdout=subprocess.PIPE,
            text=True,
            cwd=ROOT,
            env={
                "DBUS_SESSION_BUS_ADDRESS": address,
                "PYTHONPATH": str(ROOT),
                "PATH": "/usr/bin:/bin",
            },
            preexec_fn=die_with_parent(),
        )
        self.events: queue.Queue[dict[str, Any]] = queue.Queue()
        self._reader = threading.Thread(target=self._read, daemon=True)
        self._reader.start()
        try:
            ready = self.events.get(timeout=10)  # before any event loop runs the app
        except queue.Empty:
            self.stop()
            raise RuntimeError(f"{self.MODULE} did not start") from None
        assert ready["event"] == "ready", ready

    def _read(self) -> None:
        assert self.process.stdout is not None
        for line in self.process.stdout:
            self.events.put(json.loads(line))

    async def next_event(self, timeout: float = 10) -> dict[str, Any]:
        """The service's next line, waiting without blocking the event loop (the app
        under test runs on it)."""
        deadline = time.monotonic() + timeout
        while True:
            try:
                return self.events.get_nowait()
            except queue.Empty:
                if time.monotonic() > deadline:
                    raise TimeoutError(f"{self.MODULE} said nothing") from None
                await asyncio.sleep(0.02)

    def _command(self, line: str) -> None:
        assert self.process.stdin is not None
        self.process.stdin.write(line + "\n")
        self.process.stdin.flush()

    def stop(self) -> None:
        if self.process.stdin is not None:
            self.process.stdin.close()
        self.process.terminate()
        self.process.wait(timeout=10)
        if self.process.stdout is not None:
            self.process.stdout.close()


class FakeNotificationDaemon(FakeService):
    """``tests/support/fake_notification_daemon.py``: what it was asked to show, and a
    person pressing its buttons."""

    MODULE = "tests.support.fake_notification_daemon"

    def press(self, notification_id: int, action: str) -> None:
        self._command(f"invoke {notification_id} {action}")

    def dismiss(self, notification_id: int) -> None:
        self._command(f"dismiss {notification_id}")


class FakeTrayHost(FakeService):
    """``tests/support/fake_tray_host.py``: a panel's tray, and a person using it."""

    MODULE = "tests.support.fake_tray_host"

    async def ask(self, command: str) -> dict[str, Any]:
        """Run ``describe``, ``click LABEL`` or ``activate``; the host's answer."""
        self._command(command)
        while (event := await self.next_event())["event"] == "registered":
            pass
        assert event["event"] != "error", event
        return event


@contextmanager
def session_bus(folder: Path) -> Iterator[str]:
    """A private session bus; its address."""
    process = subprocess.Popen(
        [
            "dbus-daemon",
            "--session",
            "--nofork",
            "--print-address=1",
            f"--address=unix:path={folder / 'bus'}",
        ],
        stdout=subprocess.PIPE,
        text=True,
        preexec_fn=die_with_parent(),
    )
    try:
        assert process.stdout is not None
        address = process.stdout.readline().strip()
        if not address:
            raise RuntimeError("dbus-daemon did not start")
        yield address
    finally:
        process.terminate()
        process.wait(timeout=10)
        if process.stdout is not None:
            process.stdout.close()
