"""What an attack costs everyone else: a bystander's round trip and the server's memory.

The script starts ``parley-server`` as its own process on 127.0.0.1 (port 0, a random
secret) and signs in a **bystander** that sends ``presence.list`` every 20 ms and times
the answer. It then runs, one after another, ``--seconds`` of no attack (the anchor) and
``--seconds`` of each attack below, with a pause after each; for every phase it reports
the bystander's p50/p99/max round trip, how many of its requests failed, and the
server's RSS before, at the peak during and after the attack (psutil, sampled every
100 ms). The attacks are the hostile clients of issue 11, written from
docs/protocol.md (tests/support/raw_socketio.py, tests/support/deaf_client.py):

- ``slow_reader_ws``: 4 websockets that request a ~240 KB room snapshot 40 times a
  second and never read (each comes back when dropped);
- ``slow_reader_polling``: the same over long-polling, never polling;
- ``slowloris``: 1,000 HTTP connections sending half a request head, and 50 silent ones;
- ``no_sign_in``: 300 websockets that answer pings and never sign in;
- ``attachments``: a binary event declaring 1,000,000 attachments, then 1 MB frames;
- ``malformed``: 2,000 undecodable packets a second from one signed-in connection;
- ``unknown_events``: 2,000 unknown events a second from one signed-in connection;
- ``reserved_names``: ``connect`` events carrying another user's token, 500 a second.

Prints one JSON line. Run from the repository root::

    .venv/bin/python benchmarks/attacks.py                 # 10 s per phase
    .venv/bin/python benchmarks/attacks.py --seconds 3     # a quick run
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import functools
import json
import os
import resource
import secrets
import statistics
import subprocess
import sys
import time
from collections.abc import Awaitable, Callable
from pathlib import Path
from typing import Any

import psutil

ROOT = Path(__file__).resolve().parent.parent
if str(ROOT) not in sys.path:
    sys.path.insert(0, str(ROOT))

from _server_process import start_server  # noqa: E402

from signaling.auth import mint_token  # noqa: E402
from tests.support.deaf_client import DeafPolling, DeafWebSocket, idle_connection  # noqa: E402
from tests.support.raw_socketio import RawSocket  # noqa: E402

ROOM = "big"
Attack = Callable[["Lab", float], Awaitable[None]]


class Lab:
    """The server process, its secret, and the bystander's measurements."""

    def __init__(self, proc: subprocess.Popen[str], url: str, secret: str) -> None:
        self.proc = proc
        self.url = url
        self.secret = secret
        self.server = psutil.Process(proc.pid)
        self.rtts: list[float] = []
        self.failures = 0
        self.rss_peak = 0

    def token(self, user_id: str) -> str:
        return mint_token(self.secret, user_id, user_id)

    def rss(self) -> int:
        return int(self.server.memory_info().rss)


async def bystander(lab: Lab, stop: asyncio.Event) -> None:
    sock = await RawSocket.open(lab.url, lab.token("bystander"))
    try:
        while not stop.is_set():
            start = time.perf_counter()
            try:
                answer = await sock.request("presence.list", {}, timeout=10)
                if answer.get("ok"):
                    lab.rtts.append(time.perf_counter() - start)
                else:
                    lab.failures += 1
            except (TimeoutError, ConnectionError, AssertionError):
                lab.failures += 1
                await sock.close()
                sock = await RawSocket.open(lab.url, lab.token("bystander"))
            sock.frames.clear()  # keep the bystander's own memory flat
            await asyncio.sleep(0.02)
    finally:
        await sock.close()


async def sample_rss(lab: Lab, stop: asyncio.Event) -> None:
    while not stop.is_set():
        lab.rss_peak = max(lab.rss_peak, lab.rss())
        await asyncio.sleep(0.1)


# --- the attacks ----------------------------------------------------------------------


