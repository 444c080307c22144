"""The server's core: sessions, request dispatch with validation and limits, and emit helpers.

Handlers (in the ``handlers_*`` modules) receive the :class:`Hub`, the calling
:class:`Caller` and an already validated request model, and return the ``ok`` answer's
fields or raise :class:`SignalingError`. Everything that can go wrong with a request is
turned into an error answer here; nothing a client sends can raise out of a handler.
"""

from __future__ import annotations

import asyncio
import json
import logging
import secrets
import time
from collections.abc import Awaitable, Callable, Coroutine, Iterable
from dataclasses import dataclass
from typing import Any, TypeVar

import socketio
from pydantic import ValidationError

from signaling.auth import Identity, check_secret, verify_token
from signaling.errors import ErrorCode, SignalingError
from signaling.protocol import (
    MAX_PAYLOAD_BYTES,
    PROTOCOL_VERSION,
    REQUESTS,
    IceServerInfo,
    PresenceBatchEvent,
    PresenceChangedEvent,
    PresenceInfo,
    SessionKickedEvent,
    UserInfo,
    WelcomeEvent,
    WireModel,
    dump,
)
from signaling.protocol_accounts import Registration
from signaling.protocol_audio import SeatMapInfo
from signaling.server.accounts import AccountDb
from signaling.server.guard import GuardedServer, Refusal
from signaling.server.metrics import Metrics
from signaling.server.outbox import MAX_QUEUED_BYTES
from signaling.server.ratelimit import LogBudget, TokenBucket
from signaling.server.timers import LocalTimers, Timers
from signaling.server.turn import ice_servers_for
from signaling.store import Session, Store
from signaling.wire import bad_request

log = logging.getLogger("parley.server")

PRESENCE_ROOM = "presence"
# Users per presence.changed push: one change is ~100 bytes of JSON.
PRESENCE_BATCH_USERS = 500
ModelT = TypeVar("ModelT", bound=WireModel)
Handler = Callable[["Hub", "Caller", Any], Awaitable[dict[str, Any]]]


@dataclass(frozen=True)
class ServerConfig:
    """Tunables of one server process."""

    secret: str
    rate_per_s: float = 50.0
    rate_burst: float = 100.0
    max_rooms_per_user: int = 8
    max_room_members: int = 200
    # How long a request to speak, and a host's invitation to a seat, wait for an answer.
    seat_application_timeout_s: float = 60.0
    seat_invitation_timeout_s: float = 60.0
    # How long a member whose connection dropped keeps their place in each room (in the
    # call, on their seat) for the client to reconnect and re-join; 0 leaves at once.
    rejoin_grace_s: float = 30.0
    # How long a connection may stay open without signing in (a CONNECT with a token).
    sign_in_timeout_s: float = 10.0
    # How much may wait to be sent to one connection; beyond it the client is not
    # reading (or cannot keep up) and is dropped.
    max_queued_bytes: int = MAX_QUEUED_BYTES
    # How long an HTTP connection may stay open without a request in progress (before
    # its first request head is complete, or after a response).
    http_idle_timeout_s: float = 10.0
    # How long a call whose invitation was accepted may stay empty before it is forgotten.
    unjoined_call_timeout_s: float = 60.0
    # Web origins whose pages may connect ("*": any). Empty: only clients that send no
    # Origin header (the desktop app, scripts); browsers always send one.
    allowed_origins: tuple[str, ...] = ()
    # How long presence changes are gathered into one presence.changed push.
    presence_batch_s: float = 0.05
    # When set, GET /metrics needs "Authorization: Bearer <metrics_token>".
    metrics_token: str = ""
    # ICE servers handed to every signed-in client: STUN URIs as they are, TURN URIs with
    # credentials made from turn_secret (shared with the TURN server) for turn_ttl_s.
    stun_uris: tuple[str, ...] = ()
    turn_uris: tuple[str, ...] = ()
    turn_secret: str = ""
    turn_ttl_s: int = 3600
    # The sign-in API (/v1/login ...; needs an account database): who may create an
    # account, how long an access token lives (a refresh token renews it).
    registration: Registration = Registration.INVITE
    access_ttl_s: int = 15 * 60
    # Behind a reverse proxy every request comes from the proxy: take the client's
    # address (for the sign-in limits) from the last X-Forwarded-For entry instead.
    trust_forwarded_for: bool = False

    def __post_init__(self) -> None:
        check_secret(self.secret)
        if self.rejoin_grace_s < 0:
            raise ValueError("the rejoin grace cannot be negative")
        if self.turn_uris and not self.turn_secret:
            raise ValueError("turn_uris need a turn_secret to make credentials with")


