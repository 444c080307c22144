"""Sign-in latency: N people signing in at once (``POST /v1/login``), argon2id included;
and N signed-in apps renewing their tokens at once (``POST /v1/refresh``, no hashing).

A ``parley-server`` runs as its own process (accounts in a temporary folder, the
real password hashing: argon2id, 64 MiB, 3 passes); N accounts are made first. Then N
clients post their user ID and password at the same moment, ``--rounds`` times; each
login's latency is timed from send to answer. The **floor** is measured in the same
run: one argon2id verification on this machine, and N of them on a pool of one thread
per core in this process (the best any server could do with these parameters). One
login at a time is timed too.

    python3 scripts/dev.py bench login [--people 100] [--rounds 3]

Prints one JSON line.
"""

from __future__ import annotations

import argparse
import asyncio
import os
import statistics
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

import aiohttp
from _common import emit, machine, percentile

ROOT = Path(__file__).resolve().parent.parent
PASSWORD = "correct horse battery staple"


def hash_floor(people: int, samples: int = 10) -> tuple[float, float]:
    """Seconds one argon2id verification takes here (the server's parameters), and
    seconds ``people`` of them take on one thread per core."""
    from concurrent.futures import ThreadPoolExecutor

    from signaling.server.accounts import default_hasher

    hasher = default_hasher()
    stored = hasher.hash(PASSWORD)
    times = []
    for _ in range(samples):
        began = time.perf_counter()
        hasher.verify(stored, PASSWORD)
        times.append(time.perf_counter() - began)
    with ThreadPoolExecutor(max_workers=os.cpu_count() or 1) as pool:
        began = time.perf_counter()
        list(pool.map(lambda _: hasher.verify(stored, PASSWORD), range(people)))
        batch = time.perf_counter() - began
    return statistics.median(times), batch


REFRESH_TOKENS: dict[str, str] = {}


async def one_login(http: aiohttp.ClientSession, url: str, user_id: str) -> float:
    began = time.perf_counter()
    async with http.post(f"{url}/v1/login", json={"user_id": user_id, "password": PASSWORD}) as r:
        body = await r.json()
    if not body.get("ok"):
        raise RuntimeError(f"login of {user_id} failed: {body}")
    REFRESH_TOKENS[user_id] = body["refresh_token"]
    return time.perf_counter() - began


async def one_refresh(http: aiohttp.ClientSession, url: str, user_id: str) -> float:
    """What a signed-in app does at each start and every 15 minutes: no password hash."""
    began = time.perf_counter()
    token = REFRESH_TOKENS[user_id]
    async with http.post(f"{url}/v1/refresh", json={"refresh_token": token}) as r:
        body = await r.json()
    if not body.get("ok"):
        raise RuntimeError(f"refresh of {user_id} failed: {body}")
    REFRESH_TOKENS[user_id] = body["refresh_token"]
    return time.perf_counter() - began


async def run(people: int, rounds: int) -> dict[str, Any]:
    from signaling.server.accounts import AccountDb

    data = Path(tempfile.mkdtemp(prefix="parley-bench-login-"))
    db = AccountDb(data / "accounts.db")
    for n in range(people):
        db.add_user(f"user{n}", f"User {n}", PASSWORD)
    db.close()
    env = {k: v for k, v in os.environ.items() if not k.startswith("PARLEY_")}
    proc = await asyncio.create_subprocess_exec(
        sys.executable,
        "-m",
        "signaling.server.cli",
        "--port",
        "0",
        "--data-dir",
        str(data),
        "--log-level",
        "WARNING",
        cwd=ROOT,
        env=env,
        stdout=asyncio.subprocess.PIPE,
        stderr=asyncio.subprocess.DEVNULL,
    )
    assert proc.stdout is not None
    line = (await proc.stdout.readline()).decode()
    if not line.startswith("parley-server listening on "):
        proc.kill()
        raise RuntimeError(f"server did not start: {line!r}")
    url = line.split()[-1]
    latencies: list[float] = []
    alone: list[float] = []
    refreshes: list[float] = []
    batch_s: list[float] = []
    try:
        connector = aiohttp.TCPConnector(limit=0)
        async with aiohttp.ClientSession(connector=connector) as http:
            await one_login(http, url, "user0")  # warm up the server's imports and pool
            for n in range(20):
                alone.append(await one_login(http, url, f"user{n}"))
            for _ in range(rounds):
                began = time.perf_counter()
                latencies += await asyncio.gather(
                    *(one_login(http, url, f"user{n}") for n in range(people))
                )
                batch_s.append(time.perf_counter() - began)
                refreshes += await asyncio.gather(
                    *(one_refresh(http, url, f"user{n}") for n in range(people))
                )
    finally:
        proc.terminate()
        await proc.wait()
    t_hash, t_batch = hash_floor(people)
    return {
        "benchmark": "login",
        "people_at_once": people,
        "rounds": rounds,
        "login_ms": {
            "p50": round(percentile(latencies, 50) * 1000, 1),
            "p99": round(percentile(latencies, 99) * 1000, 1),
            "max": round(max(latencies) * 1000, 1),
        },
        "one_at_a_time_ms_p50": round(percentile(alone, 50) * 1000, 1),
        "refresh_ms_all_at_once": {
            "p50": round(percentile(refreshes, 50) * 1000, 1),
            "p99": round(percentile(refreshes, 99) * 1000, 1),
        },
        "batch_s_median": round(statistics.median(batch_s), 3),
        "floor": {
            "argon2id_verify_ms": round(t_hash * 1000, 1),
            "n_verifications_one_thread_per_core_s": round(t_batch, 3),
        },
        "machine": machine(),
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--people", type=int, default=100)
    parser.add_argument("--rounds", type=int, default=3)
    args = parser.parse_args()
    emit(asyncio.run(run(args.people, args.rounds)))


if __name__ == "__main__":
    main()