async def big_room(lab: Lab) -> RawSocket:
    owner = await RawSocket.open(lab.url, lab.token("owner"))
    await owner.request("room.join", {"room_id": ROOM})
    for n in range(32):
        await owner.request(
            "room.properties.set", {"room_id": ROOM, "key": f"k{n}", "value": "v" * 1024}
        )
    for n in range(100):
        await owner.request("message.send", {"room_id": ROOM, "text": f"{n} " + "m" * 1990})
    owner.frames.clear()
    return owner


async def until(seconds: float, step: Callable[[], Awaitable[object]], rate: float) -> None:
    """Run ``step`` ``rate`` times a second for ``seconds`` (errors end that attacker)."""
    end = time.perf_counter() + seconds
    with contextlib.suppress(Exception):
        while time.perf_counter() < end:
            await step()
            await asyncio.sleep(1 / rate)


async def slow_reader_ws(lab: Lab, seconds: float) -> None:
    end = time.perf_counter() + seconds

    async def one(n: int) -> None:
        while time.perf_counter() < end:  # dropped: it comes back
            with contextlib.suppress(Exception):
                deaf = await DeafWebSocket.open(lab.url, lab.token(f"deaf{n}"))
                try:
                    left = end - time.perf_counter()
                    join = functools.partial(deaf.request, "room.join", {"room_id": ROOM})
                    await until(left, join, 40)
                finally:
                    deaf.close()
            await asyncio.sleep(0.05)

    await asyncio.gather(*(one(n) for n in range(4)))


async def slow_reader_polling(lab: Lab, seconds: float) -> None:
    end = time.perf_counter() + seconds

    async def flood(deaf: DeafPolling) -> None:
        if await deaf.request("room.join", {"room_id": ROOM}) != 200:
            raise ConnectionError("dropped")

    async def one(n: int) -> None:
        while time.perf_counter() < end:
            with contextlib.suppress(Exception):
                deaf = await DeafPolling.open(lab.url, lab.token(f"poll{n}"))
                try:
                    await until(end - time.perf_counter(), functools.partial(flood, deaf), 40)
                finally:
                    await deaf.close()
            await asyncio.sleep(0.05)

    await asyncio.gather(*(one(n) for n in range(4)))


async def slowloris(lab: Lab, seconds: float) -> None:
    head = b"GET /healthz HTTP/1.1\r\nHost: x\r\nX-Slow: "
    socks = []
    with contextlib.suppress(OSError):
        for n in range(1050):
            socks.append(await idle_connection(lab.url, head if n < 1000 else b""))
    await asyncio.sleep(seconds)
    for sock in socks:
        sock.close()


async def no_sign_in(lab: Lab, seconds: float) -> None:
    socks = []
    with contextlib.suppress(Exception):
        for _ in range(300):
            socks.append(await RawSocket.open(lab.url))  # answers pings, never signs in
    await asyncio.sleep(seconds)
    for sock in socks:
        await sock.close()


async def attachments(lab: Lab, seconds: float) -> None:
    end = time.perf_counter() + seconds
    while time.perf_counter() < end:
        with contextlib.suppress(Exception):
            sock = await RawSocket.open(lab.url, lab.token("mallory"))
            await sock.send('41000000-["x",{"_placeholder":true,"num":0}]')
            for _ in range(20):
                await sock.send(b"\x00" * 1_000_000)
            await sock.close()
        await asyncio.sleep(0.05)


async def _flood(lab: Lab, seconds: float, frame: Callable[[int], str], rate: float) -> None:
    sock = await RawSocket.open(lab.url, lab.token("mallory"))
    counter = iter(range(1, 10**9))

    async def burst() -> None:
        for _ in range(10):
            await sock.send(frame(next(counter)))
        sock.frames.clear()

    try:
        end = time.perf_counter() + seconds
        while time.perf_counter() < end:
            if sock.is_closed:  # closed for garbage beyond the rate limit: come back
                await sock.close()
                sock = await RawSocket.open(lab.url, lab.token("mallory"))
            await until(min(1.0, end - time.perf_counter()), burst, rate / 10)
    finally:
        await sock.close()


