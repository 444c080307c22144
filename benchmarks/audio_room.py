"""Audio room at scale: one room, 8 seated speakers and N listeners, each its own process.

A ``parley-server`` runs in its own process; every member is a :class:`app.kit.bots.audio_room.
RoomBot` (the real kit: session, mesh, playback on the null clock output) in its own
spawned process. Speaker 0 is the host on seat 0, speakers 1–7 take seats 1–7, the
listeners join as audience. Once every listener plays all 8 speakers, the window opens:

- mouth-to-ear: the host injects clicks into its ``SyntheticAudioTrack``
  (``inject_click`` returns when the click's frame leaves ``recv()``, on the
  system-wide monotonic ``perf_counter``); each listener's playback tap finds the
  click's first loud sample (the technique of ``benchmarks/mouth_to_ear.py``);
- delivered: for each speaker, the audio frames each listener decoded relative to the
  packets that speaker really SENT, counted at both ends between the same two frames.
  Senders suppress silence (``media.silence``: after 0.4 s below -60 dBFS only a
  keep-alive every 0.4 s goes out), so a share of real time would count the silence
  that was never sent as lost. Every speaker therefore injects a marker click 0.3 s into
  the window and another 0.4 s before its end (the host's own clicks lie between);
  the speaker counts the packets its ``OpusFanout`` sent from the frame carrying the
  first click to the frame carrying the last (``on_packet``), and each listener counts
  the frames it decoded of that speaker from the first click to the last (found by
  level in that speaker's own decoded blocks). The host's timed clicks start 1 s into
  the window, clear of the markers. Listeners count 1.5 s longer, so a late
  last click still arrives;
- CPU (user+system, % of one core) of the host (a speaker) and of one listener.

``--tone``: every speaker also sends a continuous quiet tone (-36 dBFS, each its own
pitch), which is never silent, so nothing is suppressed: the worst case, as every
member ran before suppression. ``--no-suppression`` sends every frame of silence too
(``MediaOptions(suppress_silence=False)``).

For each N the run "holds" when p95 ≤ 200 ms, every click is heard, and every listener
decoded ≥ 99 % of the packets every speaker sent. Prints one JSON line with every N and
the largest N held.

``--sfu``: the rooms of ``--n`` go through a real Janus (``tests/support/janus_lab.py``: a
network namespace with a veth pair, as the tests run it; root and ``apt-get install
janus``), the rooms of ``--mesh-n`` stay a mesh, in the same run; each run also reports
the signaling server's and Janus's CPU per listener. ``--per-process K`` puts K listeners
in one process (and, for K > 1, the seven other speakers in one): a hundred one-member
processes on two cores would measure the scheduler. Every process freezes its objects
once set up, so no full collection stalls it mid-window. ``--settle`` waits after the
set-up; ``--warmup`` reports the window's first seconds apart (``latency_warmup``):
receivers start with the delay the set-up's stalls taught them and shed it while audio
plays.
"""

from __future__ import annotations

import argparse
import asyncio
import gc
import multiprocessing
import secrets
import sys
import time
from collections import defaultdict
from concurrent.futures import ThreadPoolExecutor
from multiprocessing.connection import Connection
from pathlib import Path
from typing import Any

import numpy as np
import numpy.typing as npt
from _common import CpuMeter, emit, machine, summary_ms, system_cpu_percent_sampler, use_ice_policy

GOAL_P95_MS = 200.0
GOAL_DELIVERED = 0.99
GOAL_SERVER_PERCENT = 0.3  # % of a core per listener, signaling server and SFU together
SPEAKERS = 8
ROOM = "bench-room"
RATE = 48_000
BLOCK = 960  # samples per 20 ms frame
THRESHOLD = 8_000  # int16; the click peaks near 29,000, the speakers send silence
REFRACTORY_S = 0.1
MATCH_WINDOW_S = 1.0  # a click heard later than this counts as missed
MARKER_START_S = 0.3  # every speaker's first marker click, into the window
MARKER_END_S = 0.4  # its last one, before the window ends
FIRST_CLICK_S = 1.0  # the host's first timed click, into the window
DRAIN_S = 1.5  # listeners count this much longer than speakers send markers
SENT_LOUD_DBFS = -25.0  # a frame carrying a click (≈ -11 dBFS); the tone is -36 dBFS
TONE_DBFS = -36.0  # --tone: 8 of them sum to ≤ 0.13 of full scale, under THRESHOLD


