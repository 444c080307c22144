"""``SignalingClient``: the asyncio client of the Parley protocol (no Qt).

It connects with a token, offers one typed method per request, delivers every server push
as a validated, typed object, and keeps its rooms across network trouble: on an
unexpected disconnect it reconnects with back-off (about 1 s growing to 5 s, with
jitter), signs in again, re-joins its rooms and reports each room's state the way the
kit does (``RECONNECTING`` → ``RECONNECTED`` or ``RECONNECT_FAILED``).
"""

from __future__ import annotations

import asyncio
import contextlib
import inspect
import logging
import random
import ssl
import time
from collections.abc import Awaitable, Callable, Iterable
from dataclasses import dataclass
from typing import Any, TypeVar
from urllib.parse import urlsplit

import aiohttp
import socketio
from pydantic import ValidationError

from signaling.client_audio import AudioRoomRequests
from signaling.client_events import (
    ERROR_CODE_NUMBERS,
    ConnectionState,
    ConnectionStateChanged,
    ProtocolViolation,
    RoomStateChanged,
)
from signaling.enums import CallType, RoomStateChangedReason
from signaling.errors import REFUSED_TOKEN, ErrorCode, SignalingError
from signaling.protocol import (
    EVENTS,
    IceServerInfo,
    InviteeState,
    KickedEvent,
    MessageInfo,
    PresenceBatchEvent,
    PresenceInfo,
    RoomEndedEvent,
    RoomKind,
    RoomRole,
    RoomSnapshot,
    SeatConfig,
    SessionKickedEvent,
    UserInfo,
    WelcomeEvent,
    WireModel,
)
from signaling.tls import TlsError, client_context, is_encrypted

#: TURN credentials are made for about an hour; older ones are fetched again.
ICE_SERVERS_MAX_AGE_S = 1800.0

log = logging.getLogger("parley.client")

TokenSource = str | Callable[[], str | Awaitable[str]]
Listener = Callable[[object], Awaitable[None] | None]
EventT = TypeVar("EventT")
R = RoomStateChangedReason


@dataclass(frozen=True)
class SentInvitation:
    """The answer to :meth:`SignalingClient.send_invitation`."""

    invitation_id: str
    call_id: str
    users: list[InviteeState]


@dataclass
class _JoinedRoom:
    kind: RoomKind
    microphone: bool
    camera: bool
    # Audio rooms: asked for again on re-join, so a host who reconnects is host again.
    role: RoomRole = "audience"
    seats: SeatConfig | None = None


