"""A real Janus for the suite, in a network namespace of its own.

Janus does no ICE on loopback, so it runs in a namespace joined to this one by a veth
pair: Janus at ``10.240.N.2``, the test process (its aiortc clients and its
``parley-server``) at ``10.240.N.1``. The config is the one ``parley-server --sfu janus``
writes (:func:`signaling.server.janus_process.write_config`), with the API on the
namespace's address.
"""

from __future__ import annotations

import contextlib
import os
import shutil
import signal
import subprocess
import sys
import tempfile
import time
import urllib.error
import urllib.request
from pathlib import Path

from signaling.server.child_processes import die_with_parent
from signaling.server.janus_process import JanusConfig, write_config
from signaling.server.sfu import SfuSettings

API_SECRET = "janus-api-secret-of-the-suite"
ADMIN_KEY = "janus-admin-key-of-the-suite"


def lab_problem() -> str | None:
    """Why a Janus lab cannot run here, or None."""
    if os.geteuid() != 0:
        return "the Janus lab needs root for a network namespace (CI runs as root)"
    for program in ("ip", "janus"):
        if shutil.which(program) is None:
            return f"the Janus lab needs {program!r} (python3 scripts/dev.py test installs it)"
    return None


def _sh(*cmd: str, check: bool = True) -> None:
    subprocess.run(cmd, check=check, capture_output=True, timeout=20)


class JanusLab:
    """A namespace with a veth pair and Janus listening inside it."""

    def __init__(self, index: int = 0) -> None:
        """``index`` tells apart labs that are up at once (0–9)."""
        tag = os.getpid() % 200 + 20
        name = f"{os.getpid()}{index}"
        self.ns = f"pjanus{name}"
        self.outer, self.inner = f"pj{name}a", f"pj{name}b"
        self.host_ip = f"10.{240 + index}.{tag}.1"
        self.janus_ip = f"10.{240 + index}.{tag}.2"
        self.folder = Path(tempfile.mkdtemp(prefix="parley-janus-lab-"))
        self.config = JanusConfig(
            http_host=self.janus_ip,
            http_port=8088,
            api_secret=API_SECRET,
            admin_key=ADMIN_KEY,
            rtp_ports=(30_000, 31_000),
            ice_interfaces=(self.inner,),
        )
        self.process: subprocess.Popen[bytes] | None = None

    @property
    def settings(self) -> SfuSettings:
        return SfuSettings(self.config.url, API_SECRET, ADMIN_KEY)

    @property
    def log_file(self) -> Path:
        return self.folder / "janus.log"

    def up(self, *, janus: bool = True) -> None:
        """The namespace and its veth pair; and Janus in it unless ``janus=False`` (a
        ``parley-server --sfu janus`` started in the namespace brings its own)."""
        self.down_network()
        _sh("ip", "netns", "add", self.ns)
        _sh("ip", "link", "add", self.outer, "type", "veth", "peer", "name", self.inner)
        _sh("ip", "link", "set", self.inner, "netns", self.ns)
        _sh("ip", "addr", "add", f"{self.host_ip}/24", "dev", self.outer)
        _sh("ip", "link", "set", self.outer, "up")
        inside = ("ip", "netns", "exec", self.ns)
        _sh(*inside, "ip", "addr", "add", f"{self.janus_ip}/24", "dev", self.inner)
        _sh(*inside, "ip", "link", "set", self.inner, "up")
        _sh(*inside, "ip", "link", "set", "lo", "up")
        if janus:
            self.start_janus()

    def start_janus(self) -> None:
        main = write_config(self.folder, self.config)
        self.process = subprocess.Popen(
            [
                *("ip", "netns", "exec", self.ns, "janus", "-F", str(self.folder)),
                *("-C", str(main), "-L", str(self.log_file), "-N", "-o"),
            ],
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
            preexec_fn=die_with_parent(),
        )
        deadline = time.monotonic() + 20
        while time.monotonic() < deadline:
            try:
                with urllib.request.urlopen(f"{self.config.url}/info", timeout=1) as answer:
                    if answer.status == 200:
                        return
            except (urllib.error.URLError, OSError):
                pass
            if self.process.poll() is not None:
                break
            time.sleep(0.1)
        raise RuntimeError(f"Janus did not start in the lab; its log: {self.log_file}")

    def stop_janus(self) -> None:
        if self.process is not None and self.process.poll() is None:
            self.process.terminate()
            try:
                self.process.wait(timeout=10)
            except subprocess.TimeoutExpired:
                self.process.kill()
                self.process.wait()

    def start_parley_server(self, data_dir: Path, secret: str) -> tuple[subprocess.Popen[str], str]:
        """``parley-server --sfu janus`` inside the namespace (it starts its own Janus
        there); the process and its URL."""
        server = subprocess.Popen(
            [
                *("ip", "netns", "exec", self.ns, sys.executable, "-m", "signaling.server.cli"),
                *("--sfu", "janus", "--janus-interface", self.inner),
                *("--janus-rtp-ports", "32000-32999"),
                *("--host", self.janus_ip, "--port", "0", "--data-dir", str(data_dir)),
                *("--log-level", "WARNING"),
            ],
            stdout=subprocess.PIPE,
            stderr=subprocess.DEVNULL,
            text=True,
            env={**os.environ, "PARLEY_SECRET": secret},
            preexec_fn=die_with_parent(),
        )
        assert server.stdout is not None
        lines = [server.stdout.readline() for _ in range(2)]
        if not lines[1].startswith("parley-server listening on "):
            server.kill()
            raise RuntimeError(f"parley-server --sfu janus did not start: {lines!r}")
        if not lines[0].startswith("parley-server: Janus running"):
            server.kill()
            raise RuntimeError(f"parley-server did not say it runs Janus: {lines!r}")
        return server, lines[1].split()[-1]

    def janus_pids(self) -> list[int]:
        """Janus processes in the namespace."""
        found = subprocess.run(
            ["ip", "netns", "pids", self.ns], capture_output=True, text=True, check=False
        ).stdout.split()
        pids = []
        for pid in found:
            with contextlib.suppress(OSError):
                if Path(f"/proc/{pid}/comm").read_text().strip() == "janus":
                    pids.append(int(pid))
        return pids

    def down_network(self) -> None:
        _sh("ip", "netns", "del", self.ns, check=False)
        _sh("ip", "link", "del", self.outer, check=False)

    def down(self) -> None:
        self.stop_janus()
        # Whatever else still runs in the namespace (a server's own Janus a failed test
        # left) would outlive it.
        for pid in subprocess.run(
            ["ip", "netns", "pids", self.ns], capture_output=True, text=True, check=False
        ).stdout.split():
            with contextlib.suppress(OSError):
                os.kill(int(pid), signal.SIGKILL)
        self.down_network()
        shutil.rmtree(self.folder, ignore_errors=True)