# --- the server process -------------------------------------------------------------


def server_process(conn: Connection, secret: str, sfu: tuple[str, str, str] | None) -> None:
    asyncio.run(_serve(conn, secret, sfu))


async def _serve(conn: Connection, secret: str, sfu: tuple[str, str, str] | None) -> None:
    from signaling.server.app import start_server
    from signaling.server.hub import ServerConfig
    from signaling.server.sfu import SfuSettings

    # Every member opens a link to every other: a burst of signals far above a person's.
    config = ServerConfig(secret=secret, rate_per_s=2000.0, rate_burst=5000.0)
    settings = SfuSettings(*sfu) if sfu is not None else None
    server = await start_server(config, "127.0.0.1", 0, sfu=settings)
    conn.send(server.url)
    await asyncio.get_running_loop().run_in_executor(None, conn.recv)
    await server.stop()


# --- a member process ---------------------------------------------------------------


def members_process(
    members: list[tuple[Connection, str, int, str]], url: str, args: argparse.Namespace
) -> None:
    """One process holding one or more members (``(conn, role, index, token)`` each)."""

    async def run() -> None:
        # Every member waits for the conductor on an executor thread: the default pool
        # (cores + 4 threads) would leave none for aiortc and the resolver.
        workers = ThreadPoolExecutor(max_workers=len(members) + 8)
        asyncio.get_running_loop().set_default_executor(workers)
        await asyncio.gather(
            *(_member(conn, role, index, url, token, args) for conn, role, index, token in members)
        )

    asyncio.run(run())


def marker_span(loud: list[bool], counted: list[int]) -> int | None:
    """Sum of ``counted`` from the first onset to the last onset (inclusive), in order.

    An onset is a loud item after one that was not; None with fewer than two onsets.
    """
    onsets = [i for i, now in enumerate(loud) if now and (i == 0 or not loud[i - 1])]
    if len(onsets) < 2:
        return None
    return sum(counted[onsets[0] : onsets[-1] + 1])


