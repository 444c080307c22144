"""The echo user answers and sends the caller's own audio and video back."""

from __future__ import annotations

from app.kit.call.echo import ECHO_USER, echo_bot
from app.kit.media import MediaOptions
from app.testing import BotFactory, TokenFactory, wait_until
from signaling.server.app import RunningServer


async def test_echo_returns_your_tone_and_picture(
    parley_server: RunningServer, parley_token: TokenFactory, parley_bot: BotFactory
) -> None:
    echo = echo_bot(parley_server.url, parley_token(ECHO_USER.id, ECHO_USER.name))
    await echo.sign_in()
    try:
        alice = await parley_bot("alice", media=MediaOptions(synthetic=True, tone_hz=440))
        await alice.call([ECHO_USER.id], video=True)
        await alice.expect("invitation.on_outgoing_call_accepted")
        await alice.expect("call.user.on_enter")
        session = alice.session
        assert session is not None
        # Alice's own 440 Hz tone comes back, loud: the echo has no microphone of its own.
        await wait_until(lambda: session.members["echo"].speaking, timeout=15)
        assert session.members["echo"].level_dbfs > -30
        await wait_until(lambda: session.members["echo"].video is not None, timeout=15)
        await alice.hang_up()
        await echo.expect("call.on_call_end")
    finally:
        await echo.close()


async def test_silence_comes_back_as_silence(
    parley_server: RunningServer, parley_token: TokenFactory, parley_bot: BotFactory
) -> None:
    echo = echo_bot(parley_server.url, parley_token(ECHO_USER.id, ECHO_USER.name))
    await echo.sign_in()
    try:
        bob = await parley_bot("bob")  # synthetic silence
        await bob.call([ECHO_USER.id], video=False)
        await bob.expect("call.user.on_enter")
        session = bob.session
        assert session is not None
        await wait_until(lambda: "echo" in session.media.playback.keys, timeout=15)
        await wait_until(lambda: session.media.playback.blocks_played > 150, timeout=15)
        assert session.members["echo"].speaking is False
    finally:
        await echo.close()