@dataclass(frozen=True)
class Caller:
    """The authenticated connection a request came from."""

    sid: str
    user_id: str
    name: str
    # The token it signed in with: what signing out revokes.
    token_id: str = ""
    issued_at: float = 0.0
    expires_at: float = 0.0

    @property
    def info(self) -> UserInfo:
        return UserInfo(user_id=self.user_id, name=self.name)


def room_channel(room_id: str) -> str:
    """The socket.io room that carries a Parley room's broadcasts."""
    return f"r:{room_id}"


def now_ms() -> int:
    return int(time.time() * 1000)


class Hub:
    """Owns the socket.io server, the store and the per-connection bookkeeping."""

    def __init__(
        self,
        sio: GuardedServer,
        store: Store,
        config: ServerConfig,
        timers: Callable[[Hub], Timers] = lambda hub: LocalTimers(hub.spawn),
    ) -> None:
        self.sio = sio
        self.store = store
        self.config = config
        self.metrics = Metrics()
        #: This process among the servers sharing the store (sessions say whose they are).
        self.server_id = secrets.token_hex(8)
        self._callers: dict[str, Caller] = {}
        #: Whether other servers share the store (and take over from this one).
        self.shared = False
        # Stopping with others sharing the store: the sessions are left to them.
        self._handing_over = False
        self._buckets: dict[str, TokenBucket] = {}
        self._presence_pending: dict[str, PresenceChangedEvent] = {}
        self._presence_flush: asyncio.TimerHandle | None = None
        self._presence_sent_at = float("-inf")
        self._tasks: set[asyncio.Task[None]] = set()
        self._closing = False
        #: Every timer of the domain modules (invitations ringing out, seats, rejoin grace).
        self.timers = timers(self)
        #: The account database when the sign-in API is served (``build_app``).
        self.accounts: AccountDb | None = None
        # Hooks the domain modules register for session start and end.
        self.on_session_start: list[Callable[[Caller], Awaitable[None]]] = []
        self.on_session_end: list[Callable[[Caller, bool], Awaitable[None]]] = []
        self.on_room_left: list[Callable[[str, str], Awaitable[None]]] = []
        self.on_seats_changed: list[Callable[[str, SeatMapInfo], Awaitable[None]]] = []
        #: Whether audio rooms travel through the SFU (their snapshots say ``media: sfu``).
        self.sfu = False
        sio.on("connect", self._on_connect)
        sio.on("disconnect", self._on_disconnect)
        sio.on("*", self._on_unknown)
        sio.on_refused = self._on_refused
        self._log_budget = LogBudget(log)

    # --- registration ---------------------------------------------------------------

    def handle(self, event: str) -> Callable[[Handler], Handler]:
        """Decorator: register the handler of a request named in ``protocol.REQUESTS``."""
        if event not in REQUESTS:
            raise KeyError(f"{event!r} is not a request in the protocol")

        def register(handler: Handler) -> Handler:
            model = REQUESTS[event]

            async def entry(sid: str, *args: Any) -> dict[str, Any]:
                return await self._dispatch(event, model, handler, sid, args)

            self.sio.on(event, entry)
            return handler

        return register

    # --- connection life ------------------------------------------------------------

    async def _on_connect(self, sid: str, environ: dict[str, Any], auth: Any = None) -> None:
        token = auth.get("token") if isinstance(auth, dict) else None
        try:
            identity = await self.identify(token)
        except SignalingError as exc:
            self.metrics.refused_connections[exc.code.value] += 1
            # The client sees this text in its connect_error; keep the code first.
            raise socketio.exceptions.ConnectionRefusedError(
                f"{exc.code.value}: {exc.message}"
            ) from None
        caller = Caller(
            sid,
            identity.user_id,
            identity.name,
            identity.token_id,
            identity.issued_at,
            identity.expires_at,
        )
        self._callers[sid] = caller
        self._buckets[sid] = TokenBucket(self.config.rate_per_s, self.config.rate_burst)
        previous = await self.store.bind_session(
            Session(caller.user_id, caller.name, sid, self.server_id)
        )
        if previous is not None and previous.sid != sid:
            await self._end_older_session(previous)
        self.metrics.connections += 1
        # Online before the client hears it is connected: its first presence.list has it.
        await self.presence_changed([caller.user_id])
        # Emits to it wait until the connect handler has returned: before that the client
        # has not seen its CONNECT packet and would drop them.
        self.spawn(self._after_connect(caller))

    async def identify(self, token: object) -> Identity:
        """Who ``token`` signs in (a socket's auth, or an HTTP Bearer token):
        :class:`SignalingError` when it is missing, forged, expired or signed out."""
        identity = verify_token(self.config.secret, token)
        if await self.store.is_revoked(identity.user_id, identity.token_id, identity.issued_at):
            raise SignalingError(ErrorCode.TOKEN_REVOKED, "this token was signed out")
        return identity

    async def sign_out_everywhere(self, user_id: str, *, keep_sid: str = "") -> None:
        """End every sign-in of ``user_id``: tokens issued until now are refused from now
        on, refresh tokens are deleted, and a live session is closed (but ``keep_sid``,
        which closes itself once it has its answer)."""
        await self.store.revoke_user(user_id, time.time())
        if self.accounts is not None:
            await asyncio.to_thread(self.accounts.end_all_sign_ins, user_id)
        session = await self.store.session_of(user_id)
        if session is not None and session.sid != keep_sid:
            # Also a session another server holds: its server is told to disconnect it.
            self.spawn(self.sio.disconnect(session.sid))

    async def _after_connect(self, caller: Caller) -> None:
        await asyncio.sleep(0)
        if self._callers.get(caller.sid) is not caller:
            return
        welcome = WelcomeEvent(
            protocol=PROTOCOL_VERSION,
            user=caller.info,
            server_time_ms=now_ms(),
            ice_servers=self.ice_servers_for(caller.user_id),
        )
        await self.sio.emit("session.welcome", dump(welcome), to=caller.sid)
        # (Presence was announced in the connect handler; these hooks do not change it.)
        for hook in self.on_session_start:
            await hook(caller)

    async def _end_older_session(self, previous: Session) -> None:
        old = self._callers.pop(previous.sid, None)
        self._buckets.pop(previous.sid, None)
        if old is None and previous.server == self.server_id:
            return  # its connection is gone already
        log.info("user %s signed in elsewhere; ending session %s", previous.user_id, previous.sid)
        kicked = SessionKickedEvent(reason="logged_in_elsewhere")
        # To a connection another server holds too: socket.io's manager carries it.
        await self.sio.emit("session.kicked", dump(kicked), to=previous.sid)
        if old is not None:
            self.metrics.connections -= 1
            for hook in self.on_session_end:
                await hook(old, True)
        # Held by another server, the session ends there, when the disconnect reaches it
        # (``_on_disconnect`` finds it replaced). A server that died ends nothing: its
        # client, reconnecting here, keeps its places in rooms and re-joins them.
        self.spawn(self.sio.disconnect(previous.sid))

    async def _on_disconnect(self, sid: str, reason: Any = None) -> None:
        caller = self._callers.pop(sid, None)
        self._buckets.pop(sid, None)
        if caller is None:
            return  # refused at connect, or already replaced by a newer login
        self.metrics.connections -= 1
        if self._handing_over:
            return
        if not await self.end_session(caller):
            # A newer login on another server replaced this one (one here would have
            # ended it already): what this login had ends as it would there.
            for hook in self.on_session_end:
                await hook(caller, True)

    async def hand_over(self) -> None:
        """Stopping while other servers share the store: close every connection but
        leave the sessions as they are. The clients reconnect to another server within
        seconds and sign in there, keeping their rooms, seats and ringing invitations;
        those that do not come back are ended by the others once this server has been
        silent for long enough, as if it had crashed."""
        self._handing_over = True
        if self.sio.eio.sockets:  # (engine.io fails on none)
            await self.sio.eio.disconnect()

    async def end_session(self, caller: Caller) -> bool:
        """The connection of ``caller`` is gone (here, or with a server that died): end
        its session, unless a newer login replaced it meanwhile (False then)."""
        if not await self.store.unbind_session(caller.user_id, caller.sid):
            return False
        # Offline first: whoever the hooks tell (a cancelled invitation) sees it so.
        await self.presence_changed([caller.user_id])
        for hook in self.on_session_end:
            await hook(caller, False)
        return True

    async def _on_unknown(self, event: str, sid: str, *args: Any) -> dict[str, Any]:
        bucket = self._buckets.get(sid)
        if bucket is not None and not bucket.take():
            error = SignalingError(ErrorCode.RATE_LIMITED, "too many requests; slow down")
        else:
            error = SignalingError(ErrorCode.UNKNOWN_EVENT, f"unknown event {event[:64]!r}")
        self.metrics.errors[error.code.value] += 1
        return error.to_wire()

    async def _on_refused(self, sid: str, reason: Refusal) -> None:
        """The gate refused a packet: count it, log a few, and charge the sender's rate
        limit; garbage beyond that limit ends the connection."""
        if reason is Refusal.SIGN_IN_TIMEOUT:
            self.metrics.refused_connections[reason.value] += 1
        elif reason is Refusal.SLOW_READER:
            self.metrics.dropped_connections[reason.value] += 1
        else:
            self.metrics.refused_packets[reason.value] += 1
        caller = self._callers.get(sid)
        who = f"{caller.user_id} ({sid})" if caller else "a socket not signed in"
        self._log_budget.log(f"refused {reason}", "refused a %s packet from %s", reason, who)
        bucket = self._buckets.get(sid)
        if bucket is not None and not bucket.take():
            self.spawn(self.sio.disconnect(sid))

    # --- dispatch -------------------------------------------------------------------

    async def _dispatch(
        self,
        event: str,
        model: type[WireModel],
        handler: Handler,
        sid: str,
        args: tuple[Any, ...],
    ) -> dict[str, Any]:
        self.metrics.requests[event] += 1
        try:
            caller = self._callers.get(sid)
            if caller is None:
                raise SignalingError(ErrorCode.UNAUTHORIZED, "session is not signed in")
            if not self._buckets[sid].take():
                raise SignalingError(ErrorCode.RATE_LIMITED, "too many requests; slow down")
            request = self._validate(model, args)
            answer = await handler(self, caller, request)
            return {"ok": True, **answer}
        except SignalingError as exc:
            self.metrics.errors[exc.code.value] += 1
            return exc.to_wire()
        except Exception:
            self._log_budget.log(
                f"failed {event}",
                "handler for %s failed",
                event,
                level=logging.ERROR,
                exc_info=True,
            )
            self.metrics.errors[ErrorCode.INTERNAL.value] += 1
            return SignalingError(ErrorCode.INTERNAL, "internal server error").to_wire()

    @staticmethod
    def _validate(model: type[ModelT], args: tuple[Any, ...]) -> ModelT:
        if len(args) > 1:
            raise SignalingError(ErrorCode.BAD_REQUEST, "send exactly one payload object")
        data = args[0] if args else {}
        if not isinstance(data, dict):
            raise SignalingError(ErrorCode.BAD_REQUEST, "the payload must be a JSON object")
        try:
            size = len(json.dumps(data, separators=(",", ":")))
        except (TypeError, ValueError) as exc:  # binary attachments and the like
            raise SignalingError(ErrorCode.BAD_REQUEST, "the payload must be plain JSON") from exc
        if size > MAX_PAYLOAD_BYTES:
            raise SignalingError(
                ErrorCode.PAYLOAD_TOO_LARGE,
                f"payload is {size} bytes; the limit is {MAX_PAYLOAD_BYTES}",
            )
        try:
            return model.model_validate(data)
        except ValidationError as exc:
            raise bad_request(exc) from None

    # --- helpers for handlers -------------------------------------------------------

    async def emit_user(self, user_id: str, event: str, model: WireModel) -> bool:
        """Send to the user's current session; False when they are offline."""
        session = await self.store.session_of(user_id)
        if session is None:
            return False
        await self.sio.emit(event, dump(model), to=session.sid)
        return True

    async def emit_users(self, user_ids: Iterable[str], event: str, model: WireModel) -> None:
        for user_id in user_ids:
            await self.emit_user(user_id, event, model)

    async def emit_room(
        self, room_id: str, event: str, model: WireModel, skip_sid: str | None = None
    ) -> None:
        await self.sio.emit(event, dump(model), room=room_channel(room_id), skip_sid=skip_sid)

    async def presence_changed(self, user_ids: Iterable[str]) -> None:
        """Note users whose state may have changed; subscribers hear of the changes in
        at most one ``presence.changed`` per ``presence_batch_s`` (a user's last state
        only): a lone change at once, a burst gathered into the next window.

        One push per change to every subscriber made a mass disconnect quadratic: 2,000
        subscribers leaving at once blocked the loop for 26.6 s (issue 11). Batched,
        each subscriber gets one message per window however many users changed.
        """
        # One read and one compare-and-set for all of them (a shared store: two round
        # trips, whatever the number of users).
        users = list(dict.fromkeys(user_ids))
        now = await self.store.sessions_and_presence(users) if users else {}
        entries = {
            user_id: dump(PresenceInfo(user_id=user_id, name=session.name, state=state))
            if session is not None
            else None
            for user_id, (session, state) in now.items()
        }
        for user_id in await self.store.announce_presence(entries) if entries else []:
            session, state = now[user_id]
            self._presence_pending[user_id] = PresenceChangedEvent(
                user_id=user_id,
                name=session.name if session else user_id,
                state=state,
                online=session is not None,
            )
        if not self._presence_pending or self._presence_flush is not None:
            return
        # The first change after a quiet window goes out now, as part of what caused it;
        # changes while a push went out less than presence_batch_s ago wait for the window.
        loop = asyncio.get_running_loop()
        wait = self._presence_sent_at + self.config.presence_batch_s - loop.time()
        if wait <= 0:
            await self._send_presence()
        else:
            self._presence_flush = loop.call_later(wait, lambda: self.spawn(self._send_presence()))

    async def _send_presence(self) -> None:
        self._presence_flush = None
        self._presence_sent_at = asyncio.get_running_loop().time()
        changes = list(self._presence_pending.values())
        self._presence_pending.clear()
        for start in range(0, len(changes), PRESENCE_BATCH_USERS):
            batch = PresenceBatchEvent(users=changes[start : start + PRESENCE_BATCH_USERS])
            await self.sio.emit("presence.changed", dump(batch), room=PRESENCE_ROOM)

    def ice_servers_for(self, user_id: str) -> list[IceServerInfo]:
        """The ICE servers ``user_id`` should use, with fresh TURN credentials."""
        config = self.config
        return ice_servers_for(
            user_id,
            stun_uris=config.stun_uris,
            turn_uris=config.turn_uris,
            turn_secret=config.turn_secret,
            ttl_s=config.turn_ttl_s,
        )

    async def presence_list(self) -> list[dict[str, Any]]:
        """Who is online now (``PresenceInfo`` as sent), in the state presence subscribers
        were (or are being) told, on every server sharing the store. Kept ready to send
        (the store holds it): every subscriber gets the whole list, so building it must
        cost no more than copying it."""
        return await self.store.announced_presence()

    @property
    def closing(self) -> bool:
        """The server is stopping: background loops end."""
        return self._closing

    def spawn(self, coro: Coroutine[Any, Any, Any]) -> None:
        """Run ``coro`` in the background, keeping a reference and logging its failure."""
        if self._closing:
            # Connections closing during the stop still hand work in: none may start.
            coro.close()
            return
        # The coroutine is the task itself: one cancelled before it first ran (a server
        # stopping) is closed by asyncio, where a wrapper would leave it never awaited.
        task = asyncio.get_running_loop().create_task(coro)
        self._tasks.add(task)
        task.add_done_callback(self._background_done)

    def _background_done(self, task: asyncio.Task[Any]) -> None:
        self._tasks.discard(task)
        if not task.cancelled() and (error := task.exception()) is not None:
            log.error("background task failed", exc_info=error)

    async def close(self) -> None:
        """Cancel background work (timers, deferred emits); none starts afterwards."""
        self._closing = True
        self.sio.stop_deadlines()
        await self.timers.close()
        if self._presence_flush is not None:
            self._presence_flush.cancel()
            self._presence_flush = None
        for task in list(self._tasks):
            task.cancel()
        if self._tasks:
            await asyncio.gather(*self._tasks, return_exceptions=True)