async def _member(
    conn: Connection, role: str, index: int, url: str, token: str, args: argparse.Namespace
) -> None:
    from app.kit.audio_room.sfu_audio import SfuRoomAudio
    from app.kit.bots.audio_room import RoomBot
    from app.kit.config.audio_room import AudioRoomConfig
    from app.kit.media import MediaOptions
    from app.kit.types import AudioRoomRole, User
    from media.peer_types import MediaKind
    from media.relay import OpusFanout
    from media.synthetic import SyntheticAudioTrack

    use_ice_policy(args.ice)
    loop = asyncio.get_running_loop()
    user_id = member_id(role, index)
    options = MediaOptions(synthetic=True, suppress_silence=not args.no_suppression)
    bot = RoomBot(url, token, User(user_id, user_id), media=options)
    # Per source: (loud, samples) of every decoded block while counting.
    blocks: dict[str, list[tuple[bool, int]]] = defaultdict(list)
    # Every packet the local fan-out encoded while counting: (loud, sent).
    packets: list[tuple[bool, bool]] = []
    onsets: list[float] = []
    last_onset = 0.0
    counting = False

    def count(key: str, block: npt.NDArray[np.int16]) -> None:
        if counting:
            loud = bool(np.abs(block.astype(np.int32)).max() > THRESHOLD)
            blocks[key].append((loud, len(block)))

    def on_packet(_pts: int, level_dbfs: float, sent: bool) -> None:
        if counting:
            packets.append((level_dbfs > SENT_LOUD_DBFS, sent))

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
        mic: SyntheticAudioTrack | None = None
        if role != "listener":
            if session.media.audio.source is None:
                session.media.set_microphone(True)
            source = session.media.audio.source
            assert isinstance(source, SyntheticAudioTrack)
            mic = source
            # The audio relay: the benchmark reads what it really sends.
            relay = (
                session.audio.sfu.fanout
                if isinstance(session.audio, SfuRoomAudio)
                else session.audio.mesh._relays[MediaKind.AUDIO]
            )
            assert isinstance(relay, OpusFanout)
            fanout = relay
            fanout.on_packet = on_packet
        conn.send(("joined", user_id))
        others = {member_id("host", 0)} | {member_id("speaker", i) for i in range(1, SPEAKERS)}
        others.discard(user_id)
        # Polling: playback keys change inside media tasks that signal no event.
        while not others <= set(session.media.playback.keys):  # noqa: ASYNC110
            await asyncio.sleep(0.1)
        # Everything made so far lives for the whole run: a full collection walking it
        # (~0.5 s with ten members in one process) would stall the loop mid-window and
        # read as latency.
        gc.collect()
        gc.freeze()
        conn.send(("ready", user_id))
        seconds, interval = await loop.run_in_executor(None, conn.recv)
        if mic is not None and args.tone:
            # A quiet tone for the whole window, never below the silence threshold.
            n = int((seconds + DRAIN_S + 2.0) * RATE)
            amplitude = 32767 * 10 ** (TONE_DBFS / 20) * np.sqrt(2)
            mic.inject(amplitude * np.sin(2 * np.pi * (300 + 60 * index) * np.arange(n) / RATE))
        cpu = CpuMeter()
        cpu.start()
        counting = True
        started = time.perf_counter()
        clicks: list[float] = []

        async def until(at: float) -> None:
            await asyncio.sleep(max(0.0, at - (time.perf_counter() - started)))

        if mic is not None:
            await until(MARKER_START_S)
            mic.inject_click()  # the first marker (not timed)
        if mic is not None and role == "host":
            # Clicks only once every listener counts and every speaker's first marker
            # has been heard (a process may start its window a little late).
            await until(FIRST_CLICK_S)
            while time.perf_counter() - started < seconds - 1.0:
                clicks.append(mic.inject_click())
                await asyncio.sleep(interval)
        if mic is not None:
            await until(seconds - MARKER_END_S)
            mic.inject_click()  # the last marker
        await until(seconds if role != "listener" else seconds + DRAIN_S)
        cpu_percent = cpu.percent()
        await asyncio.sleep(0.1)  # the last marker's frame has been encoded and counted
        counting = False
        sent_span = marker_span([p[0] for p in packets], [int(p[1]) for p in packets])
        received = {
            key: marker_span([b[0] for b in seen], [b[1] for b in seen])
            for key, seen in blocks.items()
        }
        conn.send(
            (
                "result",
                {
                    "user": user_id,
                    "cpu_percent": cpu_percent,
                    "clicks": clicks,
                    "window_start": started,
                    "onsets": onsets,
                    "sent": sent_span,
                    "encoded": len(packets),
                    "sent_total": sum(p[1] for p in packets),
                    "received": {
                        key: None if n is None else n / BLOCK for key, n in received.items()
                    },
                },
            )
        )
    finally:
        await bot.close()


def member_id(role: str, index: int) -> str:
    return {"host": "s0-host", "speaker": f"s{index}", "listener": f"l{index:03d}"}[role]


# --- the conductor ------------------------------------------------------------------


