"""Voice quality under packet loss: speech through a real Parley call between two network
namespaces, random loss on the wire, PESQ-WB of what the listener hears.

Lab (needs root, ``ip`` and ``nft``): namespaces ``pvq-a`` (Alice, speaking) and ``pvq-b``
(Bob, listening) joined by a veth pair; an nftables rule in Alice's namespace drops that
fraction of her outgoing UDP at random (``numgen random``; this kernel has no netem).
Each side is its own process (``ip netns exec``), signalling through a Unix socket this
process relays. Alice's synthetic microphone plays a speech sample (``espeak-ng``) through
the mesh's Opus fan-out; Bob's receiver is either aiortc's own audio path (``stock``, the
floor) or Parley's (``parley``, :mod:`media.voice_receive`), side by side in one run.

What Bob hears is rebuilt as his playback would play it: every decoded frame pushed, at
the time it left the receiver, into the same :class:`media.mixer.Mixer` the null output
pulls (10 ms blocks), silence where nothing was queued. PESQ-WB (ITU-T P.862.2, the
``pesq`` package) compares that with the sample. The delay is from the moment Alice's
microphone handed out a frame to the moment Bob's receiver handed out its audio
(network, jitter buffer and decoding; ``mouth_to_ear.py`` adds the playback). Chromium's
receiver (the anchor the goals name) is measured only where ``chromium`` is installed;
it is not on this machine, and the JSON says so. In its place the same run computes the
ceiling any receiver of this sender could reach (``ideal_pesq_wb``: the encoder's packets
dropped at random offline, each loss decoded from the next packet's FEC where it came,
no timing at all). Prints one JSON line.
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import dataclasses
import json
import os
import shutil
import subprocess
import sys
import tempfile
import time
import wave
from pathlib import Path
from typing import Any

import numpy as np
import numpy.typing as npt
from _common import emit, machine, percentile

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))
from tests.support.nat_lab import Relay

ROOT = Path(__file__).resolve().parent.parent
SCRIPT = str(Path(__file__).resolve())
NS_A, NS_B = "pvq-a", "pvq-b"
ADDR_A, ADDR_B = "10.78.0.1", "10.78.0.2"
RATE = 48_000
PESQ_RATE = 16_000
GOALS = {"0": 4.2, "5": 3.2, "10": 2.8}
GOAL_DELAY_P95_MS = 80.0
SENTENCES = (
    "The birch canoe slid on the smooth planks. Glue the sheet to the dark blue background. "
    "It is easy to tell the depth of a well. These days a chicken leg is a rare dish. "
    "Rice is often served in round bowls. The juice of lemons makes fine punch."
)
Int16Array = npt.NDArray[np.int16]


# -- the lab ----------------------------------------------------------------------------


def sh(*cmd: str, check: bool = True) -> None:
    subprocess.run(cmd, check=check, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)


def lab_up() -> None:
    lab_down()
    sh("ip", "netns", "add", NS_A)
    sh("ip", "netns", "add", NS_B)
    sh("ip", "link", "add", "pvq0", "netns", NS_A, "type", "veth", "peer", "pvq1", "netns", NS_B)
    for ns, dev, addr in ((NS_A, "pvq0", ADDR_A), (NS_B, "pvq1", ADDR_B)):
        sh("ip", "-n", ns, "addr", "add", f"{addr}/24", "dev", dev)
        sh("ip", "-n", ns, "link", "set", dev, "up")
        sh("ip", "-n", ns, "link", "set", "lo", "up")
    nft = ["ip", "netns", "exec", NS_A, "nft"]
    sh(*nft, "add", "table", "inet", "pvq")
    sh(*nft, "add chain inet pvq out { type filter hook output priority 0 ; }")


def set_loss(percent: float) -> None:
    nft = ["ip", "netns", "exec", NS_A, "nft"]
    sh(*nft, "flush", "chain", "inet", "pvq", "out")
    if percent > 0:
        per_mille = round(percent * 10)
        sh(
            *nft,
            f"add rule inet pvq out ip daddr {ADDR_B} udp length > 60 "
            f"numgen random mod 1000 < {per_mille} counter drop",
        )


def lab_down() -> None:
    for ns in (NS_A, NS_B):
        sh("ip", "netns", "del", ns, check=False)


def speech_sample(workdir: Path) -> Int16Array:
    """The sentences spoken by espeak-ng, as 48 kHz mono int16."""
    path = workdir / "speech.wav"
    subprocess.run(
        ["espeak-ng", "-v", "en-us", "-s", "150", "-w", str(path), SENTENCES], check=True
    )
    with wave.open(str(path)) as wav:
        rate = wav.getframerate()
        samples = np.frombuffer(wav.readframes(wav.getnframes()), dtype=np.int16)
    return resample(samples, rate, RATE)


def resample(samples: Int16Array, rate_in: int, rate_out: int) -> Int16Array:
    import av

    resampler = av.AudioResampler(format="s16", layout="mono", rate=rate_out)
    frame = av.AudioFrame.from_ndarray(samples.reshape(1, -1), format="s16", layout="mono")
    frame.sample_rate = rate_in
    out = [f.to_ndarray().reshape(-1) for f in resampler.resample(frame)]
    out += [f.to_ndarray().reshape(-1) for f in resampler.resample(None)]
    return np.concatenate(out).astype(np.int16)


# -- the two sides (run inside the namespaces) ------------------------------------------


async def run_side(args: argparse.Namespace) -> None:
    from aiortc.mediastreams import MediaStreamError, MediaStreamTrack
    from av import AudioFrame

    from media import ice
    from media.mesh import Mesh
    from media.peer_types import MediaKind, PeerState, SignalKind
    from media.synthetic import SyntheticAudioTrack
    from media.voice_receive import voice_receive_of

    ice.set_policy(ice.LoopbackPolicy.OFF)
    reader, writer = await asyncio.open_unix_connection(args.socket)
    me, other = ("alice", "bob") if args.role == "alice" else ("bob", "alice")
    writer.write(json.dumps({"hello": me}).encode() + b"\n")

    async def send(to: str, kind: SignalKind, payload: dict[str, Any]) -> None:
        writer.write(json.dumps({"kind": kind.value, "payload": payload}).encode() + b"\n")
        await writer.drain()

    received: list[tuple[int, float, Int16Array]] = []
    sent: list[tuple[int, float]] = []
    readers: list[asyncio.Task[None]] = []

    async def record(track: MediaStreamTrack) -> None:
        while True:
            try:
                frame = await track.recv()
            except MediaStreamError:
                return
            assert isinstance(frame, AudioFrame)
            channels = len(frame.layout.channels)  # aiortc's decoder gives stereo
            mono = frame.to_ndarray().reshape(-1, channels)[:, 0].astype(np.int16)
            received.append((frame.pts or 0, time.monotonic(), mono))

    def on_track(_uid: str, kind: MediaKind, track: MediaStreamTrack) -> None:
        if kind is MediaKind.AUDIO:
            readers.append(asyncio.get_running_loop().create_task(record(track)))

    mesh = Mesh(
        me,
        send,
        on_remote_track=on_track,
        stats_interval=1.0,
        voice_receive=args.receiver == "parley",
    )

    class Mic(SyntheticAudioTrack):
        async def recv(self) -> Any:
            frame = await super().recv()
            sent.append((len(sent) * frame.samples, time.monotonic()))
            return frame

    mic = Mic("silence")
    if args.role == "alice":
        await mesh.set_local_audio(mic)
        await mesh.add_peer("bob", send_video=False, recv_audio=False, recv_video=False)
    else:
        await mesh.add_peer("alice", send_audio=False, send_video=False, recv_video=False)

    async def pump() -> None:
        while line := await reader.readline():
            message = json.loads(line)
            await mesh.handle_signal(other, message["kind"], message["payload"])

    pumping = asyncio.get_running_loop().create_task(pump())
    while mesh.peers[other].state is not PeerState.CONNECTED:  # noqa: ASYNC110 (polled state)
        await asyncio.sleep(0.05)
    print(json.dumps({"event": "connected"}), flush=True)
    command = await asyncio.to_thread(sys.stdin.readline)  # "go" (Alice) or "stop" (Bob)
    if args.role == "alice":
        speech = np.load(args.speech)
        start = len(sent) * 960  # inject() mixes into the next frame rendered
        mic.inject(speech)
        await asyncio.sleep(len(speech) / RATE + 0.5)
        print(json.dumps({"event": "done", "speech_start": start}), flush=True)
        await asyncio.to_thread(sys.stdin.readline)
    stats: dict[str, int] = {}
    link = mesh.peers.get(other)
    pc = link._pc if link is not None else None
    for transceiver in pc.getTransceivers() if pc is not None else []:
        path = voice_receive_of(transceiver.receiver)
        if path is not None:
            stats = dataclasses.asdict(path.buffer.stats)
    np.savez(
        args.out,
        stats=np.asarray(json.dumps(stats)),
        sent=np.asarray(sent, dtype=np.float64).reshape(-1, 2),
        pts=np.asarray([r[0] for r in received], dtype=np.int64),
        times=np.asarray([r[1] for r in received], dtype=np.float64),
        audio=np.concatenate([r[2] for r in received]) if received else np.zeros(0, np.int16),
        lengths=np.asarray([len(r[2]) for r in received], dtype=np.int64),
    )
    del command
    pumping.cancel()
    await mesh.close()
    mic.stop()
    for task in readers:
        task.cancel()
    print(json.dumps({"event": "saved"}), flush=True)


# -- one condition, orchestrated from the root namespace --------------------------------


async def spawn(ns: str, *args: str) -> asyncio.subprocess.Process:
    return await asyncio.create_subprocess_exec(
        "ip",
        "netns",
        "exec",
        ns,
        sys.executable,
        SCRIPT,
        *args,
        stdin=asyncio.subprocess.PIPE,
        stdout=asyncio.subprocess.PIPE,
        cwd=ROOT,
        env={**os.environ, "PYTHONPATH": f"{ROOT}:{ROOT / 'benchmarks'}"},
    )


async def expect(proc: asyncio.subprocess.Process, event: str, within: float) -> dict[str, Any]:
    assert proc.stdout is not None
    while True:
        line = await asyncio.wait_for(proc.stdout.readline(), within)
        if not line:
            raise RuntimeError(f"side exited before {event!r}")
        with contextlib.suppress(json.JSONDecodeError):
            message: dict[str, Any] = json.loads(line)
            if message.get("event") == event:
                return message


async def one_call(workdir: Path, speech_file: Path, loss: float, receiver: str) -> dict[str, Any]:
    socket_path = workdir / f"sig-{receiver}-{loss}.sock"
    relay = Relay()
    server = await asyncio.start_unix_server(relay.handle, path=str(socket_path))
    outs = {side: workdir / f"{side}-{receiver}-{loss}.npz" for side in ("alice", "bob")}
    set_loss(0)
    common = ["--socket", str(socket_path), "--receiver", receiver, "--speech", str(speech_file)]
    bob = await spawn(NS_B, "--role", "bob", "--out", str(outs["bob"]), *common)
    alice = await spawn(NS_A, "--role", "alice", "--out", str(outs["alice"]), *common)
    try:
        await expect(alice, "connected", 30)
        await expect(bob, "connected", 30)
        await asyncio.sleep(1.0)  # a settled call, then the loss begins
        set_loss(loss)
        assert alice.stdin is not None
        assert bob.stdin is not None
        alice.stdin.write(b"go\n")
        done = await expect(alice, "done", 120)
        set_loss(0)
        await asyncio.sleep(0.3)
        bob.stdin.write(b"stop\n")
        alice.stdin.write(b"stop\n")
        await expect(bob, "saved", 30)
        await expect(alice, "saved", 30)
    finally:
        for proc in (alice, bob):
            with contextlib.suppress(ProcessLookupError):
                proc.kill()
            await proc.wait()
        await relay.close()
        server.close()
    a, b = np.load(outs["alice"]), np.load(outs["bob"])
    heard = {key: b[key] for key in ("pts", "times", "audio", "lengths")}
    return {
        "speech_start": int(done["speech_start"]),
        "sent": a["sent"],
        "receiver_stats": json.loads(str(b["stats"])),
        **heard,
    }


# -- analysis ----------------------------------------------------------------------------


def played_audio(
    lengths: npt.NDArray[np.int64], times: npt.NDArray[np.float64], audio: Int16Array
) -> Int16Array:
    """What the null output would have played: frames pushed into the playback's mixer at
    the time they left the receiver, pulled in 10 ms blocks on a steady clock."""
    from media.mixer import Mixer

    # AudioPlayback's defaults: play once 20 ms is queued, keep at most 60 ms.
    mixer = Mixer(prebuffer=int(RATE * 0.02), max_buffer=int(RATE * 0.06))
    mixer.add_source("alice")
    block = RATE // 100
    out: list[Int16Array] = []
    offsets = np.concatenate([[0], np.cumsum(lengths)])
    clock = times[0]
    index = 0
    end = times[-1] + 0.1
    while clock < end:
        while index < len(times) and times[index] <= clock:
            mixer.push("alice", audio[offsets[index] : offsets[index + 1]])
            index += 1
        out.append(mixer.pull(block))
        clock += block / RATE
    return np.concatenate(out)


def align(reference: Int16Array, degraded: Int16Array) -> Int16Array:
    """``degraded`` cut to start where ``reference`` does (FFT cross-correlation)."""
    ref = reference.astype(np.float64)
    deg = degraded.astype(np.float64)
    size = 1 << int(np.ceil(np.log2(len(ref) + len(deg))))
    corr = np.fft.irfft(np.fft.rfft(deg, size) * np.conj(np.fft.rfft(ref, size)), size)
    lag = int(np.argmax(corr[: len(deg)]))
    cut = degraded[lag : lag + len(reference)]
    return np.pad(cut, (0, len(reference) - len(cut)))


def delays_ms(result: dict[str, Any], speech: Int16Array) -> list[float]:
    """Per received speech frame: when Bob's receiver handed it out minus when Alice's
    microphone handed out the same audio (RTP time mapped onto microphone samples by
    cross-correlating the received frames, placed by timestamp, with what was sent)."""
    pts, times, lengths, audio = result["pts"], result["times"], result["lengths"], result["audio"]
    start = result["speech_start"]
    sent = result["sent"]
    mic = np.zeros(int(sent[-1, 0]) + 960, dtype=np.int16)
    mic[start : start + len(speech)] = speech[: len(mic) - start]
    placed = np.zeros(int(pts.max()) + 2000, dtype=np.int16)
    offsets = np.concatenate([[0], np.cumsum(lengths)])
    for i, p in enumerate(pts):
        chunk = audio[offsets[i] : offsets[i + 1]]
        placed[p : p + len(chunk)] = chunk
    m = mic.astype(np.float64)
    q = placed.astype(np.float64)
    size = 1 << int(np.ceil(np.log2(len(m) + len(q))))
    corr = np.fft.irfft(np.fft.rfft(m, size) * np.conj(np.fft.rfft(q, size)), size)
    shift = int(np.argmax(corr))  # mic index = pts + shift
    if shift > size // 2:
        shift -= size
    send_time = np.interp(np.arange(len(mic)), sent[:, 0], sent[:, 1])
    out = []
    for i, p in enumerate(pts):
        index = p + shift
        chunk = audio[offsets[i] : offsets[i + 1]]
        if start <= index < start + len(speech) and np.abs(chunk).max() > 500:
            out.append((times[i] - send_time[index]) * 1000)
    return out


def score(result: dict[str, Any], speech: Int16Array) -> dict[str, Any]:
    from pesq import pesq

    played = played_audio(result["lengths"], result["times"], result["audio"])
    reference = resample(speech, RATE, PESQ_RATE)
    degraded = align(reference, resample(played, RATE, PESQ_RATE))
    delays = delays_ms(result, speech)
    return {
        "receiver": result["receiver_stats"],
        "pesq_wb": round(float(pesq(PESQ_RATE, reference, degraded, "wb")), 2),
        "delay_ms": {
            "p50": round(float(percentile(delays, 50)), 1),
            "p95": round(float(percentile(delays, 95)), 1),
        },
    }


def ideal_pesq(speech: Int16Array, loss_percent: float, seed: int) -> float:
    """The ceiling for any receiver of this sender: Parley's encoder (FEC sized for the
    loss), packets dropped at random, every loss decoded from the next packet's FEC copy
    when that one came, concealed otherwise, no delay changes and no timing at all."""
    from pesq import pesq

    from media.opus import FRAME_SAMPLES, VoiceDecoder, VoiceEncoder

    encoder, decoder = VoiceEncoder(expected_loss=loss_percent / 100), VoiceDecoder()
    count = len(speech) // FRAME_SAMPLES
    packets = [
        encoder.encode(speech[i * FRAME_SAMPLES : (i + 1) * FRAME_SAMPLES]) for i in range(count)
    ]
    lost = np.random.default_rng(seed).random(count) < loss_percent / 100
    out = []
    for i, packet in enumerate(packets):
        if not lost[i]:
            out.append(decoder.decode(packet))
        elif i + 1 < count and not lost[i + 1]:
            out.append(decoder.recover(packets[i + 1]))
        else:
            out.append(decoder.conceal())
    reference = resample(speech, RATE, PESQ_RATE)
    degraded = align(reference, resample(np.concatenate(out), RATE, PESQ_RATE))
    return round(float(pesq(PESQ_RATE, reference, degraded, "wb")), 2)


async def run_all(args: argparse.Namespace) -> dict[str, Any]:
    for tool in ("ip", "nft", "espeak-ng"):
        if shutil.which(tool) is None:
            raise SystemExit(
                f"voice_quality needs {tool!r} (apt-get install iproute2 nftables espeak-ng)"
            )
    if os.geteuid() != 0:
        raise SystemExit("voice_quality needs root (it makes network namespaces)")
    losses = [float(x) for x in args.losses.split(",")]
    receivers = args.receivers.split(",")
    results: dict[str, dict[str, Any]] = {r: {} for r in receivers}
    ideal: dict[str, list[float]] = {}
    with tempfile.TemporaryDirectory(prefix="pvq-") as tmp:
        workdir = Path(tmp)
        speech = speech_sample(workdir)
        speech_file = workdir / "speech.npy"
        np.save(speech_file, speech)
        for loss in losses:
            ideal[f"{loss:g}"] = [ideal_pesq(speech, loss, seed) for seed in range(args.repeat)]
        lab_up()
        try:
            for loss in losses:
                for repeat in range(args.repeat):
                    for receiver in receivers:  # interleaved: same machine state for both
                        measured = score(
                            await one_call(workdir, speech_file, loss, receiver), speech
                        )
                        results[receiver].setdefault(f"{loss:g}", []).append(measured)
                        print(f"# {receiver} {loss:g}% #{repeat}: {measured}", file=sys.stderr)
        finally:
            lab_down()
    parley = results.get("parley", {})
    goal_met = all(
        min(m["pesq_wb"] for m in parley.get(loss, [{"pesq_wb": 0}])) >= goal
        for loss, goal in GOALS.items()
        if loss in parley
    )
    return {
        "benchmark": "voice_quality",
        "unit": "PESQ-WB (1–4.64) of the listener's playback; delay ms mic → receiver output",
        "speech_s": round(len(speech) / RATE, 1),
        "goals_pesq_wb": GOALS,
        "results": results,
        "ideal_pesq_wb": ideal,
        "goal_met": goal_met,
        "anchor_chromium": None
        if shutil.which("chromium") is None
        else "installed but not driven by this benchmark",
        "anchor_note": "chromium not installed: no browser anchor in this run"
        if shutil.which("chromium") is None
        else "",
        "config": {
            "losses_percent": losses,
            "repeat": args.repeat,
            "lab": "2 netns, veth, nft numgen",
        },
        "machine": machine(),
    }


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--losses", default="0,2,5,10", help="percent, comma-separated")
    parser.add_argument("--receivers", default="stock,parley")
    parser.add_argument("--repeat", type=int, default=2, help="calls per loss and receiver")
    parser.add_argument("--role", choices=["alice", "bob"], help=argparse.SUPPRESS)
    parser.add_argument("--socket", help=argparse.SUPPRESS)
    parser.add_argument("--out", help=argparse.SUPPRESS)
    parser.add_argument("--receiver", default="parley", help=argparse.SUPPRESS)
    parser.add_argument("--speech", help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.role:
        asyncio.run(run_side(args))
        return
    emit(asyncio.run(run_all(args)))


if __name__ == "__main__":
    main()
