"""A real server with accounts (a SQLite file in the test's folder) for sign-in tests."""

from __future__ import annotations

from collections.abc import AsyncIterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest
import pytest_asyncio
from argon2 import PasswordHasher

from app.testing import SERVER_MARKER
from signaling.server.accounts import AccountDb
from signaling.server.app import RunningServer, start_server
from signaling.server.hub import ServerConfig
from tests.support.signaling import TEST_SECRET

#: argon2id at its cheapest: the tests exercise the flow, not the cost (the benchmark
#: and one test use the real parameters).
CHEAP_HASHER = PasswordHasher(time_cost=1, memory_cost=8, parallelism=1)
PASSWORD = "correct horse battery"


@dataclass
class AccountsServer:
    """A running server and its account database."""

    server: RunningServer
    db: AccountDb

    @property
    def url(self) -> str:
        return self.server.url

    def add(self, user_id: str, name: str | None = None, password: str = PASSWORD) -> None:
        self.db.add_user(user_id, name or user_id.title(), password)


async def start_accounts_server(path: Path, port: int = 0, **options: Any) -> AccountsServer:
    """A server on 127.0.0.1 with accounts in ``path``; ``options`` tune its config."""
    db = AccountDb(path, CHEAP_HASHER)
    config = ServerConfig(**{"secret": TEST_SECRET, **options})
    server = await start_server(config, "127.0.0.1", port, accounts=db)
    return AccountsServer(server, db)


@pytest_asyncio.fixture
async def accounts_server(
    request: pytest.FixtureRequest, tmp_path: Path
) -> AsyncIterator[AccountsServer]:
    """A server with accounts; ``@pytest.mark.parley_server(k=v)`` tunes its config."""
    marker = request.node.get_closest_marker(SERVER_MARKER)
    running = await start_accounts_server(
        tmp_path / "accounts.db", **(dict(marker.kwargs) if marker else {})
    )
    try:
        yield running
    finally:
        await running.server.stop()
        running.db.close()