async def malformed(lab: Lab, seconds: float) -> None:
    await _flood(lab, seconds, lambda n: f"42{n}[", 2000)


async def unknown_events(lab: Lab, seconds: float) -> None:
    await _flood(lab, seconds, lambda n: f"42{n}" + json.dumps(["no.such.event", {}]), 2000)


async def reserved_names(lab: Lab, seconds: float) -> None:
    token = lab.token("ghost")
    await _flood(lab, seconds, lambda n: f"42{n}" + json.dumps(["connect", {"token": token}]), 500)


ATTACKS: dict[str, Attack] = {
    "slow_reader_ws": slow_reader_ws,
    "slow_reader_polling": slow_reader_polling,
    "slowloris": slowloris,
    "no_sign_in": no_sign_in,
    "attachments": attachments,
    "malformed": malformed,
    "unknown_events": unknown_events,
    "reserved_names": reserved_names,
}


async def none(lab: Lab, seconds: float) -> None:
    await asyncio.sleep(seconds)


# --- the run --------------------------------------------------------------------------


async def run_phase(
    lab: Lab, name: str, attack: Attack, seconds: float, rest: float
) -> dict[str, Any]:
    lab.rtts, lab.failures = [], 0
    rss_before = lab.rss()
    lab.rss_peak = rss_before
    stop = asyncio.Event()
    watchers = [
        asyncio.create_task(bystander(lab, stop)),
        asyncio.create_task(sample_rss(lab, stop)),
    ]
    try:
        await attack(lab, seconds)
    finally:
        stop.set()
        await asyncio.gather(*watchers, return_exceptions=True)
    await asyncio.sleep(rest)
    ms = sorted(r * 1000 for r in lab.rtts)
    p99 = ms[min(len(ms) - 1, round(0.99 * (len(ms) - 1)))] if ms else float("nan")
    return {
        "attack": name,
        "bystander_requests": len(ms),
        "bystander_failures": lab.failures,
        "p50_ms": round(statistics.median(ms), 2) if ms else None,
        "p99_ms": round(p99, 2) if ms else None,
        "max_ms": round(ms[-1], 2) if ms else None,
        "rss_before_mb": round(rss_before / 1e6, 1),
        "rss_peak_mb": round(lab.rss_peak / 1e6, 1),
        "rss_after_mb": round(lab.rss() / 1e6, 1),
    }


async def main_async(args: argparse.Namespace) -> dict[str, Any]:
    secret = secrets.token_urlsafe(48)
    proc, url = start_server(secret, "ERROR")
    lab = Lab(proc, url, secret)
    phases = []
    try:
        owner = await big_room(lab)
        names = args.attacks or list(ATTACKS)
        phases.append(await run_phase(lab, "none", none, args.seconds, args.rest))
        for name in names:
            phases.append(await run_phase(lab, name, ATTACKS[name], args.seconds, args.rest))
            print(json.dumps(phases[-1]), file=sys.stderr, flush=True)
        phases.append(await run_phase(lab, "none_again", none, args.seconds, args.rest))
        await owner.close()
    finally:
        proc.kill()
        proc.wait()
    load1, _, _ = os.getloadavg()
    return {
        "benchmark": "attacks",
        "seconds_per_phase": args.seconds,
        "phases": phases,
        "cpus": os.cpu_count(),
        "load1_at_end": round(load1, 2),
        "date": time.strftime("%Y-%m-%d %H:%M UTC", time.gmtime()),
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--seconds", type=float, default=10.0, help="length of each phase")
    parser.add_argument("--rest", type=float, default=3.0, help="pause after each phase")
    parser.add_argument("--attacks", nargs="*", choices=sorted(ATTACKS), help="only these")
    args = parser.parse_args()
    _soft, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
    resource.setrlimit(resource.RLIMIT_NOFILE, (hard, hard))
    print(json.dumps(asyncio.run(main_async(args))), flush=True)


if __name__ == "__main__":
    main()
