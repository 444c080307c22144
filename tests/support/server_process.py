"""A parley-server in its own process, for tests that kill it for real."""

from __future__ import annotations

import os
import signal
import subprocess
import sys

from signaling.server.child_processes import die_with_parent
from tests.support.signaling import TEST_SECRET


class ServerProcess:
    """``parley-server`` started as a child process; ``kill`` is SIGKILL, no goodbye."""

    def __init__(self, port: int = 0, *extra: str) -> None:
        env = {**os.environ, "PARLEY_SECRET": TEST_SECRET}
        self.process = subprocess.Popen(
            [
                sys.executable,
                "-m",
                "signaling.server.cli",
                "--port",
                str(port),
                "--log-level",
                "WARNING",
                *extra,
            ],
            stdout=subprocess.PIPE,
            stderr=subprocess.DEVNULL,
            text=True,
            env=env,
            preexec_fn=die_with_parent(),
        )
        assert self.process.stdout is not None
        line = self.process.stdout.readline()
        if not line.startswith("parley-server listening on "):
            self.kill()
            raise RuntimeError(f"server did not start: {line!r}")
        self.url = line.split()[-1]
        self.port = int(self.url.rsplit(":", 1)[1])

    def kill(self) -> None:
        if self.process.poll() is None:
            self.process.send_signal(signal.SIGKILL)
            self.process.wait(timeout=10)
        if self.process.stdout:
            self.process.stdout.close()


#: Environment variables the CLI reads: a CLI test starts without them.
CLI_ENV = (
    "PARLEY_SECRET",
    "PARLEY_TURN_SECRET",
    "PARLEY_METRICS_TOKEN",
    "PARLEY_ALLOWED_ORIGINS",
    "PARLEY_REDIS_URL",
    "PARLEY_JANUS_URL",
    "PARLEY_JANUS_SECRET",
    "PARLEY_JANUS_ADMIN_KEY",
)


def run_cli(
    *args: str, env: dict[str, str] | None = None, stdin: str | None = None
) -> subprocess.CompletedProcess[str]:
    """``parley-server *args`` to completion (30 s at most) with ``stdin`` as its input,
    without the CLI's own environment variables unless ``env`` gives them."""
    full_env = {k: v for k, v in os.environ.items() if k not in CLI_ENV}
    full_env.update(env or {})
    return subprocess.run(
        [sys.executable, "-m", "signaling.server.cli", *args],
        capture_output=True,
        text=True,
        timeout=30,
        input=stdin,
        env=full_env,
        check=False,
    )
