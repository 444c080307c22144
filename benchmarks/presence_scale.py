"""Presence at scale: N clients connecting at once and disconnecting at once.

The script starts ``parley-server`` as its own process on 127.0.0.1 (port 0, a random
secret), then, from ``--workers`` processes, opens N raw websocket clients (aiohttp, the
Engine.IO/Socket.IO framing written by hand from docs/protocol.md, answering pings and
reading every push). Every client signs in and, with presence on, sends
``presence.subscribe`` as the app does. Measured, for presence **on** and, as the
anchor in the same run, **off** (clients that never subscribe):

- **connect**: from the start until all N have signed in and been answered
  (connections opened ``--concurrency`` at a time per worker);
- **RSS per connection**: the server's RSS with N connected minus its RSS before, / N;
- **disconnect**: all N clients close their sockets at the same moment; the time until
  the server's ``/metrics`` reports ``parley_connections 0``;
- a **bystander**'s request round trip (``presence.list``) every 50 ms during both
  phases: p50, p99 and max — how long the server's event loop was blocked for others.

Prints one JSON line. Run from the repository root::

    .venv/bin/python benchmarks/presence_scale.py                  # N = 2000 and 5000
    .venv/bin/python benchmarks/presence_scale.py --clients 500    # a quick run
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import json
import multiprocessing
import os
import resource
import secrets
import statistics
import sys
import time
import urllib.request
from multiprocessing.connection import Connection
from pathlib import Path
from typing import Any

import aiohttp
import psutil

ROOT = Path(__file__).resolve().parent.parent
if str(ROOT) not in sys.path:
    sys.path.insert(0, str(ROOT))

from _server_process import start_server  # noqa: E402

from signaling.auth import mint_token  # noqa: E402

SERVER_START_TIMEOUT_S = 20.0
PHASE_TIMEOUT_S = 600.0


def raise_open_file_limit() -> None:
    _soft, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
    with contextlib.suppress(ValueError, OSError):
        resource.setrlimit(resource.RLIMIT_NOFILE, (hard, hard))


# --- a raw client -----------------------------------------------------------------------


class Client:
    """One signed-in websocket that reads (and discards) everything it is sent."""

    def __init__(self, session: aiohttp.ClientSession, url: str, token: str) -> None:
        self.session = session
        self.url = url
        self.token = token
        self.ws: aiohttp.ClientWebSocketResponse | None = None
        self.reader: asyncio.Task[None] | None = None
        self.answers: dict[int, asyncio.Future[str]] = {}
        self.next_id = 1

    async def open(self, subscribe: bool) -> None:
        self.ws = await self.session.ws_connect(
            f"{self.url}/socket.io/?EIO=4&transport=websocket", autoping=False
        )
        opened = await self.ws.receive_str()
        assert opened.startswith("0{"), opened
        await self.ws.send_str("40" + json.dumps({"token": self.token}))
        connected = await self.ws.receive_str()
        assert connected.startswith("40{"), connected
        self.reader = asyncio.get_running_loop().create_task(self.read())
        if subscribe:
            await self.request("presence.subscribe")

    async def request(self, event: str) -> float:
        """Send one request; the seconds until its answer."""
        assert self.ws is not None
        request_id, self.next_id = self.next_id, self.next_id + 1
        answer: asyncio.Future[str] = asyncio.get_running_loop().create_future()
        self.answers[request_id] = answer
        start = time.perf_counter()
        await self.ws.send_str(f"42{request_id}" + json.dumps([event, {}]))
        await asyncio.wait_for(answer, 120)
        return time.perf_counter() - start

    async def read(self) -> None:
        assert self.ws is not None
        async for message in self.ws:
            if message.type is not aiohttp.WSMsgType.TEXT:
                break
            data = message.data
            if data == "2":
                await self.ws.send_str("3")
            elif data.startswith("43"):
                digits = ""
                for char in data[2:]:
                    if not char.isdigit():
                        break
                    digits += char
                future = self.answers.pop(int(digits), None)
                if future is not None and not future.done():
                    future.set_result(data)

    async def close(self) -> None:
        # The reader first: aiohttp's close() reads the closing frame itself.
        if self.reader is not None:
            self.reader.cancel()
            await asyncio.gather(self.reader, return_exceptions=True)
        if self.ws is not None:
            with contextlib.suppress(Exception):
                await asyncio.wait_for(self.ws.close(), 5)


# --- worker processes -------------------------------------------------------------------


def worker(
    conn: Connection, url: str, secret: str, ids: list[str], options: dict[str, Any]
) -> None:
    raise_open_file_limit()
    asyncio.run(_worker(conn, url, secret, ids, options))


async def _worker(
    conn: Connection, url: str, secret: str, ids: list[str], options: dict[str, Any]
) -> None:
    loop = asyncio.get_running_loop()
    connector = aiohttp.TCPConnector(limit=0)
    async with aiohttp.ClientSession(connector=connector) as session:
        clients = [Client(session, url, mint_token(secret, uid, uid)) for uid in ids]
        gate = asyncio.Semaphore(options["concurrency"])

        async def open_one(client: Client) -> None:
            async with gate:
                await client.open(options["subscribe"])

        await loop.run_in_executor(None, conn.recv)  # "connect"
        await asyncio.gather(*(open_one(c) for c in clients))
        conn.send("connected")
        await loop.run_in_executor(None, conn.recv)  # "disconnect"
        for client in clients:  # every socket at once: no awaiting in between
            if client.ws is not None and (transport := client.ws._response.connection):
                transport.close()
        conn.send("closed")
        await asyncio.gather(*(c.close() for c in clients), return_exceptions=True)


# --- the server and the bystander --------------------------------------------------------


def step(what: str) -> None:
    """Progress on stderr (the result is the one line on stdout)."""
    print(f"{time.strftime('%H:%M:%S')} {what}", file=sys.stderr, flush=True)


def connections(url: str) -> int:
    with urllib.request.urlopen(f"{url}/metrics", timeout=120) as response:
        for line in response.read().decode().splitlines():
            if line.startswith("parley_connections "):
                return int(line.split()[1])
    raise RuntimeError("no parley_connections in /metrics")


class Bystander:
    """Sends ``presence.list`` every 50 ms and keeps the round trips."""

    def __init__(self, client: Client) -> None:
        self.client = client
        self.samples: list[float] = []
        self.task: asyncio.Task[None] | None = None
        self.stopping = asyncio.Event()

    def start(self) -> None:
        self.samples = []
        self.stopping = asyncio.Event()
        self.task = asyncio.get_running_loop().create_task(self._run())

    async def _run(self) -> None:
        # Stopped by an event, not by cancelling: asyncio.wait_for swallows a cancel that
        # arrives as its answer does (Python 3.11), and the loop would go on for ever.
        while not self.stopping.is_set():
            self.samples.append(await self.client.request("presence.list"))
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(self.stopping.wait(), 0.05)

    async def stop(self) -> dict[str, float]:
        assert self.task is not None
        self.stopping.set()
        await asyncio.gather(self.task, return_exceptions=True)
        ms = sorted(s * 1000 for s in self.samples)
        if not ms:
            return {"n": 0}
        p99 = ms[min(len(ms) - 1, round(0.99 * (len(ms) - 1)))]
        return {
            "n": len(ms),
            "p50_ms": round(statistics.median(ms), 2),
            "p99_ms": round(p99, 2),
            "max_ms": round(ms[-1], 2),
        }


async def phase(n: int, subscribe: bool, workers: int, concurrency: int) -> dict[str, Any]:
    secret = secrets.token_urlsafe(48)
    proc, url = start_server(secret)
    server = psutil.Process(proc.pid)
    pipes: list[Connection] = []
    procs: list[Any] = []
    loop = asyncio.get_running_loop()
    try:
        ids = [f"u{i}" for i in range(n)]
        options = {"subscribe": subscribe, "concurrency": concurrency}
        # Spawned, not forked: this process has threads by now (the executor).
        context = multiprocessing.get_context("spawn")
        for k in range(workers):
            parent, child = context.Pipe()
            p = context.Process(
                target=worker, args=(child, url, secret, ids[k::workers], options), daemon=True
            )
            p.start()
            pipes.append(parent)
            procs.append(p)
        async with aiohttp.ClientSession() as session:
            watcher = Client(session, url, mint_token(secret, "bystander", "Bystander"))
            await watcher.open(subscribe=False)
            bystander = Bystander(watcher)
            await asyncio.sleep(0.5)
            rss_before = server.memory_info().rss

            bystander.start()
            start = time.perf_counter()
            for pipe in pipes:
                pipe.send("connect")
            for pipe in pipes:
                await asyncio.wait_for(loop.run_in_executor(None, pipe.recv), PHASE_TIMEOUT_S)
            connect_s = time.perf_counter() - start
            step("connected")
            during_connect = await bystander.stop()
            await asyncio.sleep(1.0)
            rss_connected = server.memory_info().rss

            bystander.start()
            start = time.perf_counter()
            for pipe in pipes:
                pipe.send("disconnect")
            deadline = start + PHASE_TIMEOUT_S
            while await loop.run_in_executor(None, connections, url) > 1:  # the bystander
                if time.perf_counter() > deadline:
                    raise TimeoutError("clients still connected")
                await asyncio.sleep(0.05)
            disconnect_s = time.perf_counter() - start
            step("disconnected")
            during_disconnect = await bystander.stop()
            rss_after = server.memory_info().rss
            step("bystander stopped")
            await watcher.close()
            step("watcher closed")
        return {
            "clients": n,
            "presence": subscribe,
            "connect_s": round(connect_s, 2),
            "disconnect_s": round(disconnect_s, 2),
            "bystander_during_connect": during_connect,
            "bystander_during_disconnect": during_disconnect,
            "rss_before_mb": round(rss_before / 1e6, 1),
            "rss_connected_mb": round(rss_connected / 1e6, 1),
            "rss_after_mb": round(rss_after / 1e6, 1),
            "rss_per_connection_kb": round((rss_connected - rss_before) / n / 1e3, 1),
        }
    finally:
        for p in procs:
            p.kill()
        proc.kill()
        proc.wait()


async def main_async(args: argparse.Namespace) -> dict[str, Any]:
    results = []
    for n in args.clients:
        for subscribe in (False, True):  # the anchor first: the same clients, no presence
            results.append(await phase(n, subscribe, args.workers, args.concurrency))
            print(json.dumps(results[-1]), file=sys.stderr, flush=True)
    load1, _, _ = os.getloadavg()
    return {
        "benchmark": "presence_scale",
        "results": results,
        "cpus": os.cpu_count(),
        "load1_at_end": round(load1, 2),
        "date": time.strftime("%Y-%m-%d %H:%M UTC", time.gmtime()),
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--clients", type=int, nargs="+", default=[2000, 5000])
    parser.add_argument("--workers", type=int, default=2)
    parser.add_argument("--concurrency", type=int, default=100, help="opens at a time per worker")
    args = parser.parse_args()
    raise_open_file_limit()
    print(json.dumps(asyncio.run(main_async(args))), flush=True)


if __name__ == "__main__":
    main()
