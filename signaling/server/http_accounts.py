"""The sign-in API: ``/v1/server``, ``/v1/login``, ``/v1/signup``, ``/v1/refresh`` and
``/v1/logout`` (``docs/protocol.md`` § Accounts).

A sign-in answers a short-lived access token (the socket's ``auth.token``, a JWT signed
by this server's secret, which never leaves it) and a refresh token that renews it. Every
body is read with a size limit and validated before anything else; every error is the
socket protocol's ``{"ok": false, "error": {...}}`` with a fitting HTTP status.

Password hashing is slow on purpose and runs in a pool of worker threads, one per core;
at most ``MAX_QUEUED_HASHES`` wait for it, beyond that the answer is
``too_many_attempts`` at once instead of a queue that grows until everyone times out.
"""

from __future__ import annotations

import asyncio
import json
import logging
import os
from collections.abc import Awaitable, Callable
from concurrent.futures import ThreadPoolExecutor
from typing import Any, TypeVar

from aiohttp import web
from pydantic import ValidationError

from signaling.auth import mint_token
from signaling.errors import ErrorCode, SignalingError
from signaling.protocol import dump
from signaling.protocol_accounts import (
    MAX_BODY_BYTES,
    LoginRequest,
    LogoutRequest,
    RefreshRequest,
    Registration,
    SignUpRequest,
    TokenPair,
)
from signaling.server.accounts import AccountDb, UserRecord
from signaling.server.hub import Hub
from signaling.server.login_limits import LoginLimits, retry_after_header
from signaling.wire import UserInfo, WireModel, bad_request

log = logging.getLogger("parley.server.accounts")

MAX_QUEUED_HASHES = 256
#: How long a body may take to arrive once the request head has (a slow client holds a
#: connection the idle sweeper counts as busy).
BODY_TIMEOUT_S = 10.0
ModelT = TypeVar("ModelT", bound=WireModel)
T = TypeVar("T")

_STATUS = {
    ErrorCode.BAD_REQUEST: 400,
    ErrorCode.PAYLOAD_TOO_LARGE: 413,
    ErrorCode.UNAUTHORIZED: 401,
    ErrorCode.TOKEN_EXPIRED: 401,
    ErrorCode.TOKEN_REVOKED: 401,
    ErrorCode.INVALID_CREDENTIALS: 401,
    ErrorCode.TOO_MANY_ATTEMPTS: 429,
    ErrorCode.USER_EXISTS: 409,
    ErrorCode.INVITE_INVALID: 403,
    ErrorCode.REGISTRATION_CLOSED: 403,
}


class _TooManyAttemptsError(SignalingError):
    def __init__(self, wait_s: float, message: str) -> None:
        super().__init__(ErrorCode.TOO_MANY_ATTEMPTS, message)
        self.wait_s = wait_s


