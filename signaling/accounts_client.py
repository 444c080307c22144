"""The client of the sign-in API (``docs/protocol.md`` § Accounts), and an access token
kept fresh from a refresh token for :class:`~signaling.client.SignalingClient`.

Errors are :class:`~signaling.errors.SignalingError` with the server's code, or
``not_connected`` when the server cannot be reached (its message says why: refused,
untrusted certificate, not a Parley server).
"""

from __future__ import annotations

import asyncio
import contextlib
import time
from collections.abc import Callable
from typing import Any, TypeVar

import aiohttp
from pydantic import ValidationError

from signaling.errors import ErrorCode, SignalingError
from signaling.protocol import dump
from signaling.protocol_accounts import (
    LoginRequest,
    LogoutRequest,
    RefreshRequest,
    ServerInfo,
    SignUpRequest,
    TokenPair,
)
from signaling.tls import TlsError, client_context, is_encrypted
from signaling.wire import UserInfo, WireModel, bad_request

ModelT = TypeVar("ModelT", bound=WireModel)
#: Renew the access token when less than this is left of it.
RENEW_BEFORE_S = 60.0


class AccountsClient:
    """Signs in to one server's account API."""

    def __init__(self, url: str, *, ca_file: str | None = None, timeout_s: float = 15.0) -> None:
        self.url = url.rstrip("/")
        self._ca_file = ca_file
        self._timeout_s = timeout_s

    async def server_info(self) -> ServerInfo:
        """Whether the server has accounts and who may sign up there."""
        return _parse(ServerInfo, await self._call("GET", "/v1/server", None), "/v1/server")

    async def login(self, user_id: str, password: str) -> TokenPair:
        """Sign in: ``invalid_credentials``, ``too_many_attempts`` ..."""
        body = _build(LoginRequest, user_id=user_id, password=password)
        return _parse(TokenPair, await self._call("POST", "/v1/login", body), "/v1/login")

    async def sign_up(
        self, user_id: str, name: str, password: str, invite_code: str | None = None
    ) -> TokenPair:
        """Create an account and sign in: ``user_exists``, ``invite_invalid`` ..."""
        body = _build(
            SignUpRequest,
            user_id=user_id,
            name=name or user_id,
            password=password,
            invite_code=invite_code or None,
        )
        return _parse(TokenPair, await self._call("POST", "/v1/signup", body), "/v1/signup")

    async def refresh(self, refresh_token: str) -> TokenPair:
        """Spend ``refresh_token`` for a new pair (it is no good afterwards)."""
        body = _build(RefreshRequest, refresh_token=refresh_token)
        return _parse(TokenPair, await self._call("POST", "/v1/refresh", body), "/v1/refresh")

    async def logout(self, refresh_token: str, *, everywhere: bool = False) -> None:
        """End this sign-in (``everywhere``: every sign-in of the user)."""
        body = _build(LogoutRequest, refresh_token=refresh_token, everywhere=everywhere)
        await self._call("POST", "/v1/logout", body)

    async def _call(self, method: str, path: str, body: WireModel | None) -> dict[str, Any]:
        ssl_context = None
        if is_encrypted(self.url):
            try:
                ssl_context = client_context(self._ca_file)
            except TlsError as exc:
                raise SignalingError(ErrorCode.NOT_CONNECTED, str(exc)) from None
        timeout = aiohttp.ClientTimeout(total=self._timeout_s)
        try:
            async with (
                aiohttp.ClientSession(timeout=timeout) as http,
                http.request(
                    method,
                    self.url + path,
                    json=dump(body) if body is not None else None,
                    ssl=ssl_context if ssl_context is not None else True,
                ) as response,
            ):
                status = response.status
                data = await response.json(content_type=None)
        except aiohttp.ClientConnectorCertificateError as exc:
            raise SignalingError(
                ErrorCode.NOT_CONNECTED,
                f"cannot connect to {self.url}: the server's certificate is not trusted "
                f"({exc.certificate_error})",
            ) from None
        except (aiohttp.ClientError, TimeoutError, OSError) as exc:
            raise SignalingError(
                ErrorCode.NOT_CONNECTED, f"cannot connect to {self.url}: {exc or 'timed out'}"
            ) from None
        except ValueError:
            raise _not_parley(self.url) from None
        if not isinstance(data, dict) or "ok" not in data:
            raise _not_parley(self.url)
        if not data["ok"]:
            raise _server_error(data, status)
        return data


