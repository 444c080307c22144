"""A real ``redis-server`` for the suite, on a Unix socket in a temporary folder.

One per test run (started on first use); each test keeps apart from the others by a
key prefix of its own, so nothing has to be flushed between tests.
"""

from __future__ import annotations

import itertools
import os
import shutil
import subprocess
import tempfile
import time
from collections.abc import Iterator
from pathlib import Path

import pytest
import redis

from signaling.server.child_processes import die_with_parent

_prefixes = itertools.count(1)


class RedisServer:
    """``redis-server`` with no persistence, listening on a Unix socket only."""

    def __init__(self) -> None:
        program = shutil.which("redis-server")
        if program is None:
            raise RuntimeError(
                "redis-server is not installed: `python3 scripts/dev.py test` installs it "
                "(apt-get install redis-server)"
            )
        self.dir = Path(tempfile.mkdtemp(prefix="parley-redis-"))
        self.socket = self.dir / "redis.sock"
        self.process = subprocess.Popen(
            [
                program,
                "--port", "0",
                "--unixsocket", str(self.socket),
                "--unixsocketperm", "700",
                "--save", "",
                "--appendonly", "no",
                "--daemonize", "no",
                "--dir", str(self.dir),
                "--logfile", str(self.dir / "redis.log"),
            ],
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
            preexec_fn=die_with_parent(),
        )  # fmt: skip
        self._wait_ready()

    @property
    def url(self) -> str:
        return f"unix://{self.socket}"

    def _wait_ready(self) -> None:
        deadline = time.monotonic() + 10
        while time.monotonic() < deadline:
            if self.process.poll() is not None:
                log = (self.dir / "redis.log").read_text(errors="replace")[-2000:]
                raise RuntimeError(f"redis-server exited: {log}")
            if self.socket.exists():
                try:
                    if redis.Redis(unix_socket_path=str(self.socket)).ping():
                        return
                except redis.ConnectionError:
                    pass
            time.sleep(0.02)
        self.stop()
        raise RuntimeError("redis-server did not answer within 10 s")

    def stop(self) -> None:
        if self.process.poll() is None:
            self.process.terminate()
            self.process.wait(timeout=10)
        shutil.rmtree(self.dir, ignore_errors=True)


def fresh_prefix() -> str:
    """A key prefix no other test of this run uses."""
    return f"t{os.getpid()}-{next(_prefixes)}:"


@pytest.fixture(scope="session")
def redis_server() -> Iterator[RedisServer]:
    server = RedisServer()
    try:
        yield server
    finally:
        server.stop()
