"""A NAT lab in network namespaces: two hosts, each behind a NAT of its own, and a
"public" network between the NATs where coturn runs (as a plain process).

    host A 10.0.1.2 ── 10.0.1.1 NAT A 198.18.1.2 ── 198.18.1.1 ┐
                                                             public (coturn 198.18.0.1)
    host B 10.0.2.2 ── 10.0.2.1 NAT B 198.18.2.2 ── 198.18.2.1 ┘

Each NAT masquerades what leaves it and lets in only replies (nftables conntrack), and
maps every new flow to a random port (a symmetric NAT, as carrier-grade NATs and many
office firewalls are): the hosts' own addresses are unreachable from the other side, and
the port STUN saw is not the one a packet to the other host leaves from, so hole punching
cannot work either and a call connects only through the TURN relay. (With the same port
for every destination, as plain masquerading keeps it where it can, two hosts sending to
each other at once can punch through, and one suite run did: the call without TURN
connected.) Needs root (CI runs the suite as root).
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import os
import secrets
import shutil
import subprocess
import sys
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from signaling.server.child_processes import die_with_parent

ROOT = Path(__file__).resolve().parents[2]
TURN_IP = "198.18.0.1"
TURN_PORT = 3478
HOST_A_IP = "10.0.1.2"
HOST_B_IP = "10.0.2.2"


def lab_problem() -> str | None:
    """Why the lab cannot run here, or None."""
    if os.geteuid() != 0:
        return "the NAT lab needs root for network namespaces (CI runs as root)"
    for program in ("ip", "nft", "turnserver"):
        if shutil.which(program) is None:
            return f"the NAT lab needs {program!r} (python3 scripts/dev.py test installs it)"
    return None


def _sh(*cmd: str) -> None:
    subprocess.run(cmd, check=True, capture_output=True, timeout=20)


def _nft(ns: str, script: str) -> None:
    subprocess.run(
        ["ip", "netns", "exec", ns, "nft", "-f", "-"],
        input=script.encode(),
        check=True,
        capture_output=True,
        timeout=20,
    )


@dataclass
class NatLab:
    """The namespaces (named with a random tag, so runs never collide) and coturn."""

    workdir: Path
    tag: str = field(default_factory=lambda: secrets.token_hex(3))
    _turn: subprocess.Popen[bytes] | None = None

    def ns(self, role: str) -> str:
        """The namespace of ``"a"``, ``"b"`` (hosts), ``"nat_a"``, ``"nat_b"``, ``"pub"``."""
        return f"pl{self.tag}{role}"

    def up(self) -> None:
        for role in ("a", "b", "nat_a", "nat_b", "pub"):
            _sh("ip", "netns", "add", self.ns(role))
        pub = self.ns("pub")
        _sh("ip", "-n", pub, "link", "set", "lo", "up")
        _sh("ip", "-n", pub, "addr", "add", f"{TURN_IP}/32", "dev", "lo")
        for side, lan, wan in (("a", "10.0.1", "198.18.1"), ("b", "10.0.2", "198.18.2")):
            host, nat = self.ns(side), self.ns(f"nat_{side}")
            # host <-> NAT (the LAN), NAT <-> public (the WAN)
            _sh(
                "ip",
                "link",
                "add",
                "lan",
                "netns",
                host,
                "type",
                "veth",
                "peer",
                "inside",
                "netns",
                nat,
            )
            _sh(
                "ip",
                "link",
                "add",
                "wan",
                "netns",
                nat,
                "type",
                "veth",
                "peer",
                f"to{side}",
                "netns",
                pub,
            )
            for ns_name, dev, address in (
                (host, "lan", f"{lan}.2/24"),
                (nat, "inside", f"{lan}.1/24"),
                (nat, "wan", f"{wan}.2/24"),
                (pub, f"to{side}", f"{wan}.1/24"),
            ):
                _sh("ip", "-n", ns_name, "addr", "add", address, "dev", dev)
                _sh("ip", "-n", ns_name, "link", "set", dev, "up")
            for ns_name in (host, nat):
                _sh("ip", "-n", ns_name, "link", "set", "lo", "up")
            _sh("ip", "-n", host, "route", "add", "default", "via", f"{lan}.1")
            _sh("ip", "-n", nat, "route", "add", "default", "via", f"{wan}.1")
            _sh("ip", "netns", "exec", nat, "sysctl", "-qw", "net.ipv4.ip_forward=1")
            _nft(
                nat,
                """
                table ip nat {
                  chain post {
                    type nat hook postrouting priority srcnat;
                    oifname "wan" masquerade fully-random;
                  }
                }
                table ip filter {
                  chain forward {
                    type filter hook forward priority filter; policy accept;
                    iifname "wan" ct state established,related accept
                    iifname "wan" drop
                  }
                }
                """,
            )
        _sh("ip", "netns", "exec", pub, "sysctl", "-qw", "net.ipv4.ip_forward=1")

    def start_turn(self, secret: str) -> None:
        """coturn on the public network, with TURN REST credentials (``use-auth-secret``)."""
        conf = self.workdir / "turnserver.conf"
        conf.write_text(
            "\n".join(
                [
                    f"listening-ip={TURN_IP}",
                    f"relay-ip={TURN_IP}",
                    f"listening-port={TURN_PORT}",
                    "min-port=49152",
                    "max-port=49300",
                    "use-auth-secret",
                    f"static-auth-secret={secret}",
                    "realm=parley.test",
                    "fingerprint",
                    "no-tls",
                    "no-dtls",
                    "no-cli",
                    "no-multicast-peers",
                    # Never relay into private networks (and coturn drops allocations
                    # after a channel bind to an unroutable private address).
                    "denied-peer-ip=10.0.0.0-10.255.255.255",
                    "denied-peer-ip=172.16.0.0-172.31.255.255",
                    "denied-peer-ip=192.168.0.0-192.168.255.255",
                    f"pidfile={self.workdir / 'turnserver.pid'}",
                    f"userdb={self.workdir / 'turndb'}",
                    f"log-file={self.workdir / 'turn.log'}",
                    "simple-log",
                ]
            )
            + "\n"
        )
        self._turn = subprocess.Popen(
            ["ip", "netns", "exec", self.ns("pub"), "turnserver", "-c", str(conf)],
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
            preexec_fn=die_with_parent(),
        )
        deadline = time.monotonic() + 10
        while time.monotonic() < deadline:
            listening = subprocess.run(
                ["ip", "netns", "exec", self.ns("pub"), "ss", "-lun"],
                capture_output=True,
                text=True,
                check=False,
            ).stdout
            if f"{TURN_IP}:{TURN_PORT}" in listening:
                return
            if self._turn.poll() is not None:
                break
            time.sleep(0.05)
        raise RuntimeError(f"coturn did not start; see {self.workdir / 'turn.log'}")

    def down(self) -> None:
        if self._turn is not None and self._turn.poll() is None:
            self._turn.terminate()
            try:
                self._turn.wait(timeout=5)
            except subprocess.TimeoutExpired:
                self._turn.kill()
                self._turn.wait(timeout=5)
        for role in ("a", "b", "nat_a", "nat_b", "pub"):
            subprocess.run(["ip", "netns", "del", self.ns(role)], capture_output=True, check=False)


# --- a call between the two hosts ------------------------------------------------------


@dataclass
class Side:
    """What one side of a lab call printed."""

    connected_after_s: float | None
    pair: str
    heard_hz: float
    frames: int
    #: When the link gave up by itself (its own timeout and rebuilds), if it did.
    gave_up_after_s: float | None = None


class Relay:
    """Passes signalling lines between Alice's and Bob's processes over a Unix socket
    (which crosses network namespaces); the voice benchmark uses it too."""

    def __init__(self) -> None:
        self.writers: dict[str, asyncio.StreamWriter] = {}
        self.both = asyncio.Event()

    async def handle(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        hello = json.loads(await reader.readline())["hello"]
        self.writers[hello] = writer
        if len(self.writers) == 2:
            self.both.set()
        other = "bob" if hello == "alice" else "alice"
        try:
            while line := await reader.readline():
                await self.both.wait()
                self.writers[other].write(line)
        finally:
            writer.close()

    async def close(self) -> None:
        for writer in self.writers.values():
            writer.close()
            with contextlib.suppress(OSError):
                await writer.wait_closed()


async def _spawn_in(ns: str, module: str, *args: str) -> asyncio.subprocess.Process:
    """``python -m module args`` inside namespace ``ns``, stdin and stdout piped."""
    return await asyncio.create_subprocess_exec(
        "ip", "netns", "exec", ns, sys.executable, "-m", module, *args,
        stdin=asyncio.subprocess.PIPE,
        stdout=asyncio.subprocess.PIPE,
        cwd=ROOT,
        env={**os.environ, "PYTHONPATH": str(ROOT)},
        preexec_fn=die_with_parent(),
    )  # fmt: skip


async def _reap(procs: list[asyncio.subprocess.Process]) -> None:
    for proc in procs:
        if proc.returncode is None:
            with contextlib.suppress(ProcessLookupError):
                proc.kill()
            await proc.wait()


async def lab_call(
    lab: NatLab,
    ice_a: list[dict[str, Any]],
    ice_b: list[dict[str, Any]],
    *,
    within_s: float = 20.0,
    rebuilds: int = 3,
    connect_timeout: float = 10.0,
    hosts: tuple[str, str] = ("a", "b"),
) -> tuple[Side, Side]:
    """Alice on host A (a 440 Hz tone) calls Bob on host B (660 Hz), each with its ICE
    servers; what each side saw: connected when, over which pair, heard what.
    ``hosts`` puts them elsewhere (``("pub", "pub")``: no NAT between them)."""
    relay = Relay()
    path = lab.workdir / f"signal-{secrets.token_hex(3)}.sock"
    server = await asyncio.start_unix_server(relay.handle, path=str(path))
    procs: list[asyncio.subprocess.Process] = []
    try:
        for role, ns, hz, servers in (
            ("alice", lab.ns(hosts[0]), 440, ice_a),
            ("bob", lab.ns(hosts[1]), 660, ice_b),
        ):
            procs.append(
                await _spawn_in(
                    ns,
                    "tests.support.nat_peer",
                    "--socket",
                    str(path),
                    "--role",
                    role,
                    "--hz",
                    str(hz),
                    "--ice",
                    json.dumps(servers),
                    "--within",
                    str(within_s),
                    "--rebuilds",
                    str(rebuilds),
                    "--connect-timeout",
                    str(connect_timeout),
                )
            )
        sides = await asyncio.gather(*(_outcome(p, within_s + 10) for p in procs))
        return sides[0], sides[1]
    finally:
        await _reap(procs)
        await relay.close()
        server.close()
        await server.wait_closed()


async def _outcome(proc: asyncio.subprocess.Process, within_s: float) -> Side:
    assert proc.stdout is not None
    connected: dict[str, Any] = {}
    async with asyncio.timeout(within_s):
        while line := await proc.stdout.readline():
            with contextlib.suppress(json.JSONDecodeError):
                event: dict[str, Any] = json.loads(line)
                if event.get("event") == "failed":
                    gave_up = float(event["after_s"]) if event.get("gave_up") else None
                    return Side(None, "", 0.0, 0, gave_up)
                if event.get("event") == "connected":
                    connected = event
                if event.get("event") == "heard":
                    return Side(
                        float(connected["after_s"]),
                        str(connected["pair"]),
                        float(event["hz"]),
                        int(event["frames"]),
                    )
    raise RuntimeError("a side of the lab call exited without an outcome")


# --- parley-server on the public network, and two people on the hosts ------------------

SERVER_PORT = 8443


def start_parley_server(
    lab: NatLab, cert: Path, key: str | Path, data_dir: Path, *, turn_secret: str = ""
) -> subprocess.Popen[str]:
    """``parley-server`` on the public network (TLS, accounts in ``data_dir``; with
    ``turn_secret`` it hands out the lab's coturn with credentials)."""
    turn = (
        [
            "--stun-uri",
            f"stun:{TURN_IP}:{TURN_PORT}",
            "--turn-uri",
            f"turn:{TURN_IP}:{TURN_PORT}?transport=udp",
            "--turn-secret",
            turn_secret,
        ]
        if turn_secret
        else []
    )
    env = {k: v for k, v in os.environ.items() if not k.startswith("PARLEY_")}
    process = subprocess.Popen(
        [
            "ip",
            "netns",
            "exec",
            lab.ns("pub"),
            sys.executable,
            "-m",
            "signaling.server.cli",
            "--host",
            TURN_IP,
            "--port",
            str(SERVER_PORT),
            "--data-dir",
            str(data_dir),
            "--tls-cert",
            str(cert),
            "--tls-key",
            str(key),
            "--log-level",
            "WARNING",
            *turn,
        ],
        stdout=subprocess.PIPE,
        stderr=subprocess.DEVNULL,
        text=True,
        cwd=ROOT,
        env={**env, "PYTHONPATH": str(ROOT)},
        preexec_fn=die_with_parent(),
    )
    assert process.stdout is not None
    line = process.stdout.readline()
    if not line.startswith("parley-server listening on "):
        process.kill()
        raise RuntimeError(f"parley-server did not start in the lab: {line!r}")
    return process


@dataclass
class Heard:
    """What one person of a lab call reported."""

    hz: float | None
    pair: str
    ice: list[Any]
    #: Why it failed (the bot's last line), if it did.
    failure: dict[str, Any] | None = None


async def lab_people_call(
    lab: NatLab, url: str, ca_file: Path, alice: list[str], bob: list[str]
) -> tuple[Heard, Heard]:
    """Alice (host A, 440 Hz) calls Bob (host B, 660 Hz) through ``url``; ``alice`` and
    ``bob`` are their sign-in arguments for :mod:`tests.support.nat_bot`."""
    procs: list[asyncio.subprocess.Process] = []
    try:
        for ns, hz, extra in (
            (lab.ns("a"), 440, [*alice, "--peer", "bob", "--call"]),
            (lab.ns("b"), 660, [*bob, "--peer", "alice"]),
        ):
            procs.append(
                await _spawn_in(
                    ns,
                    "tests.support.nat_bot",
                    "--server",
                    url,
                    "--ca-file",
                    str(ca_file),
                    "--hz",
                    str(hz),
                    *extra,
                )
            )
        heard = await asyncio.gather(*(_heard(p) for p in procs))
        return heard[0], heard[1]
    finally:
        await _reap(procs)


async def _heard(proc: asyncio.subprocess.Process) -> Heard:
    assert proc.stdout is not None
    ice: list[Any] = []
    async with asyncio.timeout(60):
        while line := await proc.stdout.readline():
            with contextlib.suppress(json.JSONDecodeError):
                event: dict[str, Any] = json.loads(line)
                if event.get("event") == "signed_in":
                    ice = list(event["ice"])
                elif event.get("event") == "failed":
                    return Heard(None, "", ice, event)
                elif event.get("event") == "heard":
                    return Heard(float(event["hz"]), str(event["pair"]), ice)
    raise RuntimeError("a person of the lab call exited without an outcome")
