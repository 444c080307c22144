"""Audio rooms through a real Janus: the kit's room bots, a real server, real aiortc audio.

Janus runs in a network namespace of its own (it does no ICE on loopback); the server
here talks to it with the secrets only the server holds. The same room scenarios as
the mesh (``test_audio_room_kit``): speakers are heard, listeners are not; and what
the SFU adds: one connection each instead of a link per member, and seats enforced by
the server for every client, hand-made ones included.
"""

from __future__ import annotations

import asyncio
import json
import os
import secrets
import signal
import subprocess
import urllib.error
import urllib.request
from collections.abc import AsyncIterator, Iterator
from pathlib import Path
from typing import Any

import pytest
import pytest_asyncio
from aiortc import RTCPeerConnection
from aiortc.mediastreams import AudioStreamTrack

from app.kit.bots import Answer
from app.kit.bots.audio_room import RoomBot
from app.kit.media import MediaOptions
from app.kit.types import User
from app.testing import RoomBotFactory, TokenFactory, wait_until
from signaling.auth import mint_token
from signaling.client import SignalingClient
from signaling.errors import ErrorCode, SignalingError
from signaling.server.app import RunningServer, start_server
from signaling.server.hub import ServerConfig
from tests.support.janus_lab import ADMIN_KEY, JanusLab, lab_problem
from tests.support.server_process import run_cli
from tests.support.signaling import TEST_SECRET

ROOM = "sfu-room"
TONE = MediaOptions(synthetic=True, tone_hz=440)

pytestmark = pytest.mark.skipif(lab_problem() is not None, reason=lab_problem() or "")


@pytest.fixture(scope="module")
def janus_lab() -> Iterator[JanusLab]:
    lab = JanusLab()
    lab.up()
    try:
        yield lab
    finally:
        lab.down()


@pytest_asyncio.fixture
async def parley_server(janus_lab: JanusLab) -> AsyncIterator[RunningServer]:
    """The suite's server, with audio rooms through the lab's Janus."""
    config = ServerConfig(secret=secrets.token_urlsafe(48))
    server = await start_server(config, "127.0.0.1", 0, sfu=janus_lab.settings)
    try:
        yield server
    finally:
        await server.stop()


def hears(bot: RoomBot, user_id: str) -> bool:
    """Whether ``bot`` plays ``user_id`` and their seat rings (their tone is metered)."""
    seat = bot.session.state.seat_of(user_id)
    if seat is None or user_id not in bot.session.media.playback.keys:
        return False
    return bot.session.view().seats[seat].is_speaking


async def room_of_three(parley_room_bot: RoomBotFactory) -> tuple[RoomBot, RoomBot, RoomBot]:
    host = await parley_room_bot("host", media=TONE)
    await host.join(ROOM, host=True)
    bob = await parley_room_bot("bob", media=TONE, on_seat_invitation=Answer.ANSWER)
    await bob.join(ROOM)
    carol = await parley_room_bot("carol", media=TONE)
    await carol.join(ROOM)
    for bot in (host, bob, carol):
        await wait_until(lambda bot=bot: len(bot.session.state.members) == 3)  # type: ignore[misc]
    return host, bob, carol


async def test_speakers_are_heard_through_the_sfu_and_listeners_send_nothing(
    parley_room_bot: RoomBotFactory,
) -> None:
    host, bob, carol = await room_of_three(parley_room_bot)
    for bot in (bob, carol):
        await wait_until(lambda bot=bot: hears(bot, "host"), timeout=15)  # type: ignore[misc]
        assert bot.session.view().seats[0].speaking_level > 0.3
    # No peer links at all: one connection to the SFU each.
    for bot in (host, bob, carol):
        assert dict(bot.session.mesh.peers) == {}
    assert host.session.audio.sfu.publishing  # type: ignore[union-attr]
    assert not bob.session.audio.sfu.publishing  # type: ignore[union-attr]
    # The audience is heard by nobody.
    assert "bob" not in host.session.media.playback.keys
    assert "carol" not in bob.session.media.playback.keys
    assert "host" not in host.session.media.playback.keys  # nobody hears themselves


async def test_a_new_speaker_is_heard_and_stops_being_forwarded_off_the_seat(
    parley_room_bot: RoomBotFactory,
) -> None:
    host, bob, carol = await room_of_three(parley_room_bot)
    await wait_until(lambda: hears(carol, "host"), timeout=15)
    assert await host.controller.seat.host.invite_to_take("bob")
    await wait_until(lambda: bob.seats().get(1) == "bob")
    for bot in (host, carol):
        await wait_until(lambda bot=bot: hears(bot, "bob"), timeout=15)  # type: ignore[misc]
    # Removed from the seat: the SFU stops forwarding him and the others stop playing him.
    assert await host.controller.seat.host.remove_speaker("bob")
    for bot in (host, carol):
        await wait_until(
            lambda bot=bot: "bob" not in bot.session.audio.sfu.speakers.values(),  # type: ignore[misc]
            timeout=10,
        )
        await wait_until(lambda bot=bot: "bob" not in bot.session.media.playback.keys)  # type: ignore[misc]
    await wait_until(lambda: not bob.session.audio.sfu.publishing)  # type: ignore[union-attr]
    assert hears(carol, "host")  # the others still are


