"""Audio room at scale: one room, 8 seated speakers and N listeners, each its own process.

A ``parley-server`` runs in its own process; every member is a :class:`app.room_bots.
RoomBot` (the real kit: session, mesh, playback on the null clock output) in its own
spawned process. Speaker 0 is the host on seat 0, speakers 1–7 take seats 1–7, the
listeners join as audience. Once every listener plays all 8 speakers, the window opens:

- mouth-to-ear: the host injects clicks into its ``SyntheticAudioTrack``
  (``inject_click`` returns when the click's frame leaves ``recv()``, on the
  system-wide monotonic ``perf_counter``); each listener's playback tap finds the
  click's first loud sample (the technique of ``benchmarks/mouth_to_ear.py``);
- delivered: decoded audio per speaker in each listener, as a share of real time over
  the window (every speaker sends 50 frames/s of silence or clicks);
- CPU (user+system, % of one core) of the host (a speaker) and of one listener.

For each N the run "holds" when p95 ≤ 200 ms, every click is heard, and every listener
got ≥ 99 % of every speaker's frames. Prints one JSON line with every N and the largest
N held.
"""

from __future__ import annotations

import argparse
import asyncio
import multiprocessing
import secrets
import time
from collections import defaultdict
from multiprocessing.connection import Connection
from typing import Any

import numpy as np
import numpy.typing as npt
from _common import CpuMeter, emit, machine, summary_ms, system_cpu_percent_sampler, use_ice_policy

GOAL_P95_MS = 200.0
GOAL_DELIVERED = 0.99
SPEAKERS = 8
ROOM = "bench-room"
RATE = 48_000
BLOCK = 960  # samples per 20 ms frame
FRAMES_PER_S = 50
THRESHOLD = 8_000  # int16; the click peaks near 29,000, the speakers send silence
REFRACTORY_S = 0.1
MATCH_WINDOW_S = 1.0  # a click heard later than this counts as missed


# --- the server process -------------------------------------------------------------


def server_process(conn: Connection, secret: str) -> None:
    asyncio.run(_serve(conn, secret))


async def _serve(conn: Connection, secret: str) -> None:
    from signaling.server.app import start_server
    from signaling.server.hub import ServerConfig

    # Every member opens a link to every other: a burst of signals far above a person's.
    config = ServerConfig(secret=secret, rate_per_s=2000.0, rate_burst=5000.0)
    server = await start_server(config, "127.0.0.1", 0)
    conn.send(server.url)
    await asyncio.get_running_loop().run_in_executor(None, conn.recv)
    await server.stop()


# --- a member process ---------------------------------------------------------------


def member_process(conn: Connection, role: str, index: int, url: str, token: str, ice: str) -> None:
    asyncio.run(_member(conn, role, index, url, token, ice))