class SignalingClient(AudioRoomRequests):
    """One signed-in user's connection to a parley-server (audio-room requests: the mixin)."""

    def __init__(
        self,
        url: str,
        token: TokenSource,
        *,
        reconnect: bool = True,
        backoff_initial_s: float = 1.0,
        backoff_max_s: float = 5.0,
        reconnect_timeout_s: float = 120.0,
        request_timeout_s: float = 10.0,
        ca_file: str | None = None,
        renew_token: Callable[[], Awaitable[object]] | None = None,
    ) -> None:
        """``renew_token``, when given, is awaited once when the server refuses the token
        on a reconnect (its secret changed, the token was signed out): ``token`` then
        gives a fresh one, as an account's access tokens do after a forced refresh."""
        self.url = url
        self._token = token
        self._renew_token = renew_token
        # https/wss: certificates are verified against the system's trust store, or
        # against ``ca_file`` alone (a self-hosted server's own CA).
        self._ca_file = ca_file
        self._reconnect = reconnect
        self._backoff_initial = backoff_initial_s
        self._backoff_max = backoff_max_s
        self._reconnect_timeout = reconnect_timeout_s
        self._request_timeout = request_timeout_s
        self._sio: socketio.AsyncClient | None = None
        self._listeners: list[Listener] = []
        self._waiters: list[tuple[type[Any], Callable[[Any], bool], asyncio.Future[Any]]] = []
        self._rooms: dict[str, _JoinedRoom] = {}
        self._tasks: set[asyncio.Task[Any]] = set()
        self._state = ConnectionState.DISCONNECTED
        self._closing = False
        self._connect_error = ""
        self._welcome: asyncio.Future[WelcomeEvent] | None = None
        # The ICE servers the server gave (welcome or session.ice_servers), and when.
        self._ice_servers: list[IceServerInfo] = []
        self._ice_servers_at = 0.0
        self._reconnect_task: asyncio.Task[None] | None = None
        self._inflight: set[asyncio.Future[Any]] = set()
        self.user: UserInfo | None = None

    # --- listening --------------------------------------------------------------------

    def subscribe(self, listener: Listener) -> Callable[[], None]:
        """Call ``listener`` with every event (typed objects); returns an unsubscribe function."""
        self._listeners.append(listener)
        return lambda: self._listeners.remove(listener) if listener in self._listeners else None

    async def wait_for(
        self,
        event_type: type[EventT],
        predicate: Callable[[EventT], bool] = lambda _: True,
        timeout: float = 5.0,
    ) -> EventT:
        """The next event of ``event_type`` matching ``predicate`` (``TimeoutError`` if none)."""
        future: asyncio.Future[EventT] = asyncio.get_running_loop().create_future()
        entry = (event_type, predicate, future)
        self._waiters.append(entry)
        try:
            return await asyncio.wait_for(future, timeout)
        finally:
            if entry in self._waiters:
                self._waiters.remove(entry)

    def _deliver(self, event: object) -> None:
        for event_type, predicate, future in list(self._waiters):
            if isinstance(event, event_type) and not future.done():
                try:
                    matched = predicate(event)
                except Exception:
                    log.exception("wait_for predicate failed")
                    matched = False
                if matched:
                    future.set_result(event)
        for listener in list(self._listeners):
            try:
                result = listener(event)
                if inspect.isawaitable(result):
                    self._spawn(result)
            except Exception:
                log.exception("event listener failed for %r", event)

    def _spawn(self, awaitable: Awaitable[Any]) -> None:
        async def run() -> None:
            try:
                await awaitable
            except asyncio.CancelledError:
                raise
            except Exception:
                log.exception("event listener failed")

        task = asyncio.get_running_loop().create_task(run())
        self._tasks.add(task)
        task.add_done_callback(self._tasks.discard)

    # --- connection -------------------------------------------------------------------

    @property
    def state(self) -> ConnectionState:
        return self._state

    @property
    def rooms(self) -> list[str]:
        """Rooms this client is in (and re-joins after reconnecting)."""
        return list(self._rooms)

    def _set_state(self, state: ConnectionState, detail: str = "") -> None:
        if state is not self._state:
            self._state = state
            self._deliver(ConnectionStateChanged(state, detail))

    async def connect(self) -> UserInfo:
        """Connect and sign in; raises :class:`SignalingError` (e.g. ``unauthorized``)."""
        if self._state in (ConnectionState.CONNECTED, ConnectionState.CONNECTING):
            raise SignalingError(ErrorCode.BAD_REQUEST, "already connected")
        self._closing = False
        self._set_state(ConnectionState.CONNECTING)
        try:
            user = await self._open()
        except SignalingError as exc:
            self._set_state(ConnectionState.DISCONNECTED, exc.message)
            raise
        self._set_state(ConnectionState.CONNECTED)
        return user

    async def _open(self) -> UserInfo:
        token = self._token() if callable(self._token) else self._token
        if inspect.isawaitable(token):
            token = await token
        options: dict[str, Any] = {}
        tls: ssl.SSLContext | None = None
        if is_encrypted(self.url):
            try:
                tls = client_context(self._ca_file)
            except TlsError as exc:
                raise SignalingError(ErrorCode.NOT_CONNECTED, str(exc)) from None
            options["websocket_extra_options"] = {"ssl": tls}
        # handle_sigint=False: engine.io would put its own SIGINT handler in place of the
        # application's, cancelling every task (Ctrl+C ended Parley with a traceback).
        sio = socketio.AsyncClient(reconnection=False, handle_sigint=False, **options)
        self._install_handlers(sio)
        self._connect_error = ""
        self._welcome = asyncio.get_running_loop().create_future()
        try:
            await sio.connect(
                self.url,
                auth={"token": token},
                transports=["websocket"],
                wait_timeout=int(self._request_timeout),
            )
            welcome = await asyncio.wait_for(self._welcome, self._request_timeout)
        except (socketio.exceptions.ConnectionError, TimeoutError, OSError) as exc:
            await _discard(sio)
            problem = await _certificate_problem(self.url, tls) if tls is not None else None
            if problem is not None:
                raise SignalingError(
                    ErrorCode.NOT_CONNECTED, f"cannot connect to {self.url}: {problem}"
                ) from None
            raise self._refusal(exc) from None
        except BaseException:
            # Cancelled while connecting (the app closing, a sign-out): nothing may stay
            # open behind us.
            await _discard(sio)
            raise
        self._sio = sio
        self.user = welcome.user
        self._ice_servers = list(welcome.ice_servers)
        self._ice_servers_at = time.monotonic()
        return welcome.user

    def _refusal(self, exc: BaseException) -> SignalingError:
        text = self._connect_error or str(exc) or type(exc).__name__
        code_text, _, message = text.partition(": ")
        try:
            return SignalingError(ErrorCode(code_text), message or code_text)
        except ValueError:
            return SignalingError(ErrorCode.NOT_CONNECTED, f"cannot connect to {self.url}: {text}")

    def _install_handlers(self, sio: socketio.AsyncClient) -> None:
        async def on_connect_error(data: Any = None) -> None:
            message = data.get("message") if isinstance(data, dict) else data
            self._connect_error = str(message) if message else ""

        async def on_disconnect(*args: Any) -> None:
            if sio is self._sio:
                await self._lost(sio)

        async def on_any(event: str, *args: Any) -> None:
            self._receive(event, args)

        sio.on("connect_error", on_connect_error)
        sio.on("disconnect", on_disconnect)
        sio.on("*", on_any)

    def _receive(self, event: str, args: tuple[Any, ...]) -> None:
        model = EVENTS.get(event)
        if model is None:
            log.debug("ignoring unknown server event %r", event)
            return
        try:
            if len(args) != 1:
                raise ValueError(f"expected one payload, got {len(args)}")
            parsed = model.model_validate(args[0])
        except (ValidationError, ValueError) as exc:
            log.warning("dropping invalid %r from server: %s", event, exc)
            self._deliver(ProtocolViolation(event, str(exc)[:500]))
            return
        self._on_event(parsed)

    def _on_event(self, event: WireModel) -> None:
        if isinstance(event, WelcomeEvent):
            if self._welcome is not None and not self._welcome.done():
                self._welcome.set_result(event)
            return
        if isinstance(event, SessionKickedEvent):
            self._kicked_everywhere()
        elif isinstance(event, KickedEvent) and self._rooms.pop(event.room_id, None) is not None:
            self._room_state(
                event.room_id, R.KICK_OUT, "kicked", {"kicker_user_id": event.kicker_id}
            )
        elif isinstance(event, RoomEndedEvent) and self._rooms.pop(event.room_id, None) is not None:
            self._room_state(event.room_id, R.LOGOUT, "", {"reason": event.reason})
        elif isinstance(event, PresenceBatchEvent):
            for change in event.users:  # listeners see one PresenceChangedEvent per user
                self._deliver(change)
            return
        self._deliver(event)

    def _kicked_everywhere(self) -> None:
        self._closing = True  # no reconnect: that would kick the other session in turn
        for room_id in list(self._rooms):
            self._room_state(
                room_id, R.KICK_OUT, "logged_in_elsewhere", {"reason": "logged_in_elsewhere"}
            )
        self._rooms.clear()
        self._set_state(ConnectionState.KICKED, "signed in elsewhere")

    def _room_state(
        self, room_id: str, reason: R, error: str = "", data: dict[str, Any] | None = None
    ) -> None:
        code = ERROR_CODE_NUMBERS.get(error, 0) if error else 0
        self._deliver(RoomStateChanged(room_id, reason, code, dict(data or {})))

    def _fail_inflight(self) -> None:
        for call in list(self._inflight):
            call.cancel()

    async def _lost(self, sio: socketio.AsyncClient) -> None:
        self._sio = None
        self._fail_inflight()
        if self._closing or not self._reconnect:
            if self._state is not ConnectionState.KICKED:
                for room_id in list(self._rooms):
                    self._room_state(room_id, R.LOGOUT)
                self._rooms.clear()
                self._set_state(ConnectionState.DISCONNECTED)
            return
        for room_id in self._rooms:
            self._room_state(room_id, R.RECONNECTING)
        self._set_state(ConnectionState.RECONNECTING)
        self._reconnect_task = asyncio.get_running_loop().create_task(self._reconnect_loop())

    async def _reconnect_loop(self) -> None:
        loop = asyncio.get_running_loop()
        deadline = loop.time() + self._reconnect_timeout
        delay = self._backoff_initial
        last_error = ""
        renewed = False
        while not self._is_closing() and loop.time() < deadline:
            # Jitter spreads the reconnects of many clients after a server restart.
            await asyncio.sleep(
                min(delay, max(0.0, deadline - loop.time())) * random.uniform(0.8, 1.2)
            )
            if self._is_closing():
                return
            try:
                await self._open()
            except SignalingError as exc:
                last_error = exc.message
                if exc.code in REFUSED_TOKEN and self._renew_token is not None and not renewed:
                    renewed = True
                    try:
                        await self._renew_token()
                    except SignalingError as renewal:
                        last_error = renewal.message
                        break
                    continue
                if exc.code in REFUSED_TOKEN:
                    break  # the same token will not work any better next time
                delay = min(delay * 2, self._backoff_max)
                continue
            self._set_state(ConnectionState.CONNECTED)
            await self._rejoin()
            return
        for room_id in list(self._rooms):
            self._room_state(room_id, R.RECONNECT_FAILED, "not_connected", {"detail": last_error})
        self._rooms.clear()
        self._set_state(ConnectionState.DISCONNECTED, last_error or "gave up reconnecting")

    def _is_closing(self) -> bool:
        # A method, not the attribute: mypy would keep the loop condition's narrowing
        # across the await, but close() can flip it meanwhile.
        return self._closing

    async def _rejoin(self) -> None:
        for room_id, joined in list(self._rooms.items()):
            try:
                snapshot = await self._rejoin_one(room_id, joined)
            except SignalingError as exc:
                self._rooms.pop(room_id, None)
                self._room_state(
                    room_id, R.RECONNECT_FAILED, exc.code.value, {"detail": exc.message}
                )
                continue
            self._room_state(room_id, R.RECONNECTED, "", {"room": snapshot})

    async def _rejoin_one(self, room_id: str, joined: _JoinedRoom) -> RoomSnapshot:
        try:
            return await self._join(room_id, joined)
        except SignalingError as exc:
            if exc.code is not ErrorCode.FORBIDDEN or joined.role != "host":
                raise
        # Someone else took the host role while we were away: staying in the room as
        # audience beats losing it; the snapshot's seat map shows who is host now.
        joined.role = "audience"
        return await self._join(room_id, joined)

    async def drop(self, *, reconnect: bool = True) -> None:
        """Lose the connection the way a crash or a dropped network does: the socket
        closes with no goodbye and no room left. Then, as after any loss, the client
        reconnects and re-joins its rooms, unless ``reconnect`` is False (a crash: it
        reports ``LOGOUT`` and stays disconnected). For tests; a no-op when not connected.
        """
        sio = self._sio
        ws = getattr(getattr(sio, "eio", None), "ws", None)
        if ws is None:
            return
        if not reconnect:
            self._reconnect = False
        # The websocket itself, under engine.io: no close packet, no socket.io goodbye.
        await ws.close()

    async def close(self) -> None:
        """Leave every room (each reports ``LOGOUT``) and disconnect. Idempotent."""
        await self._close(None)

    async def sign_out(self, *, everywhere: bool = False) -> None:
        """:meth:`close`, and before disconnecting ask the server to revoke the token this
        session signed in with (``everywhere``: every token of this user issued so far,
        on every device). A server out of reach just gets the disconnect."""
        await self._close({"everywhere": everywhere})

    async def _close(self, sign_out: dict[str, Any] | None) -> None:
        self._closing = True
        if self._reconnect_task is not None:
            self._reconnect_task.cancel()
            await asyncio.gather(self._reconnect_task, return_exceptions=True)
            self._reconnect_task = None
        sio, self._sio = self._sio, None
        if sio is not None:
            for room_id in list(self._rooms):
                # Signing out anyway; the server cleans up on disconnect.
                with contextlib.suppress(SignalingError):
                    await self._call_on(sio, "room.leave", {"room_id": room_id})
            if sign_out is not None and self._state is ConnectionState.CONNECTED:
                with contextlib.suppress(SignalingError):
                    await self._call_on(sio, "session.sign_out", sign_out)
            self._fail_inflight()
            await _discard(sio)
        for room_id in list(self._rooms):
            self._room_state(room_id, R.LOGOUT)
        self._rooms.clear()
        for task in list(self._tasks):
            task.cancel()
        if self._tasks:
            await asyncio.gather(*self._tasks, return_exceptions=True)
        self._set_state(ConnectionState.CLOSED)

    # --- requests ---------------------------------------------------------------------

    async def request(self, event: str, payload: dict[str, Any]) -> dict[str, Any]:
        """Send one request and return the ``ok`` answer; raises :class:`SignalingError`."""
        if self._sio is None:
            raise SignalingError(ErrorCode.NOT_CONNECTED, "not connected to the server")
        return await self._call_on(self._sio, event, payload)

    async def _call_on(
        self, sio: socketio.AsyncClient, event: str, payload: dict[str, Any]
    ) -> dict[str, Any]:
        # python-socketio leaves a call waiting out its timeout when the connection
        # drops; keeping it as a task lets close() and a disconnect fail it at once.
        call = asyncio.ensure_future(sio.call(event, payload, timeout=self._request_timeout))
        self._inflight.add(call)
        try:
            answer = await call
        except socketio.exceptions.TimeoutError:
            raise SignalingError(ErrorCode.TIMEOUT, f"{event}: no answer in time") from None
        except socketio.exceptions.BadNamespaceError:
            raise SignalingError(ErrorCode.NOT_CONNECTED, "not connected to the server") from None
        except asyncio.CancelledError:
            task = asyncio.current_task()
            if task is not None and task.cancelling():
                raise  # we are being cancelled ourselves
            raise SignalingError(
                ErrorCode.NOT_CONNECTED, f"{event}: the connection closed before the answer"
            ) from None
        finally:
            self._inflight.discard(call)
        if not isinstance(answer, dict) or not isinstance(answer.get("ok"), bool):
            raise SignalingError(ErrorCode.PROTOCOL, f"{event}: malformed answer")
        if answer["ok"]:
            return answer
        error = answer.get("error")
        if not isinstance(error, dict):
            raise SignalingError(ErrorCode.PROTOCOL, f"{event}: malformed error answer")
        try:
            code = ErrorCode(str(error.get("code")))
        except ValueError:
            code = ErrorCode.PROTOCOL
        raise SignalingError(code, str(error.get("message", ""))[:500])

    @staticmethod
    def _parse(model: type[EventT], data: Any, what: str) -> EventT:
        try:
            return model.model_validate(data)  # type: ignore[attr-defined,no-any-return]
        except ValidationError as exc:
            raise SignalingError(ErrorCode.PROTOCOL, f"malformed {what}: {exc}") from None

    async def list_online(self) -> list[PresenceInfo]:
        """Everyone online now, with what they are doing."""
        answer = await self.request("presence.list", {})
        return [self._parse(PresenceInfo, u, "presence") for u in answer.get("users", [])]

    async def ice_servers(self, max_age_s: float = ICE_SERVERS_MAX_AGE_S) -> list[IceServerInfo]:
        """The STUN/TURN servers to use for a new peer link. TURN credentials are valid
        about an hour: ones older than ``max_age_s`` are fetched again
        (``session.ice_servers``); if that fails, the ones held are returned."""
        if self._ice_servers and time.monotonic() - self._ice_servers_at > max_age_s:
            try:
                answer = await self.request("session.ice_servers", {})
                servers = answer.get("ice_servers")
                if not isinstance(servers, list):
                    raise SignalingError(ErrorCode.PROTOCOL, "malformed ice_servers")
                fresh = [self._parse(IceServerInfo, s, "ice server") for s in servers]
            except SignalingError as exc:
                log.warning("cannot renew the ICE servers: %s", exc)
            else:
                self._ice_servers, self._ice_servers_at = fresh, time.monotonic()
        return list(self._ice_servers)

    async def subscribe_presence(self) -> list[PresenceInfo]:
        """Receive ``PresenceChangedEvent`` from now on; returns who is online now."""
        answer = await self.request("presence.subscribe", {})
        return [self._parse(PresenceInfo, u, "presence") for u in answer.get("users", [])]

    async def unsubscribe_presence(self) -> None:
        await self.request("presence.unsubscribe", {})

    async def join_room(
        self,
        room_id: str,
        kind: RoomKind = "call",
        *,
        microphone: bool = False,
        camera: bool = False,
        role: RoomRole = "audience",
        seats: SeatConfig | None = None,
    ) -> RoomSnapshot:
        """Join (or create) a room; reports ``LOGINING`` then ``LOGINED`` or ``LOGIN_FAILED``.

        Audio rooms only: ``role="host"`` asks for the host role (``forbidden`` while
        someone else is host); ``seats`` lays the seats out if this join creates the room
        (or makes you host of a room where nobody sits yet).
        """
        joined = _JoinedRoom(kind, microphone, camera, role, seats)
        self._room_state(room_id, R.LOGINING)
        try:
            snapshot = await self._join(room_id, joined)
        except SignalingError as exc:
            self._room_state(room_id, R.LOGIN_FAILED, exc.code.value, {"detail": exc.message})
            raise
        self._rooms[room_id] = joined
        self._room_state(
            room_id, R.LOGINED, "", {"room_session_id": f"{room_id}:{snapshot.start_time_ms}"}
        )
        return snapshot

    async def _join(self, room_id: str, joined: _JoinedRoom) -> RoomSnapshot:
        payload: dict[str, Any] = {
            "room_id": room_id,
            "kind": joined.kind,
            "microphone": joined.microphone,
            "camera": joined.camera,
        }
        if joined.kind == "audio_room":
            payload["role"] = joined.role
            if joined.seats is not None:
                payload["seats"] = joined.seats.model_dump(mode="json")
        answer = await self.request("room.join", payload)
        return self._parse(RoomSnapshot, answer.get("room"), "room")

    async def leave_room(self, room_id: str) -> None:
        """Leave a room; reports ``LOGOUT``."""
        self._rooms.pop(room_id, None)
        try:
            await self.request("room.leave", {"room_id": room_id})
        finally:
            self._room_state(room_id, R.LOGOUT)

    async def remove_user(self, room_id: str, user_id: str) -> None:
        """Remove someone from a room; they get ``KICK_OUT`` with your id.

        In an audio room only the host (or the co-host while no host is present) may.
        """
        await self.request("room.remove_user", {"room_id": room_id, "user_id": user_id})

    async def send_invitation(
        self,
        invitees: Iterable[str],
        call_type: CallType,
        *,
        call_id: str | None = None,
        custom_data: str = "",
        timeout_s: int = 60,
        only_initiator_can_invite: bool = False,
        end_call_when_initiator_leaves: bool = False,
    ) -> SentInvitation:
        """Invite users to a call; busy and offline invitees are reported in ``users``."""
        payload: dict[str, Any] = {
            "invitees": list(invitees),
            "call_type": call_type.value,
            "custom_data": custom_data,
            "timeout_s": timeout_s,
            "only_initiator_can_invite": only_initiator_can_invite,
            "end_call_when_initiator_leaves": end_call_when_initiator_leaves,
        }
        if call_id is not None:
            payload["call_id"] = call_id
        answer = await self.request("invitation.send", payload)
        users = [self._parse(InviteeState, u, "invitee") for u in answer.get("users", [])]
        invitation_id, call = answer.get("invitation_id"), answer.get("call_id")
        if not isinstance(invitation_id, str) or not isinstance(call, str):
            raise SignalingError(ErrorCode.PROTOCOL, "malformed invitation answer")
        return SentInvitation(invitation_id, call, users)

    async def accept_invitation(self, invitation_id: str, custom_data: str = "") -> str:
        """Accept; returns the call id to join."""
        answer = await self.request(
            "invitation.accept", {"invitation_id": invitation_id, "custom_data": custom_data}
        )
        call_id = answer.get("call_id")
        if not isinstance(call_id, str):
            raise SignalingError(ErrorCode.PROTOCOL, "malformed accept answer")
        return call_id

    async def decline_invitation(
        self, invitation_id: str, custom_data: str = "", *, busy: bool = False
    ) -> None:
        await self.request(
            "invitation.decline",
            {"invitation_id": invitation_id, "custom_data": custom_data, "busy": busy},
        )

    async def cancel_invitation(
        self, invitation_id: str, invitees: Iterable[str] = (), custom_data: str = ""
    ) -> list[str]:
        """Cancel for the given invitees (default: all still ringing); returns who was cancelled."""
        answer = await self.request(
            "invitation.cancel",
            {
                "invitation_id": invitation_id,
                "invitees": list(invitees),
                "custom_data": custom_data,
            },
        )
        return [u for u in answer.get("cancelled", []) if isinstance(u, str)]

    async def send_rtc_signal(
        self, room_id: str, to: str, kind: str, payload: dict[str, Any]
    ) -> None:
        """Relay an offer, answer, ICE candidate or renegotiation request to a room member."""
        await self.request(
            "rtc.signal", {"room_id": room_id, "to": to, "kind": kind, "payload": payload}
        )

    async def sfu_publish(self, room_id: str, sdp: str) -> str:
        """Publish to the room's SFU: the SDP answer to ``sdp`` (``forbidden`` off a seat)."""
        answer = await self.request("sfu.publish", {"room_id": room_id, "sdp": sdp})
        return str(answer.get("sdp", ""))

    async def sfu_unpublish(self, room_id: str) -> None:
        """Stop publishing to the room's SFU."""
        await self.request("sfu.unpublish", {"room_id": room_id})

    async def sfu_subscribe(self, room_id: str) -> None:
        """Receive the room's speakers through the SFU (offers come as ``sfu.offer``)."""
        await self.request("sfu.subscribe", {"room_id": room_id})

    async def sfu_answer(self, room_id: str, offer_id: int, sdp: str) -> None:
        """Answer the SFU's ``sfu.offer`` number ``offer_id``."""
        await self.request("sfu.answer", {"room_id": room_id, "offer_id": offer_id, "sdp": sdp})

    async def set_device_state(
        self, room_id: str, *, microphone: bool | None = None, camera: bool | None = None
    ) -> None:
        payload: dict[str, Any] = {"room_id": room_id}
        if microphone is not None:
            payload["microphone"] = microphone
        if camera is not None:
            payload["camera"] = camera
        await self.request("device.state", payload)

    async def report_device_exception(self, room_id: str, device: str, exception: str) -> None:
        await self.request(
            "device.exception", {"room_id": room_id, "device": device, "exception": exception}
        )

    async def request_device(self, room_id: str, user_id: str, device: str, on: bool) -> None:
        """Ask a member to turn a device off (they must) or on (they may refuse)."""
        await self.request(
            "device.control", {"room_id": room_id, "user_id": user_id, "device": device, "on": on}
        )

    async def send_message(self, room_id: str, text: str) -> MessageInfo:
        answer = await self.request("message.send", {"room_id": room_id, "text": text})
        return self._parse(MessageInfo, answer.get("message"), "message")

    async def set_room_property(
        self,
        room_id: str,
        key: str,
        value: str,
        *,
        expected: str | None = None,
        if_absent: bool = False,
        delete_on_leave: bool = False,
    ) -> None:
        """Set a room property; with ``expected``/``if_absent`` it is a compare-and-set."""
        payload: dict[str, Any] = {
            "room_id": room_id,
            "key": key,
            "value": value,
            "if_absent": if_absent,
            "delete_on_leave": delete_on_leave,
        }
        if expected is not None:
            payload["expected"] = expected
        await self.request("room.properties.set", payload)

    async def delete_room_properties(self, room_id: str, keys: Iterable[str]) -> list[str]:
        answer = await self.request(
            "room.properties.delete", {"room_id": room_id, "keys": list(keys)}
        )
        return [k for k in answer.get("deleted", []) if isinstance(k, str)]

    async def get_room_properties(self, room_id: str) -> dict[str, str]:
        answer = await self.request("room.properties.get", {"room_id": room_id})
        props = answer.get("properties", {})
        if not isinstance(props, dict):
            raise SignalingError(ErrorCode.PROTOCOL, "malformed properties answer")
        return {str(k): str(v) for k, v in props.items()}

    async def send_room_command(self, room_id: str, command: str, to: Iterable[str] = ()) -> None:
        await self.request("room.command", {"room_id": room_id, "command": command, "to": list(to)})


async def _discard(sio: socketio.AsyncClient) -> None:
    """Disconnect ``sio`` and close the HTTP session Engine.IO made for it: after a
    connection that failed (refused, while a server restarts), ``disconnect`` leaves
    that session open, and each reconnect attempt would leak one."""
    await sio.disconnect()
    http = getattr(sio.eio, "http", None)
    if isinstance(http, aiohttp.ClientSession) and not http.closed:
        await http.close()


async def _certificate_problem(url: str, tls: ssl.SSLContext) -> str | None:
    """Why the server's certificate is not trusted, if that is why a connection failed
    (Engine.IO reports only "Connection error"); None for any other reason."""
    parts = urlsplit(url)
    host = parts.hostname or ""
    port = parts.port or 443
    try:
        _, writer = await asyncio.wait_for(
            asyncio.open_connection(host, port, ssl=tls, server_hostname=host), 5
        )
    except ssl.SSLCertVerificationError as exc:
        return f"the server's certificate is not trusted ({exc.verify_message})"
    except (OSError, TimeoutError):
        return None
    writer.close()
    return None