class AccessTokens:
    """An access token renewed from a refresh token before it expires; pass
    :meth:`access_token` to a :class:`~signaling.client.SignalingClient` as its token.

    ``on_rotated`` is called with each new refresh token (the old one is spent): store
    it, or the next start has to sign in again.
    """

    def __init__(
        self,
        accounts: AccountsClient,
        pair: TokenPair,
        on_rotated: Callable[[str], None] | None = None,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        self._accounts = accounts
        self._on_rotated = on_rotated
        self._clock = clock
        self._lock = asyncio.Lock()
        self._take(pair)

    @classmethod
    async def resume(
        cls,
        accounts: AccountsClient,
        refresh_token: str,
        on_rotated: Callable[[str], None] | None = None,
    ) -> AccessTokens:
        """Sign in again with a stored refresh token (the app's next start)."""
        pair = await accounts.refresh(refresh_token)
        tokens = cls(accounts, pair, on_rotated)
        if on_rotated is not None:
            on_rotated(pair.refresh_token)
        return tokens

    @property
    def user(self) -> UserInfo:
        """Who these tokens sign in."""
        return self._pair.user

    @property
    def refresh_token(self) -> str:
        """The current refresh token (it changes on every renewal)."""
        return self._pair.refresh_token

    async def access_token(self) -> str:
        """A valid access token, renewed first when it is about to expire. Refreshes
        never overlap: spending one refresh token twice would end the sign-in."""
        if self._clock() >= self._expires_at - RENEW_BEFORE_S:
            async with self._lock:
                # Another caller may have renewed while this one waited for the lock.
                if self._clock() >= self._expires_at - RENEW_BEFORE_S:
                    await self._refresh()
        return self._pair.access_token

    async def renew(self) -> None:
        """Refresh now, whatever the clock says (the server refused the access token)."""
        async with self._lock:
            await self._refresh()

    async def _refresh(self) -> None:
        pair = await self._accounts.refresh(self._pair.refresh_token)
        self._take(pair)
        if self._on_rotated is not None:
            self._on_rotated(pair.refresh_token)

    async def logout(self, *, everywhere: bool = False) -> None:
        """End this sign-in on the server (not reachable: it ends when it expires)."""
        async with self._lock:
            with contextlib.suppress(SignalingError):
                await self._accounts.logout(self._pair.refresh_token, everywhere=everywhere)

    def _take(self, pair: TokenPair) -> None:
        self._pair = pair
        self._expires_at = self._clock() + pair.expires_in


def _parse(model: type[ModelT], data: dict[str, Any], path: str) -> ModelT:
    fields = {k: v for k, v in data.items() if k != "ok"}
    try:
        return model.model_validate(fields)
    except ValidationError as exc:
        raise SignalingError(
            ErrorCode.PROTOCOL, f"the server's answer to {path} is malformed: {exc}"
        ) from None


def _build(model: type[ModelT], **fields: Any) -> ModelT:
    try:
        return model.model_validate(fields)
    except ValidationError as exc:
        raise bad_request(exc) from None


def _not_parley(url: str) -> SignalingError:
    return SignalingError(
        ErrorCode.NOT_CONNECTED, f"{url} does not answer like a Parley server with accounts"
    )


def _server_error(data: dict[str, Any], status: int) -> SignalingError:
    error = data.get("error")
    if isinstance(error, dict):
        try:
            return SignalingError(ErrorCode(str(error.get("code"))), str(error.get("message", "")))
        except ValueError:
            pass
    return SignalingError(ErrorCode.PROTOCOL, f"the server answered HTTP {status}: {data!r:.200}")


__all__ = ["RENEW_BEFORE_S", "AccessTokens", "AccountsClient"]
