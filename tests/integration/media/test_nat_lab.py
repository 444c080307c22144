"""Two people on two networks, each behind a NAT of its own (network namespaces): the
call cannot connect without TURN, gives up by itself in seconds instead of aioice's
minute, and connects through coturn with the credentials parley-server hands out, with
audio both ways."""

from __future__ import annotations

import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from signaling.protocol import dump
from signaling.server.turn import ice_servers_for
from tests.support.nat_lab import TURN_IP, TURN_PORT, NatLab, lab_call, lab_problem

pytestmark = pytest.mark.timeout(120)
TURN_SECRET = "lab-turn-static-auth-secret"
STUN = (f"stun:{TURN_IP}:{TURN_PORT}",)
TURN = (f"turn:{TURN_IP}:{TURN_PORT}?transport=udp",)

if (problem := lab_problem()) is not None:
    pytest.skip(problem, allow_module_level=True)


@pytest.fixture(scope="module")
def lab(tmp_path_factory: pytest.TempPathFactory) -> Iterator[NatLab]:
    lab = NatLab(Path(tmp_path_factory.mktemp("nat-lab")))
    try:
        lab.up()
        lab.start_turn(TURN_SECRET)
        yield lab
    finally:
        lab.down()


def servers_for(user_id: str, *, turn: bool) -> list[dict[str, Any]]:
    """What parley-server gives ``user_id``: STUN, and TURN with its own credentials."""
    given = ice_servers_for(
        user_id,
        stun_uris=STUN,
        turn_uris=TURN if turn else (),
        turn_secret=TURN_SECRET,
        ttl_s=3600,
    )
    return [{k: v for k, v in dump(s).items() if v is not None} for s in given]


async def test_with_turn_the_call_connects_through_the_relay_with_audio_both_ways(
    lab: NatLab,
) -> None:
    alice, bob = await lab_call(lab, servers_for("alice", turn=True), servers_for("bob", turn=True))

    assert alice.connected_after_s is not None
    assert bob.connected_after_s is not None
    assert "relay" in (alice.pair, bob.pair)  # the only way between the two networks
    assert alice.heard_hz == pytest.approx(660, abs=30)  # Bob's tone
    assert bob.heard_hz == pytest.approx(440, abs=30)  # Alice's tone


async def test_without_turn_the_call_cannot_connect_and_gives_up_in_seconds(
    lab: NatLab,
) -> None:
    began = time.monotonic()
    alice, bob = await lab_call(
        lab,
        servers_for("alice", turn=False),
        servers_for("bob", turn=False),
        within_s=14.0,
        rebuilds=0,
    )

    assert alice.connected_after_s is None
    assert bob.connected_after_s is None
    # The offerer's own timeout (10 s), not aioice's ~64 s.
    assert alice.gave_up_after_s is not None
    assert alice.gave_up_after_s < 14
    assert time.monotonic() - began < 40
