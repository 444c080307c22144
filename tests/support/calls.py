"""A call between two bots that answered, for the tests that start from one."""

from __future__ import annotations

from app.kit.bots.call import Answer, Bot
from app.kit.call.session import CallSession
from app.testing import BotFactory, wait_until


async def answered_call(
    parley_bot: BotFactory, *, video: bool = False
) -> tuple[Bot, Bot, CallSession, CallSession]:
    """Alice calls Bob, he answers: both bots and both call sessions, once each hears
    the other."""
    alice = await parley_bot("alice")
    bob = await parley_bot("bob", on_invited=Answer.ANSWER)
    await alice.call(["bob"], video=video)
    await alice.expect("call.user.on_enter")
    await bob.expect("call.user.on_enter")
    a, b = alice.session, bob.session
    assert a is not None
    assert b is not None
    await wait_until(lambda: "alice" in b.media.playback.keys and "bob" in a.media.playback.keys)
    return alice, bob, a, b
