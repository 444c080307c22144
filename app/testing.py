"""Parley's pytest plugin: a running server and headless bots for your tests.

Installed with Parley and registered through the ``pytest11`` entry point, so any test
suite with Parley installed has these fixtures (see docs/testing.md):

- ``parley_server`` — a real ``parley-server`` on 127.0.0.1, on a free port, with a
  fresh secret; ``parley_server.url``;
- ``parley_token(user_id, name=None)`` — a token for that server;
- ``parley_bot(user_id, on_invited=Answer.IGNORE, ...)`` — a signed-in :class:`Bot`
  with synthetic camera and microphone; closed after the test;
- ``parley_room_bot(user_id, on_seat_invitation=Answer.IGNORE, ...)`` — a signed-in
  :class:`~app.room_bots.RoomBot` for audio rooms (``await bot.join(room, host=True)``).

Imports of the media stack happen inside the fixtures: plugins load before a suite's
own ``conftest.py``, which may first have to set up virtual sound devices.
"""

from __future__ import annotations

import secrets
from collections.abc import AsyncIterator, Awaitable, Callable
from typing import TYPE_CHECKING, Any

import pytest_asyncio

if TYPE_CHECKING:
    from app.bots import Answer, Bot
    from app.room_bots import RoomBot
    from signaling.server.app import RunningServer

TokenFactory = Callable[..., str]
BotFactory = Callable[..., Awaitable["Bot"]]
RoomBotFactory = Callable[..., Awaitable["RoomBot"]]


@pytest_asyncio.fixture
async def parley_server() -> AsyncIterator[RunningServer]:
    """A real signaling server on 127.0.0.1 and a free port, stopped after the test."""
    from signaling.server.app import start_server
    from signaling.server.hub import ServerConfig

    server = await start_server(ServerConfig(secret=secrets.token_urlsafe(48)), "127.0.0.1", 0)
    try:
        yield server
    finally:
        await server.stop()


@pytest_asyncio.fixture
async def parley_token(parley_server: RunningServer) -> TokenFactory:
    """Mints tokens for ``parley_server``: ``parley_token("alice", "Alice")``."""
    from signaling.auth import mint_token

    def make(user_id: str, name: str | None = None) -> str:
        return mint_token(parley_server.hub.config.secret, user_id, name or user_id.title())

    return make


@pytest_asyncio.fixture
async def parley_bot(
    parley_server: RunningServer, parley_token: TokenFactory
) -> AsyncIterator[BotFactory]:
    """Signs in bots: ``bob = await parley_bot("bob", on_invited=Answer.ANSWER)``."""
    from app.bots import Answer, Bot
    from app.types import User

    bots: list[Bot] = []

    async def make(
        user_id: str, name: str | None = None, on_invited: Answer = Answer.IGNORE, **options: Any
    ) -> Bot:
        display = name or user_id.title()
        bot = Bot(
            parley_server.url,
            parley_token(user_id, display),
            User(user_id, display),
            on_invited=on_invited,
            **options,
        )
        await bot.sign_in()
        bots.append(bot)
        return bot

    try:
        yield make
    finally:
        for bot in reversed(bots):
            await bot.close()


@pytest_asyncio.fixture
async def parley_room_bot(
    parley_server: RunningServer, parley_token: TokenFactory
) -> AsyncIterator[RoomBotFactory]:
    """Signs in audio-room bots: ``host = await parley_room_bot("host")``, then
    ``await host.join("room-1", host=True)``; each leaves and signs out after the test."""
    from app.bots import Answer
    from app.room_bots import RoomBot
    from app.types import User

    bots: list[RoomBot] = []

    async def make(
        user_id: str,
        name: str | None = None,
        on_seat_invitation: Answer = Answer.IGNORE,
        **options: Any,
    ) -> RoomBot:
        display = name or user_id.title()
        bot = RoomBot(
            parley_server.url,
            parley_token(user_id, display),
            User(user_id, display),
            on_seat_invitation=on_seat_invitation,
            **options,
        )
        await bot.sign_in()
        bots.append(bot)
        return bot

    try:
        yield make
    finally:
        for bot in reversed(bots):
            await bot.close()


__all__ = [
    "Answer",
    "BotFactory",
    "RoomBotFactory",
    "TokenFactory",
    "parley_bot",
    "parley_room_bot",
    "parley_server",
    "parley_token",
]


def __getattr__(name: str) -> Any:
    # ``from app.testing import Answer`` without importing the media stack at plugin load.
    if name == "Answer":
        from app.bots import Answer

        return Answer
    raise AttributeError(name)