class AccountsApi:
    """The ``/v1`` sign-in endpoints of one server."""

    def __init__(self, hub: Hub, accounts: AccountDb, limits: LoginLimits | None = None) -> None:
        self._hub = hub
        self._config = hub.config
        self._accounts = accounts
        self._limits = limits or LoginLimits()
        self._hashing = ThreadPoolExecutor(
            max_workers=os.cpu_count() or 2, thread_name_prefix="password-hash"
        )
        self._queued = 0

    def add_routes(self, app: web.Application) -> None:
        app.router.add_post("/v1/login", self._endpoint(LoginRequest, self._login))
        app.router.add_post("/v1/signup", self._endpoint(SignUpRequest, self._sign_up))
        app.router.add_post("/v1/refresh", self._endpoint(RefreshRequest, self._refresh))
        app.router.add_post("/v1/logout", self._endpoint(LogoutRequest, self._logout))

    def close(self) -> None:
        self._hashing.shutdown(wait=False, cancel_futures=True)

    # --- plumbing -------------------------------------------------------------------

    def _endpoint(
        self,
        model: type[ModelT],
        handler: Callable[[ModelT, str], Awaitable[WireModel | None]],
    ) -> Callable[[web.Request], Awaitable[web.Response]]:
        async def serve(request: web.Request) -> web.Response:
            try:
                body = model.model_validate(await _read_json(request))
                answer = await handler(body, self._address(request))
            except SignalingError as exc:
                return _error_response(exc)
            except ValidationError as exc:
                return _error_response(bad_request(exc))
            return web.json_response({"ok": True, **(dump(answer) if answer else {})})

        return serve

    def _address(self, request: web.Request) -> str:
        if self._config.trust_forwarded_for:
            forwarded = request.headers.get("X-Forwarded-For", "")
            last = forwarded.rsplit(",", 1)[-1].strip()
            if last:
                return last
        return request.remote or "?"

    async def _in_hash_pool(self, work: Callable[[], T]) -> T:
        if self._queued >= MAX_QUEUED_HASHES:
            raise _TooManyAttemptsError(1.0, "the server is busy signing people in; try again")
        self._queued += 1
        try:
            return await asyncio.get_running_loop().run_in_executor(self._hashing, work)
        finally:
            self._queued -= 1

    def _check_limits(self, user_id: str, address: str) -> None:
        wait = self._limits.wait_s(user_id, address)
        if wait > 0:
            raise _TooManyAttemptsError(
                wait, f"too many failed sign-ins; try again in {retry_after_header(wait)} s"
            )

    def _pair(self, user: UserRecord, refresh_token: str) -> TokenPair:
        ttl = self._config.access_ttl_s
        return TokenPair(
            access_token=mint_token(self._config.secret, user.user_id, user.name, ttl),
            refresh_token=refresh_token,
            expires_in=ttl,
            user=UserInfo(user_id=user.user_id, name=user.name),
        )

    # --- endpoints ------------------------------------------------------------------

    async def _login(self, body: LoginRequest, address: str) -> TokenPair:
        self._check_limits(body.user_id, address)
        user = await self._in_hash_pool(
            lambda: self._accounts.check_password(body.user_id, body.password)
        )
        if user is None:
            self._limits.failed(body.user_id, address)
            self._hub.metrics.refused_connections["invalid_credentials"] += 1
            raise SignalingError(
                ErrorCode.INVALID_CREDENTIALS, "the user ID or the password is wrong"
            )
        self._limits.succeeded(body.user_id)
        refresh = await asyncio.to_thread(self._accounts.issue_refresh_token, user.user_id)
        return self._pair(user, refresh)

    async def _sign_up(self, body: SignUpRequest, address: str) -> TokenPair:
        registration = self._config.registration
        if registration is Registration.CLOSED:
            raise SignalingError(
                ErrorCode.REGISTRATION_CLOSED,
                "this server creates no accounts; ask its admin for one",
            )
        if registration is Registration.INVITE and body.invite_code is None:
            raise SignalingError(
                ErrorCode.REGISTRATION_CLOSED, "this server needs an invite code to sign up"
            )
        # A wrong invite code counts as a failed sign-in of the address: guessing codes
        # is guessing passwords.
        self._check_limits("", address)
        code = body.invite_code
        try:
            if code is not None and registration is Registration.INVITE:
                user = await self._in_hash_pool(
                    lambda: self._accounts.sign_up_with_invite(
                        code, body.user_id, body.name, body.password
                    )
                )
            else:
                user = await self._in_hash_pool(
                    lambda: self._accounts.add_user(body.user_id, body.name, body.password)
                )
        except SignalingError as exc:
            if exc.code is ErrorCode.INVITE_INVALID:
                self._limits.failed("", address)
            raise
        log.info("account %s created (%s registration)", user.user_id, registration.value)
        refresh = await asyncio.to_thread(self._accounts.issue_refresh_token, user.user_id)
        return self._pair(user, refresh)

    async def _refresh(self, body: RefreshRequest, address: str) -> TokenPair:
        user, refresh = await asyncio.to_thread(
            self._accounts.spend_refresh_token, body.refresh_token
        )
        return self._pair(user, refresh)

    async def _logout(self, body: LogoutRequest, address: str) -> None:
        user_id = await asyncio.to_thread(
            self._accounts.end_sign_in, body.refresh_token, everywhere=body.everywhere
        )
        if user_id is not None and body.everywhere:
            await self._hub.sign_out_everywhere(user_id)
        # An unknown token is already signed out: logging out twice is not an error.
        return None


class _SlowBodyError(SignalingError):
    def __init__(self) -> None:
        super().__init__(
            ErrorCode.BAD_REQUEST, f"the body did not arrive within {BODY_TIMEOUT_S:.0f} s"
        )


async def _read_json(request: web.Request) -> Any:
    if request.content_length is not None and request.content_length > MAX_BODY_BYTES:
        raise _too_large()
    try:
        raw = await asyncio.wait_for(_read_body(request), BODY_TIMEOUT_S)
    except TimeoutError:
        raise _SlowBodyError() from None
    try:
        data = json.loads(raw)
    except (ValueError, RecursionError):
        raise SignalingError(ErrorCode.BAD_REQUEST, "the body must be a JSON object") from None
    if not isinstance(data, dict):
        raise SignalingError(ErrorCode.BAD_REQUEST, "the body must be a JSON object")
    return data


async def _read_body(request: web.Request) -> bytes:
    """The whole body (it may come in pieces), refused as soon as it is too large."""
    chunks: list[bytes] = []
    size = 0
    while chunk := await request.content.read(MAX_BODY_BYTES + 1 - size):
        chunks.append(chunk)
        size += len(chunk)
        if size > MAX_BODY_BYTES:
            raise _too_large()
    return b"".join(chunks)


def _too_large() -> SignalingError:
    return SignalingError(
        ErrorCode.PAYLOAD_TOO_LARGE, f"the body is larger than {MAX_BODY_BYTES} bytes"
    )


def _error_response(exc: SignalingError) -> web.Response:
    body = exc.to_wire()
    headers = {}
    if isinstance(exc, _TooManyAttemptsError):
        retry = retry_after_header(exc.wait_s)
        body["error"]["retry_after"] = int(retry)
        headers["Retry-After"] = retry
    status = 408 if isinstance(exc, _SlowBodyError) else _STATUS.get(exc.code, 400)
    return web.json_response(body, status=status, headers=headers)


__all__ = ["BODY_TIMEOUT_S", "MAX_QUEUED_HASHES", "AccountsApi"]