async def _member(conn: Connection, role: str, index: int, url: str, token: str, ice: str) -> None:
    from app.config.audio_room import AudioRoomConfig
    from app.room_bots import RoomBot
    from app.services.local_media import MediaOptions
    from app.types import AudioRoomRole, User
    from media.synthetic import SyntheticAudioTrack

    use_ice_policy(ice)
    loop = asyncio.get_running_loop()
    user_id = member_id(role, index)
    bot = RoomBot(url, token, User(user_id, user_id), media=MediaOptions(synthetic=True))
    samples: dict[str, int] = defaultdict(int)
    first_last: dict[str, list[float]] = {}
    onsets: list[float] = []
    last_onset = 0.0
    counting = False

    def count(key: str, block: npt.NDArray[np.int16]) -> None:
        if counting:
            now = time.perf_counter()
            samples[key] += len(block)
            # Frames expected between the first and the last arrival: a rate over the
            # whole window would count the jitter at its edges as loss.
            first_last.setdefault(key, [now, now])[1] = now

    def tap(block: npt.NDArray[np.int16], played_at: float) -> None:
        nonlocal last_onset
        loud = np.flatnonzero(np.abs(block.astype(np.int32)) > THRESHOLD)
        if counting and len(loud):
            onset = played_at + loud[0] / RATE
            if onset - last_onset >= REFRACTORY_S:
                last_onset = onset
                onsets.append(float(onset))

    try:
        await bot.sign_in()
        if role == "host":
            config = AudioRoomConfig(
                role=AudioRoomRole.HOST,
                take_seat_index_when_join=0,
                turn_on_microphone_when_joining=True,
            )
        else:
            config = AudioRoomConfig.audience()
        session = await bot.join(ROOM, config)
        if role == "speaker":
            while not await bot.take_seat(index):  # noqa: ASYNC110 - the host may not sit yet
                await asyncio.sleep(0.2)
        session.media.playback.add_source_listener(count)
        session.media.playback.add_tap(tap)
        conn.send(("joined", user_id))
        others = {member_id("host", 0)} | {member_id("speaker", i) for i in range(1, SPEAKERS)}
        others.discard(user_id)
        # Polling: playback keys change inside media tasks that signal no event.
        while not others <= set(session.media.playback.keys):  # noqa: ASYNC110
            await asyncio.sleep(0.1)
        conn.send(("ready", user_id))
        seconds, interval = await loop.run_in_executor(None, conn.recv)
        cpu = CpuMeter()
        cpu.start()
        counting = True
        started = time.perf_counter()
        clicks: list[float] = []
        if role == "host":
            mic = session.media.audio.source
            assert isinstance(mic, SyntheticAudioTrack)
            await asyncio.sleep(0.5)  # clicks only once every listener counts
            while time.perf_counter() - started < seconds - 1.0:
                clicks.append(mic.inject_click())
                await asyncio.sleep(interval)
        await asyncio.sleep(max(0.0, seconds - (time.perf_counter() - started)))
        counting = False
        conn.send(
            (
                "result",
                {
                    "user": user_id,
                    "cpu_percent": cpu.percent(),
                    "clicks": clicks,
                    "onsets": onsets,
                    "delivered": {
                        key: (samples[key] / BLOCK) / ((last - first) * FRAMES_PER_S + 1)
                        for key, (first, last) in first_last.items()
                    },
                },
            )
        )
    finally:
        await bot.close()


def member_id(role: str, index: int) -> str:
    return {"host": "s0-host", "speaker": f"s{index}", "listener": f"l{index:03d}"}[role]


# --- the conductor ------------------------------------------------------------------


def run_room(n: int, args: argparse.Namespace) -> dict[str, Any]:
    from signaling.auth import mint_token

    ctx = multiprocessing.get_context("spawn")
    secret = secrets.token_urlsafe(48)
    server_end, server_child = ctx.Pipe()
    server = ctx.Process(target=server_process, args=(server_child, secret), daemon=True)
    server.start()
    url = server_end.recv()
    members: list[tuple[str, Connection, Any]] = []

    def spawn(role: str, index: int) -> None:
        uid = member_id(role, index)
        parent, child = ctx.Pipe()
        token = mint_token(secret, uid, uid)
        proc = ctx.Process(
            target=member_process, args=(child, role, index, url, token, args.ice), daemon=True
        )
        proc.start()
        members.append((uid, parent, proc))

    def wait_for(kind: str, conns: list[Connection], timeout: float) -> None:
        deadline = time.monotonic() + timeout
        for conn in conns:
            left = deadline - time.monotonic()
            if left <= 0 or not conn.poll(left):
                raise TimeoutError(f"members did not report {kind!r} in {timeout:.0f} s")
            got = conn.recv()
            if got[0] != kind:
                raise RuntimeError(f"expected {kind!r}, got {got!r}")

    setup_started = time.monotonic()
    try:
        spawn("host", 0)
        wait_for("joined", [members[0][1]], args.timeout)
        for i in range(1, SPEAKERS):
            spawn("speaker", i)
        for i in range(n):
            spawn("listener", i)
        wait_for("joined", [m[1] for m in members[1:]], args.timeout)
        wait_for("ready", [m[1] for m in members], args.timeout)
        setup_s = time.monotonic() - setup_started
        system_cpu = system_cpu_percent_sampler()
        for _, conn, _ in members:
            conn.send((args.seconds, args.interval))
        results = {}
        for uid, conn, _ in members:
            if not conn.poll(args.seconds + args.timeout):
                raise TimeoutError(f"{uid} sent no result")
            results[uid] = conn.recv()[1]
        machine_cpu = system_cpu()
    finally:
        for _, _, proc in members:
            proc.join(timeout=20)
            if proc.is_alive():
                proc.kill()
        server_end.send("stop")
        server.join(timeout=10)
        if server.is_alive():
            server.kill()
    return summarize(n, results, setup_s, machine_cpu)


