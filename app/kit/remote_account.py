"""Signing in to *a server* with an account (no Qt): a password once, then a refresh
token kept in the keyring (:mod:`app.kit.credentials`) so the next start needs none.

The server's secret is never asked for: the server signs the access tokens, this side
only keeps them fresh (:class:`signaling.accounts_client.AccessTokens`).
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Callable
from dataclasses import dataclass

from app.kit.account import SignInError, SignInProblem
from app.kit.credentials import Credentials, sign_in_key
from app.kit.sign_in_request import RemoteSignIn, normalize_server_url
from signaling.accounts_client import AccessTokens, AccountsClient
from signaling.errors import REFUSED_TOKEN, ErrorCode, SignalingError

log = logging.getLogger("parley.remote_account")

__all__ = ["RemoteAccounts", "RemoteSession"]


@dataclass(frozen=True)
class RemoteSession:
    """Signed in to a server's account: its address, the CA to trust, the tokens."""

    url: str
    tokens: AccessTokens
    ca_file: str | None = None

    @property
    def user_id(self) -> str:
        return self.tokens.user.user_id

    @property
    def name(self) -> str:
        return self.tokens.user.name


class RemoteAccounts:
    """Signs in to servers' accounts and remembers each sign-in in ``credentials``."""

    def __init__(self, credentials: Credentials) -> None:
        self.credentials = credentials
        self._writes: set[asyncio.Future[None]] = set()

    async def sign_in(self, request: RemoteSignIn, ca_file: str | None = None) -> RemoteSession:
        """Sign in (or sign up, then in); raises :class:`SignInError` saying why not."""
        url = normalize_server_url(request.url)
        client = AccountsClient(url, ca_file=ca_file)
        try:
            if request.create:
                pair = await client.sign_up(
                    request.user_id, request.name, request.password, request.invite_code
                )
            else:
                pair = await client.login(request.user_id, request.password)
        except SignalingError as exc:
            raise _sign_in_error(exc) from None
        key = sign_in_key(url, pair.user.user_id)
        tokens = AccessTokens(client, pair, lambda token: self._store(key, token))
        self._store(key, pair.refresh_token)
        return RemoteSession(url, tokens, ca_file)

    async def resume(
        self,
        url: str,
        user_id: str,
        ca_file: str | None = None,
        on_found: Callable[[], None] | None = None,
    ) -> RemoteSession | None:
        """Sign in again with the stored refresh token (``on_found`` is called when there
        is one, before the server is asked); None when there is none or the server no
        longer takes it (then it is forgotten). Raises :class:`SignInError` when the
        server cannot be reached (the token is kept for the next try)."""
        key = sign_in_key(url, user_id)
        stored = await asyncio.to_thread(self.credentials.store.get, key)
        if not stored:
            return None
        if on_found is not None:
            on_found()
        client = AccountsClient(url, ca_file=ca_file)
        try:
            tokens = await AccessTokens.resume(
                client, stored, lambda token: self._store(key, token)
            )
        except SignalingError as exc:
            if exc.code in REFUSED_TOKEN:
                await asyncio.to_thread(self.credentials.store.delete, key)
                return None
            raise _sign_in_error(exc) from None
        return RemoteSession(url, tokens, ca_file)

    async def end(self, session: RemoteSession, *, everywhere: bool = False) -> None:
        """Sign out on the server (if it can be reached) and forget the stored token."""
        await self.flush()
        await session.tokens.logout(everywhere=everywhere)
        await asyncio.to_thread(
            self.credentials.store.delete, sign_in_key(session.url, session.user_id)
        )

    async def flush(self) -> None:
        """Wait for stored tokens to be written."""
        if self._writes:
            await asyncio.gather(*self._writes, return_exceptions=True)

    def _store(self, key: str, token: str) -> None:
        # A keyring write may block (D-Bus): off the loop; rotations are minutes apart.
        write = asyncio.get_running_loop().run_in_executor(
            None, self.credentials.store.set, key, token
        )
        self._writes.add(write)
        write.add_done_callback(self._writes.discard)
        write.add_done_callback(_log_failure)


def _log_failure(write: asyncio.Future[None]) -> None:
    if not write.cancelled() and write.exception() is not None:
        log.warning("could not store the sign-in: %s", write.exception())


def _sign_in_error(exc: SignalingError) -> SignInError:
    if exc.code is ErrorCode.NOT_CONNECTED:
        return SignInError(SignInProblem.UNREACHABLE, exc.message)
    if exc.code is ErrorCode.BAD_REQUEST:
        return SignInError(SignInProblem.INVALID_INPUT, exc.message)
    if exc.code in (ErrorCode.PROTOCOL, ErrorCode.INTERNAL, ErrorCode.TIMEOUT):
        return SignInError(SignInProblem.FAILED, exc.message)
    return SignInError(SignInProblem.REFUSED, exc.message)
