"""Call set-up between networks: direct, through two NATs with TURN, and how long a call
that cannot connect takes to give up.

The NAT lab of the suite (``tests/support/nat_lab.py``: two hosts behind NATs of their
own in network namespaces, coturn on the public side; needs root). Each run is a call
between two processes with a 440/660 Hz tone each way, ICE servers as parley-server
hands them out (STUN and TURN with REST credentials); set-up is timed from the start of
each side's process to its link being connected, gathering included. The **anchor**,
measured in the same run, is the same call between two processes on the public network
itself (no NAT: the host pair connects).

    python3 scripts/dev.py bench nat_setup [--runs 5] [--aioice]

``--aioice`` also times a call without TURN with Parley's connect timeout switched off:
how long aioice takes to report failure by itself (a minute or more).

Prints one JSON line.
"""

from __future__ import annotations

import argparse
import asyncio
import statistics
import sys
import tempfile
from pathlib import Path
from typing import Any

from _common import emit, machine

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from signaling.protocol import dump  # noqa: E402
from signaling.server.turn import ice_servers_for  # noqa: E402
from tests.support.nat_lab import (  # noqa: E402
    TURN_IP,
    TURN_PORT,
    NatLab,
    lab_call,
    lab_problem,
)

TURN_SECRET = "bench-turn-secret"


def servers(user_id: str, *, turn: bool) -> list[dict[str, Any]]:
    given = ice_servers_for(
        user_id,
        stun_uris=(f"stun:{TURN_IP}:{TURN_PORT}",),
        turn_uris=(f"turn:{TURN_IP}:{TURN_PORT}?transport=udp",) if turn else (),
        turn_secret=TURN_SECRET,
        ttl_s=3600,
    )
    return [{k: v for k, v in dump(s).items() if v is not None} for s in given]


async def setups(lab: NatLab, runs: int, hosts: tuple[str, str]) -> dict[str, Any]:
    times: list[float] = []
    pairs: list[str] = []
    for _ in range(runs):
        alice, bob = await lab_call(
            lab, servers("alice", turn=True), servers("bob", turn=True), hosts=hosts
        )
        if alice.connected_after_s is None or bob.connected_after_s is None:
            raise RuntimeError(f"a call in {hosts} did not connect: {alice} {bob}")
        if abs(alice.heard_hz - 660) > 30 or abs(bob.heard_hz - 440) > 30:
            raise RuntimeError(f"a call in {hosts} carried no audio: {alice} {bob}")
        times.append(max(alice.connected_after_s, bob.connected_after_s))
        pairs.append("/".join(sorted({alice.pair, bob.pair})))
    return {
        "connected_s": {
            "median": round(statistics.median(times), 3),
            "max": round(max(times), 3),
            "all": [round(t, 3) for t in times],
        },
        "pairs": sorted(set(pairs)),
    }


async def give_up(lab: NatLab, connect_timeout: float, within_s: float) -> float | None:
    alice, _ = await lab_call(
        lab,
        servers("alice", turn=False),
        servers("bob", turn=False),
        within_s=within_s,
        rebuilds=0,
        connect_timeout=connect_timeout,
    )
    if alice.connected_after_s is not None:
        raise RuntimeError("a call without TURN connected through two NATs")
    return alice.gave_up_after_s


async def run(runs: int, aioice: bool) -> dict[str, Any]:
    lab = NatLab(Path(tempfile.mkdtemp(prefix="parley-bench-nat-")))
    try:
        lab.up()
        lab.start_turn(TURN_SECRET)
        anchor = await setups(lab, runs, ("pub", "pub"))
        relayed = await setups(lab, runs, ("a", "b"))
        result: dict[str, Any] = {
            "benchmark": "nat_setup",
            "runs": runs,
            "anchor_direct_no_nat": anchor,
            "through_two_nats_with_turn": relayed,
            "without_turn_gives_up_after_s": await give_up(lab, 10.0, 30.0),
        }
        if aioice:
            result["without_turn_aioice_alone_gives_up_after_s"] = await give_up(lab, 0, 150.0)
        result["machine"] = machine()
        return result
    finally:
        lab.down()


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--runs", type=int, default=5)
    parser.add_argument("--aioice", action="store_true")
    args = parser.parse_args()
    if (problem := lab_problem()) is not None:
        raise SystemExit(f"nat_setup: {problem}")
    emit(asyncio.run(run(args.runs, args.aioice)))


if __name__ == "__main__":
    main()
