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
from tests.support.nat_lab import (
    SERVER_PORT,
    TURN_IP,
    TURN_PORT,
    NatLab,
    lab_call,
    lab_people_call,
    lab_problem,
    start_parley_server,
)
from tests.support.server_process import run_cli
from tests.support.test_ca import TestCA

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
    assert "relay" in f"{alice.pair} {bob.pair}"  # the only way between the two networks
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


async def test_a_person_signs_up_over_tls_and_calls_another_network_through_coturn(
    lab: NatLab, tmp_path: Path
) -> None:
    # The whole way: parley-server with accounts, TLS and TURN on the public network;
    # the admin adds Alice and makes an invite code; Bob signs up with it; Alice calls
    # Bob with the call kit; each hears the other through the relay.
    ca = TestCA(tmp_path)
    files = ca.issue(TURN_IP)
    data = tmp_path / "server-data"
    assert (
        run_cli(
            "--data-dir",
            str(data),
            "user",
            "add",
            "alice",
            "--name",
            "Alice",
            stdin="alices password\n",
        ).returncode
        == 0
    )
    invite = run_cli("--data-dir", str(data), "invite")
    assert invite.returncode == 0
    server = start_parley_server(lab, files.cert, files.key, data, turn_secret=TURN_SECRET)
    try:
        url = f"https://{TURN_IP}:{SERVER_PORT}"
        alice, bob = await lab_people_call(
            lab,
            url,
            ca.ca_file,
            ["--user-id", "alice", "--password", "alices password"],
            [
                "--user-id",
                "bob",
                "--name",
                "Bob",
                "--password",
                "bobs password",
                "--invite",
                invite.stdout.strip(),
            ],
        )
    finally:
        server.terminate()
        server.wait(timeout=10)
        if server.stdout is not None:
            server.stdout.close()

    assert alice.ice == bob.ice == [list(STUN), list(TURN)], (alice, bob)
    assert alice.failure is None, alice.failure
    assert bob.failure is None, bob.failure
    assert alice.hz == pytest.approx(660, abs=30)  # Bob's tone
    assert bob.hz == pytest.approx(440, abs=30)  # Alice's tone
    assert "relay" in f"{alice.pair} {bob.pair}"
    # The server's secret never left the public network's data folder.
    secret = (data / "secret").read_text().strip()
    assert secret not in " ".join(map(str, (alice, bob)))