async def test_a_listener_cannot_publish_even_with_a_hand_made_client(
    parley_room_bot: RoomBotFactory,
    parley_server: RunningServer,
    parley_token: TokenFactory,
    janus_lab: JanusLab,
) -> None:
    host = await parley_room_bot("host", media=TONE)
    await host.join(ROOM, host=True)
    mallory = SignalingClient(parley_server.url, parley_token("mallory", "Mallory"))
    await mallory.connect()
    pc = RTCPeerConnection()
    try:
        await mallory.join_room(ROOM, "audio_room")
        pc.addTransceiver(AudioStreamTrack(), direction="sendonly")
        await pc.setLocalDescription(await pc.createOffer())
        with pytest.raises(SignalingError) as refused:
            await mallory.sfu_publish(ROOM, pc.localDescription.sdp)
        assert refused.value.code is ErrorCode.FORBIDDEN
        # Not a member at all: refused as well.
        with pytest.raises(SignalingError) as outside:
            await mallory.sfu_publish("another-room", pc.localDescription.sdp)
        assert outside.value.code is ErrorCode.NOT_IN_ROOM
        # Janus itself answers nobody without the server's secret...
        no_secret = await asyncio.to_thread(janus_post, janus_lab, {"janus": "create"})
        assert no_secret["janus"] == "error"
        assert no_secret["error"]["code"] == 403
        # ...and with its API secret alone no room can be made: that takes the admin key.
        refusal = await asyncio.to_thread(create_room_without_admin_key, janus_lab)
        assert "error" in refusal, refusal
        # The host, seated, still publishes.
        await wait_until(lambda: host.session.audio.sfu.publishing)  # type: ignore[union-attr]
    finally:
        await pc.close()
        await mallory.close()


def create_room_without_admin_key(lab: JanusLab) -> dict[str, Any]:
    """What Janus's VideoRoom answers to ``create`` from someone with the API secret only."""
    secret = {"apisecret": lab.settings.api_secret}
    session = janus_post(lab, {"janus": "create", **secret})["data"]["id"]
    handle = janus_post(
        lab, {"janus": "attach", "plugin": "janus.plugin.videoroom", **secret}, f"/{session}"
    )["data"]["id"]
    reply = janus_post(
        lab,
        {"janus": "message", "body": {"request": "create", "room": "mine"}, **secret},
        f"/{session}/{handle}",
    )
    janus_post(lab, {"janus": "destroy", **secret}, f"/{session}")
    data: dict[str, Any] = reply["plugindata"]["data"]
    return data


def janus_post(lab: JanusLab, message: dict[str, Any], path: str = "") -> dict[str, Any]:
    body = json.dumps({**message, "transaction": secrets.token_hex(6)}).encode()
    request = urllib.request.Request(
        lab.config.url + path, body, {"Content-Type": "application/json"}
    )
    with urllib.request.urlopen(request, timeout=5) as answer:
        reply: dict[str, Any] = json.loads(answer.read())
    return reply


def test_a_wrong_janus_secret_stops_the_server(janus_lab: JanusLab, tmp_path: Path) -> None:
    result = run_cli(
        "--port", "0", "--data-dir", str(tmp_path), "--janus-url", janus_lab.config.url,
        "--janus-secret", "not-the-secret", "--janus-admin-key", ADMIN_KEY,
    )  # fmt: skip
    assert result.returncode == 1
    assert f"parley-server: Janus at {janus_lab.config.url} refused the server" in result.stderr
    assert "Unauthorized" in result.stderr
    assert "listening on" not in result.stdout


async def test_a_member_who_leaves_is_no_longer_forwarded(
    parley_room_bot: RoomBotFactory,
) -> None:
    host, bob, carol = await room_of_three(parley_room_bot)
    assert await host.controller.seat.host.invite_to_take("bob")
    await wait_until(lambda: hears(carol, "bob"), timeout=15)
    await bob.leave(confirm=True)
    await wait_until(lambda: "bob" not in carol.session.media.playback.keys, timeout=10)
    await wait_until(
        lambda: "bob" not in carol.session.audio.sfu.speakers.values(),  # type: ignore[union-attr]
        timeout=10,
    )
    assert hears(carol, "host")


async def test_the_server_runs_its_own_janus_and_rooms_survive_its_restart(
    tmp_path: Path,
) -> None:
    """``parley-server --sfu janus``: the server writes Janus's config, starts it, and when
    Janus dies starts it again; the rooms publish and subscribe anew by themselves."""
    lab = JanusLab(index=1)
    lab.up(janus=False)  # the server brings its own
    server: subprocess.Popen[str] | None = None
    bots: list[RoomBot] = []
    try:
        server, url = lab.start_parley_server(tmp_path, TEST_SECRET)
        for user_id in ("host", "bob"):
            token = mint_token(TEST_SECRET, user_id, user_id.title())
            bot = RoomBot(url, token, User(user_id, user_id.title()), media=TONE)
            await bot.sign_in()
            bots.append(bot)
        host, bob = bots
        await host.join(ROOM, host=True)
        await bob.join(ROOM)
        await wait_until(lambda: hears(bob, "host"), timeout=15)
        first_receiver = bob.session.audio.sfu._receiver  # type: ignore[union-attr]
        # Janus dies: the server starts it again and both members connect anew.
        janus = lab.janus_pids()
        assert len(janus) == 1, janus
        os.kill(janus[0], signal.SIGKILL)
        await wait_until(lambda: lab.janus_pids() not in ([], janus), timeout=20)
        await wait_until(
            lambda: bob.session.audio.sfu._receiver not in (None, first_receiver),  # type: ignore[union-attr]
            timeout=20,
        )
        await wait_until(lambda: hears(bob, "host"), timeout=15)
        assert host.session.audio.sfu.publishing  # type: ignore[union-attr]
    finally:
        for bot in bots:
            await bot.close()
        if server is not None:
            server.terminate()
            server.wait(timeout=15)
            if server.stdout is not None:
                server.stdout.close()
        left = lab.janus_pids()
        lab.down()
    assert left == [], "the server left its Janus running"
