"""A person at one host of the NAT lab: signs in to parley-server with an account (or
signs up with an invite code) over TLS, then calls or answers with the call kit, a tone of
``--hz`` as the microphone. Run inside the host's namespace:

    python -m tests.support.nat_bot --server URL --ca-file CA --user-id ID --password P
        --peer OTHER [--invite CODE --name NAME] [--call] --hz 440

Prints JSON lines: ``signed_in`` (with the ICE servers the server gave), then ``heard``
(the other side's dominant frequency, and the local candidate type of the link), or
``failed``. Waits for a line on stdin before hanging up.
"""

from __future__ import annotations

import argparse
import asyncio
import sys
import time
from typing import Any

import numpy as np

from tests.support.nat_peer import pair_type, say


async def main(args: argparse.Namespace) -> None:
    from app.kit.bots import Answer, Bot
    from app.kit.media import MediaOptions
    from app.kit.types import User
    from media import ice
    from media.peer_types import PeerState
    from signaling.accounts_client import AccessTokens, AccountsClient

    ice.set_policy(ice.LoopbackPolicy.OFF)
    accounts = AccountsClient(args.server, ca_file=args.ca_file)
    if args.invite:
        pair = await accounts.sign_up(args.user_id, args.name, args.password, args.invite)
    else:
        pair = await accounts.login(args.user_id, args.password)
    tokens = AccessTokens(accounts, pair)
    bot = Bot(
        args.server,
        tokens.access_token,
        User(pair.user.user_id, pair.user.name),
        ca_file=args.ca_file,
        on_invited=Answer.IGNORE if args.call else Answer.ANSWER,
        media=MediaOptions(synthetic=True, tone_hz=args.hz),
    )
    await bot.sign_in()
    client = bot.kit.client
    assert client is not None
    servers = await client.ice_servers()
    say(event="signed_in", ice=[s.urls for s in servers])
    began = time.monotonic()
    other = args.peer
    if args.call:
        # Both start at once: call once the other is signed in, or it is "offline".
        while other not in {u.user_id for u in await client.subscribe_presence()}:  # noqa: ASYNC110 (the server is polled)
            await asyncio.sleep(0.2)
        await bot.call([other], video=False)
    heard: list[np.ndarray[Any, Any]] = []

    def listen(key: str, block: Any) -> None:
        if key == other:
            heard.append(np.asarray(block, dtype=np.float64))

    listening = False
    deadline = began + args.within
    while time.monotonic() < deadline and len(heard) < 100:  # about two seconds
        session = bot.session
        if session is not None and not listening:
            session.media.playback.add_source_listener(listen)
            listening = True
        await asyncio.sleep(0.05)
    session = bot.session
    link = session.mesh.peers.get(other) if session is not None else None
    if link is None or link.state is not PeerState.CONNECTED or len(heard) < 100:
        say(
            event="failed",
            after_s=round(time.monotonic() - began, 2),
            blocks=len(heard),
            session=session is not None,
            link=link.state.value if link is not None else None,
        )
    else:
        audio = np.concatenate(heard[-50:])
        spectrum = np.abs(np.fft.rfft(audio * np.hanning(len(audio))))
        hz = float(np.argmax(spectrum) * 48000 / len(audio))
        say(event="heard", hz=round(hz, 1), pair=pair_type(link), from_user=other)
    await asyncio.to_thread(sys.stdin.readline)
    await bot.close()


if __name__ == "__main__":
    parser = argparse.ArgumentParser()
    parser.add_argument("--server", required=True)
    parser.add_argument("--ca-file", required=True)
    parser.add_argument("--user-id", required=True)
    parser.add_argument("--password", required=True)
    parser.add_argument("--invite", default="")
    parser.add_argument("--name", default="")
    parser.add_argument("--peer", required=True)
    parser.add_argument("--call", action="store_true")
    parser.add_argument("--hz", type=float, default=440.0)
    parser.add_argument("--within", type=float, default=30.0)
    asyncio.run(main(parser.parse_args()))