def run_room(n: int, args: argparse.Namespace, lab: Any = None) -> dict[str, Any]:
    """One room with ``n`` listeners; through ``lab``'s Janus when given, else a mesh."""
    from signaling.auth import mint_token

    ctx = multiprocessing.get_context("spawn")
    secret = secrets.token_urlsafe(48)
    server_end, server_child = ctx.Pipe()
    sfu = None
    if lab is not None:
        sfu = (lab.settings.url, lab.settings.api_secret, lab.settings.admin_key)
    server = ctx.Process(target=server_process, args=(server_child, secret, sfu), daemon=True)
    server.start()
    url = server_end.recv()
    members: list[tuple[str, Connection]] = []
    processes: list[Any] = []

    def spawn(role: str, indexes: list[int]) -> None:
        group = []
        for index in indexes:
            uid = member_id(role, index)
            parent, child = ctx.Pipe()
            group.append((child, role, index, mint_token(secret, uid, uid)))
            members.append((uid, parent))
        proc = ctx.Process(target=members_process, args=(group, url, args), daemon=True)
        proc.start()
        processes.append(proc)

    def wait_for(kind: str, conns: list[Connection], timeout: float) -> None:
        deadline = time.monotonic() + timeout
        for conn in conns:
            left = deadline - time.monotonic()
            if left <= 0 or not conn.poll(left):
                raise TimeoutError(f"members did not report {kind!r} in {timeout:.0f} s")
            got = conn.recv()
            if got[0] != kind:
                raise RuntimeError(f"expected {kind!r}, got {got!r}")

    per_process = max(1, args.per_process)
    setup_started = time.monotonic()
    try:
        spawn("host", [0])
        wait_for("joined", [members[0][1]], args.timeout)
        if per_process > 1:  # grouped: the other speakers share a process too
            spawn("speaker", list(range(1, SPEAKERS)))
        else:
            for i in range(1, SPEAKERS):
                spawn("speaker", [i])
        for first in range(0, n, per_process):
            spawn("listener", list(range(first, min(n, first + per_process))))
        wait_for("joined", [m[1] for m in members[1:]], args.timeout)
        wait_for("ready", [m[1] for m in members], args.timeout)
        setup_s = time.monotonic() - setup_started
        # Receivers size their delay by the arrival spread of the last seconds, which
        # still holds the set-up's stalls (every connection negotiating at once): the
        # window starts once that has passed, as a person would listen after joining.
        time.sleep(args.settle)
        system_cpu = system_cpu_percent_sampler()
        server_cpu = CpuMeter(server.pid)
        server_cpu.start()
        sfu_cpu = CpuMeter(lab.process.pid) if lab is not None else None
        if sfu_cpu is not None:
            sfu_cpu.start()
        for _, conn in members:
            conn.send((args.seconds, args.interval))
        results = {}
        for uid, conn in members:
            if not conn.poll(args.seconds + args.timeout):
                raise TimeoutError(f"{uid} sent no result")
            results[uid] = conn.recv()[1]
        machine_cpu = system_cpu()
        server_percent = server_cpu.percent()
        sfu_percent = sfu_cpu.percent() if sfu_cpu is not None else None
    finally:
        for proc in processes:
            proc.join(timeout=20)
            if proc.is_alive():
                proc.kill()
        server_end.send("stop")
        server.join(timeout=10)
        if server.is_alive():
            server.kill()
    summary = summarize(n, results, setup_s, machine_cpu, args.warmup)
    process_cpu = summary.pop("cpu_listener_percent")
    summary["cpu_listener_process_percent"] = process_cpu
    summary["cpu_listener_percent"] = round(process_cpu / per_process, 2)
    server_side = server_percent + (sfu_percent or 0.0)
    summary.update(
        server_cpu_percent=round(server_percent, 1),
        sfu_cpu_percent=None if sfu_percent is None else round(sfu_percent, 1),
        topology="sfu" if lab is not None else "mesh",
        listeners_per_process=per_process,
        # What one more listener costs the server side (signaling + SFU), % of a core.
        server_side_percent_per_listener=round(server_side / max(1, n), 3),
    )
    return summary