def summarize(
    n: int, results: dict[str, dict[str, Any]], setup_s: float, machine_cpu: float
) -> dict[str, Any]:
    host = results[member_id("host", 0)]
    clicks: list[float] = host["clicks"]
    latencies: list[float] = []
    missed = 0
    delivered: list[float] = []
    for uid, result in results.items():
        if not uid.startswith("l"):
            continue
        # Pair in order, each onset once: with a latency above the click interval the
        # first onset after a click belongs to the click before it.
        onsets = sorted(result["onsets"])
        j = 0
        for click in sorted(clicks):
            while j < len(onsets) and onsets[j] < click:
                j += 1
            if j < len(onsets) and onsets[j] <= click + MATCH_WINDOW_S:
                latencies.append(onsets[j] - click)
                j += 1
            else:
                missed += 1
        shares = result["delivered"]
        speakers = [member_id("host", 0)] + [member_id("speaker", i) for i in range(1, SPEAKERS)]
        delivered.extend(min(1.0, shares.get(s, 0.0)) for s in speakers)
    latency = summary_ms(latencies)
    worst = min(delivered) if delivered else 0.0
    mean = sum(delivered) / len(delivered) if delivered else 0.0
    held = bool(
        latency.get("p95", float("inf")) <= GOAL_P95_MS
        and missed == 0
        and bool(latencies)
        and worst >= GOAL_DELIVERED
    )
    return {
        "listeners": n,
        "latency": latency,
        "clicks": len(clicks),
        "missed": missed,
        "delivered_min": round(worst, 4),
        "delivered_mean": round(mean, 4),
        "cpu_speaker_percent": round(host["cpu_percent"], 1),
        "cpu_listener_percent": round(results[member_id("listener", 0)]["cpu_percent"], 1),
        "machine_cpu_percent": round(machine_cpu, 1),
        "setup_s": round(setup_s, 1),
        "held": held,
    }


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--n", type=int, nargs="+", default=[5, 10, 20], help="listener counts")
    parser.add_argument("--seconds", type=float, default=8.0, help="measured window per N")
    parser.add_argument("--interval", type=float, default=0.5, help="seconds between clicks")
    parser.add_argument("--timeout", type=float, default=120.0, help="to set a room up, s")
    parser.add_argument("--ice", default="only", choices=["only", "auto", "always", "off"])
    args = parser.parse_args()
    runs = []
    for n in args.n:
        try:
            runs.append(run_room(n, args))
        except (TimeoutError, RuntimeError) as exc:
            runs.append({"listeners": n, "held": False, "error": str(exc)})
    held = [run["listeners"] for run in runs if run["held"]]
    emit(
        {
            "benchmark": "audio_room",
            "unit": "ms mouth-to-ear (click → listener playback), share of frames, % of a core",
            "speakers": SPEAKERS,
            "goal": {"p95_ms": GOAL_P95_MS, "delivered": GOAL_DELIVERED, "listeners": 20},
            "runs": runs,
            "largest_n_held": max(held) if held else 0,
            "goal_met": bool(held) and max(held) >= 20,
            "config": {"seconds": args.seconds, "interval_s": args.interval, "ice": args.ice},
            "machine": machine(),
        }
    )


if __name__ == "__main__":
    main()
