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
from typing import TYPE_CHECKING, Any, Generic, Protocol, TypeVar

import pytest_asyncio

if TYPE_CHECKING:
    from app.kit.bots.audio_room import RoomBot
    from app.kit.bots.call import Answer, Bot
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


class _Signable(Protocol):
    async def sign_in(self) -> None: ...

    async def close(self) -> None: ...


B = TypeVar("B", bound=_Signable)


class BotPool(Generic[B]):
    """Signs in bots of one kind on one server, and signs them all out again.

    ``kind(url, token, user, **options)`` builds a bot (:class:`Bot` or
    :class:`~app.room_bots.RoomBot`); ``token(user_id, name)`` mints its token. The
    fixtures here and Parley's own UI tests share it.
    """

    def __init__(self, url: str, token: Callable[[str, str], str], kind: Callable[..., B]) -> None:
        self._url, self._token, self._kind = url, token, kind
        self._bots: list[B] = []

    async def make(self, user_id: str, name: str | None = None, **options: Any) -> B:
        """A signed-in bot; its display name defaults to the title-cased user ID."""
        from app.kit.types import User

        display = name or user_id.title()
        bot = self._kind(
            self._url, self._token(user_id, display), User(user_id, display), **options
        )
        await bot.sign_in()
        self._bots.append(bot)
        return bot

    async def close(self) -> None:
        """Sign every bot out, the newest first."""
        while self._bots:
            await self._bots.pop().close()


@pytest_asyncio.fixture
async def parley_bot(
    parley_server: RunningServer, parley_token: TokenFactory
) -> AsyncIterator[BotFactory]:
    """Signs in bots: ``bob = await parley_bot("bob", on_invited=Answer.ANSWER)``."""
    from app.kit.bots.call import Answer, Bot

    pool = BotPool(parley_server.url, parley_token, Bot)

    async def make(
        user_id: str, name: str | None = None, on_invited: Answer = Answer.IGNORE, **options: Any
    ) -> Bot:
        return await pool.make(user_id, name, on_invited=on_invited, **options)

    try:
        yield make
    finally:
        await pool.close()


@pytest_asyncio.fixture
async def parley_room_bot(
    parley_server: RunningServer, parley_token: TokenFactory
) -> AsyncIterator[RoomBotFactory]:
    """Signs in audio-room bots: ``host = await parley_room_bot("host")``, then
    ``await host.join("room-1", host=True)``; each leaves and signs out after the test."""
    from app.kit.bots.audio_room import RoomBot
    from app.kit.bots.call import Answer

    pool = BotPool(parley_server.url, parley_token, RoomBot)

    async def make(
        user_id: str,
        name: str | None = None,
        on_seat_invitation: Answer = Answer.IGNORE,
        **options: Any,
    ) -> RoomBot:
        return await pool.make(user_id, name, on_seat_invitation=on_seat_invitation, **options)

    try:
        yield make
    finally:
        await pool.close()


__all__ = [
    "Answer",
    "BotFactory",
    "BotPool",
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
        from app.kit.bots.call import Answer

        return Answer
    raise AttributeError(name)