def summarize(
    n: int,
    results: dict[str, dict[str, Any]],
    setup_s: float,
    machine_cpu: float,
    warmup_s: float = 0.0,
) -> dict[str, Any]:
    host = results[member_id("host", 0)]
    clicks: list[float] = host["clicks"]
    # Clicks in the first warmup_s of the window are reported apart: receivers start
    # with the delay the set-up's stalls taught them and shed it while audio plays.
    steady_from = float(host["window_start"]) + warmup_s
    latencies: list[float] = []
    warmup: list[float] = []
    missed = 0
    delivered: list[float] = []
    pairs: list[tuple[float, str, str, float | None, int | None]] = []
    speakers = [member_id("host", 0)] + [member_id("speaker", i) for i in range(1, SPEAKERS)]
    sent = {s: results[s]["sent"] for s in speakers}
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
                (latencies if click >= steady_from else warmup).append(onsets[j] - click)
                j += 1
            else:
                missed += 1
        # A marker lost at either end counts as nothing delivered.
        for s in speakers:
            got = result["received"].get(s)
            share = min(1.0, got / sent[s]) if got is not None and sent[s] else 0.0
            delivered.append(share)
            pairs.append((share, uid, s, got, sent[s]))
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
        "latency_warmup": summary_ms(warmup),
        "clicks": len(clicks),
        "missed": missed,
        "delivered_min": round(worst, 4),
        "delivered_mean": round(mean, 4),
        "packets_sent_per_speaker": {s: sent[s] for s in speakers},
        # The three worst (listener, speaker) pairs: frames decoded / packets sent.
        "worst_pairs": [
            {"listener": uid, "speaker": s, "decoded": got, "sent": n}
            for _, uid, s, got, n in sorted(pairs)[:3]
        ],
        # Share of the encoded 20 ms frames each speaker sent over its window.
        "sent_share": {
            s: round(results[s]["sent_total"] / max(1, results[s]["encoded"]), 3) for s in speakers
        },
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
    parser.add_argument(
        "--tone", action="store_true", help="every speaker sends a quiet tone (never silent)"
    )
    parser.add_argument(
        "--no-suppression", action="store_true", help="send silence too (suppress_silence=False)"
    )
    parser.add_argument(
        "--settle", type=float, default=3.0, help="seconds between set-up and the window"
    )
    parser.add_argument(
        "--warmup",
        type=float,
        default=0.0,
        help="the window's first seconds, whose clicks are reported apart (latency_warmup)",
    )
    parser.add_argument(
        "--sfu",
        action="store_true",
        help="the rooms of --n go through a real Janus (in a network namespace: needs root "
        "and `apt-get install janus`); --mesh-n rooms run as a mesh in the same run",
    )
    parser.add_argument(
        "--mesh-n", type=int, nargs="*", default=[], help="with --sfu: mesh rooms beside them"
    )
    parser.add_argument(
        "--per-process", type=int, default=10, help="with --sfu: listeners per process"
    )
    args = parser.parse_args()
    runs = []
    plan = [(n, False) for n in args.mesh_n] if args.sfu else []
    plan += [(n, args.sfu) for n in args.n]
    lab = None
    if args.sfu:
        sys.path.insert(0, str(Path(__file__).resolve().parents[1]))
        from tests.support.janus_lab import JanusLab, lab_problem

        problem = lab_problem()
        if problem is not None:
            raise SystemExit(f"audio_room --sfu: {problem}")
        lab = JanusLab()
        lab.up()
    try:
        for n, through_sfu in plan:
            # Janus does no ICE on loopback: members offer their real interfaces then.
            run_args = argparse.Namespace(**{**vars(args), "ice": "off"}) if through_sfu else args
            try:
                runs.append(run_room(n, run_args, lab if through_sfu else None))
            except (TimeoutError, RuntimeError) as exc:
                topology = "sfu" if through_sfu else "mesh"
                runs.append(
                    {"listeners": n, "topology": topology, "held": False, "error": str(exc)}
                )
    finally:
        if lab is not None:
            lab.down()
    held = [run["listeners"] for run in runs if run["held"] and run.get("topology") != "mesh"]
    if not args.sfu:
        held = [run["listeners"] for run in runs if run["held"]]
    goal_listeners = 100 if args.sfu else 20
    emit(
        {
            "benchmark": "audio_room",
            "unit": "ms mouth-to-ear (click → listener playback), share of frames, % of a core",
            "speakers": SPEAKERS,
            "goal": {
                "p95_ms": GOAL_P95_MS,
                "delivered": GOAL_DELIVERED,
                "listeners": goal_listeners,
                "server_side_percent_per_listener": GOAL_SERVER_PERCENT if args.sfu else None,
            },
            "runs": runs,
            "largest_n_held": max(held) if held else 0,
            "goal_met": bool(held) and max(held) >= goal_listeners,
            "config": {
                "seconds": args.seconds,
                "interval_s": args.interval,
                "settle_s": args.settle,
                "warmup_s": args.warmup,
                "ice": args.ice,
                "tone": args.tone,
                "suppress_silence": not args.no_suppression,
                "sfu": args.sfu,
                "listeners_per_process": args.per_process if args.sfu else 1,
            },
            "machine": machine(),
        }
    )


if __name__ == "__main__":
    main()
