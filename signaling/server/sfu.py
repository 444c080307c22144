"""Audio rooms through Janus: the server makes every handle, so Janus enforces the seats.

Each audio room is a Janus VideoRoom of the same id, made with the server's admin key and
a secret of its own. A seated member publishes through the server (``sfu.publish``): the
server checks the seat map, makes a publisher handle and passes the SDP both ways. Every
member receives on one subscriber handle per room carrying all live speakers; when the
speakers change the server updates each subscription and offers it again
(``sfu.offer``), one negotiation at a time per member.

Clients never reach Janus's API (its secret is the server's), so a listener has no
handle to publish on, whatever client they run; a member who loses their seat (stands
up, is removed, leaves, drops) has their publisher handle detached at once, which ends
that connection in Janus.

If the Janus session is lost (Janus restarted), every room's media is gone: the bridge
opens a new session and tells each room's members to publish and subscribe again
(``sfu.reset``).
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import secrets
from dataclasses import dataclass, field
from typing import Any

from signaling.errors import ErrorCode, SignalingError
from signaling.protocol import dump
from signaling.protocol_audio import SeatMapInfo
from signaling.protocol_sfu import SfuOfferEvent, SfuResetEvent, SfuStreamInfo
from signaling.server.hub import Hub
from signaling.server.janus_api import JanusError, JanusEvent, JanusSession, PluginReply

log = logging.getLogger("parley.sfu")

__all__ = ["SfuBridge", "SfuError", "SfuSettings"]

#: How long a member has to answer an offer before their subscription is made anew.
ANSWER_TIMEOUT_S = 10.0
#: Pause between attempts to open a session with a Janus that is (re)starting.
RECONNECT_DELAY_S = 1.0
#: How long a starting server waits for Janus to answer.
START_TIMEOUT_S = 5.0


class SfuError(RuntimeError):
    """The SFU cannot be used: the server does not start (the message says why)."""


@dataclass(frozen=True)
class SfuSettings:
    """Where Janus's API is and the two secrets only this server holds."""

    url: str
    api_secret: str
    admin_key: str


@dataclass
class _Publisher:
    handle: int
    #: ICE and DTLS are up (Janus said ``webrtcup``): the feed can be subscribed to.
    live: bool = False


@dataclass
class _Subscriber:
    handle: int | None = None
    feeds: frozenset[str] = frozenset()
    lock: asyncio.Lock = field(default_factory=asyncio.Lock)
    answer: asyncio.Future[str] | None = None
    offer_id: int = 0


@dataclass
class _Room:
    room_id: str
    secret: str = field(default_factory=lambda: secrets.token_hex(16))
    #: Janus's room: never the same twice, so a room left in a Janus that outlived a
    #: server (``--janus-url``) is never taken for a new one.
    janus_id: str = field(default_factory=lambda: secrets.token_hex(8))
    created: bool = False
    publishers: dict[str, _Publisher] = field(default_factory=dict)
    subscribers: dict[str, _Subscriber] = field(default_factory=dict)
    lock: asyncio.Lock = field(default_factory=asyncio.Lock)


class SfuBridge:
    """The server's side of every audio room served by Janus."""

    def __init__(self, hub: Hub, settings: SfuSettings) -> None:
        self.hub = hub
        self.settings = settings
        self._janus: JanusSession | None = None
        self._control = 0  # the handle rooms are created and destroyed with
        self._rooms: dict[str, _Room] = {}
        self._handles: dict[int, tuple[str, str]] = {}  # publisher handle → (room, user)
        self._subscriptions: dict[int, tuple[str, str]] = {}  # subscriber handle → same
        self._connected = asyncio.Event()
        self._keeper: asyncio.Task[None] | None = None
        self._closing = asyncio.Event()

    # --- life ----------------------------------------------------------------------

    async def start(self) -> None:
        """Open the Janus session, then keep it open; :class:`SfuError` when Janus
        refuses the secret or does not answer within :data:`START_TIMEOUT_S` (a server
        whose rooms would stay silent should not start)."""
        try:
            await asyncio.wait_for(self._connect(), START_TIMEOUT_S)
        except TimeoutError:
            raise SfuError(
                f"cannot reach Janus at {self.settings.url} (no answer in {START_TIMEOUT_S:g} s)"
            ) from None
        except JanusError as exc:
            raise SfuError(f"Janus at {self.settings.url} refused the server: {exc}") from exc
        self._keeper = asyncio.create_task(self._keep(), name="sfu session keeper")

    async def close(self) -> None:
        """Close the session; Janus drops every handle and room with it."""
        self._closing.set()
        if self._keeper is not None:
            self._keeper.cancel()
            try:
                await self._keeper
            except asyncio.CancelledError:
                pass
            except Exception:  # it must not keep the server from stopping
                log.exception("the SFU session keeper had failed")
        if self._janus is not None:
            await self._janus.close()

    async def _connect(self) -> None:
        while not self._closing.is_set():
            janus = JanusSession(self.settings.url, self.settings.api_secret, on_event=self._event)
            try:
                await janus.open()
                self._control = await janus.attach()
            except JanusError as exc:
                await janus.close()  # a session half made (attach failed) goes again
                if exc.code == 403:  # a wrong secret does not get better by waiting
                    raise
                log.warning("Janus not reachable yet (%s); trying again", exc)
                await asyncio.sleep(RECONNECT_DELAY_S)
                continue
            self._janus = janus
            self._connected.set()
            log.info("SFU: Janus session %s at %s", janus.session_id, self.settings.url)
            return

    async def _keep(self) -> None:
        while not self._closing.is_set():
            assert self._janus is not None
            await self._janus.closed.wait()
            if self._closing.is_set():
                return
            self._connected.clear()
            await self._janus.close()  # let go of the lost one
            rooms = list(self._rooms)
            self._rooms.clear()
            self._handles.clear()
            self._subscriptions.clear()
            await self._connect()
            for room_id in rooms:
                await self.hub.emit_room(room_id, "sfu.reset", SfuResetEvent(room_id=room_id))

    @property
    def _api(self) -> JanusSession:
        if self._janus is None or not self._connected.is_set():
            raise SignalingError(ErrorCode.INTERNAL, "the SFU is not reachable right now")
        return self._janus

    # --- what members ask -----------------------------------------------------------

    async def publish(self, room_id: str, user_id: str, offer: str) -> str:
        """Publish ``user_id``'s audio if they sit on a seat; the SDP answer."""
        await self._require_seated(room_id, user_id)
        room = await self._room(room_id)
        await self._drop_publisher(room, user_id)
        janus = self._api
        handle = await janus.attach()
        self._handles[handle] = (room_id, user_id)
        room.publishers[user_id] = _Publisher(handle)
        body = {
            "request": "joinandconfigure",
            "ptype": "publisher",
            "room": room.janus_id,
            "id": user_id,
            "display": user_id,
            "audio": True,
            "video": False,
        }
        try:
            reply = await janus.negotiate(handle, body, {"type": "offer", "sdp": offer})
        except JanusError as exc:
            await self._drop_publisher(room, user_id)
            raise SignalingError(
                ErrorCode.BAD_REQUEST, f"the SFU refused the offer: {exc}"
            ) from exc
        if reply.jsep is None or reply.jsep.get("type") != "answer":
            await self._drop_publisher(room, user_id)
            raise SignalingError(ErrorCode.INTERNAL, "the SFU gave no answer")
        # The seat may have gone while Janus negotiated: then the handle goes too.
        try:
            await self._require_seated(room_id, user_id)
        except SignalingError:
            await self._drop_publisher(room, user_id)
            raise
        return str(reply.jsep["sdp"])

    async def unpublish(self, room_id: str, user_id: str) -> None:
        """Stop publishing ``user_id``'s audio (they stood up, or turned it off)."""
        room = self._rooms.get(room_id)
        if room is not None and await self._drop_publisher(room, user_id):
            self.hub.spawn(self._refresh_all(room))

    async def subscribe(self, room_id: str, user_id: str) -> None:
        """Receive every live speaker of the room; offers follow as ``sfu.offer``."""
        room = await self._room(room_id)
        old = room.subscribers.pop(user_id, None)
        if old is not None:  # a member subscribing again starts anew (a new connection)
            await self._detach_subscriber(old)
        room.subscribers[user_id] = _Subscriber()
        self.hub.spawn(self._refresh(room, user_id))

    def answer(self, room_id: str, user_id: str, offer_id: int, sdp: str) -> None:
        """A member's answer to an offer; ``bad_request`` if no such offer waits."""
        room = self._rooms.get(room_id)
        sub = room.subscribers.get(user_id) if room else None
        if sub is None or sub.answer is None or sub.answer.done() or sub.offer_id != offer_id:
            raise SignalingError(ErrorCode.BAD_REQUEST, f"no offer {offer_id} is waiting")
        sub.answer.set_result(sdp)

    # --- what the rooms tell ---------------------------------------------------------

    async def member_left(self, room_id: str, user_id: str) -> None:
        """A member left the room: their handles go; an empty room is destroyed."""
        room = self._rooms.get(room_id)
        if room is None:
            return
        sub = room.subscribers.pop(user_id, None)
        if sub is not None:
            await self._detach_subscriber(sub)
        if await self._drop_publisher(room, user_id):
            self.hub.spawn(self._refresh_all(room))
        if not room.subscribers and not room.publishers:
            await self._destroy(room)

    async def seats_changed(self, room_id: str, seat_map: SeatMapInfo) -> None:
        """Whoever no longer sits on a seat stops publishing, at once."""
        room = self._rooms.get(room_id)
        if room is None:
            return
        seated = {seat.user_id for seat in seat_map.seats if seat.user_id}
        gone = [user_id for user_id in room.publishers if user_id not in seated]
        for user_id in gone:
            await self._drop_publisher(room, user_id)
        if gone:
            # In the background: the seat map's event must not wait for every member's
            # answer to their new offer.
            self.hub.spawn(self._refresh_all(room))

    # --- Janus rooms and handles ----------------------------------------------------

    async def _require_seated(self, room_id: str, user_id: str) -> None:
        room = await self.hub.store.room(room_id)
        if room is None or user_id not in room.members:
            raise SignalingError(ErrorCode.NOT_IN_ROOM, f"you are not in room {room_id!r}")
        if room.audio is None:
            raise SignalingError(ErrorCode.BAD_REQUEST, "only audio rooms go through the SFU")
        if room.audio.seat_of(user_id) is None:
            raise SignalingError(ErrorCode.FORBIDDEN, "only a member on a seat may speak")

    async def _room(self, room_id: str) -> _Room:
        room = self._rooms.setdefault(room_id, _Room(room_id))
        async with room.lock:
            if not room.created:
                janus = self._api
                body = {
                    "request": "create",
                    "room": room.janus_id,
                    "admin_key": self.settings.admin_key,
                    "secret": room.secret,
                    "is_private": True,
                    "publishers": 64,
                    "audiocodec": "opus",
                    "notify_joining": False,
                }
                try:
                    await janus.request(self._control, body)
                except JanusError as exc:
                    raise SignalingError(ErrorCode.INTERNAL, f"SFU room: {exc}") from exc
                room.created = True
        return room

    async def _destroy(self, room: _Room) -> None:
        self._rooms.pop(room.room_id, None)
        if room.created and self._janus is not None and self._connected.is_set():
            with contextlib.suppress(JanusError):
                await self._janus.request(
                    self._control,
                    {"request": "destroy", "room": room.janus_id, "secret": room.secret},
                )

    async def _drop_publisher(self, room: _Room, user_id: str) -> bool:
        publisher = room.publishers.pop(user_id, None)
        if publisher is None:
            return False
        self._handles.pop(publisher.handle, None)
        if self._janus is not None:
            await self._janus.detach(publisher.handle)
        return True

    async def _detach_subscriber(self, sub: _Subscriber) -> None:
        if sub.answer is not None and not sub.answer.done():
            sub.answer.set_result("")  # no answer will come: the offer's wait ends
        if sub.handle is not None:
            self._subscriptions.pop(sub.handle, None)
            if self._janus is not None:
                await self._janus.detach(sub.handle)
        sub.handle = None

    def _event(self, event: JanusEvent) -> None:
        subscription = self._subscriptions.get(event.handle_id)
        if subscription is not None and event.jsep is not None:
            room_id, user_id = subscription
            self.hub.spawn(self._janus_offered(room_id, user_id, event))
            return
        owner = self._handles.get(event.handle_id)
        if owner is None:
            return
        room = self._rooms.get(owner[0])
        publisher = room.publishers.get(owner[1]) if room else None
        if room is None or publisher is None or publisher.handle != event.handle_id:
            return
        if event.kind == "webrtcup":
            publisher.live = True
            self.hub.spawn(self._refresh_all(room))
        elif event.kind in ("hangup", "detached"):
            # The member's connection went away (they closed it, or it failed): the
            # handle goes too, and they publish anew when they want to speak again.
            self.hub.spawn(self._publisher_gone(room, owner[1], event.handle_id))

    async def _publisher_gone(self, room: _Room, user_id: str, handle: int) -> None:
        publisher = room.publishers.get(user_id)
        # A member who published again meanwhile keeps the new connection.
        if publisher is not None and publisher.handle == handle:
            await self._drop_publisher(room, user_id)
            await self._refresh_all(room)

    # --- subscriptions ---------------------------------------------------------------

    async def _janus_offered(self, room_id: str, user_id: str, event: JanusEvent) -> None:
        """Janus renegotiates a subscription by itself (a speaker's handle went away)."""
        room = self._rooms.get(room_id)
        sub = room.subscribers.get(user_id) if room else None
        if room is None or sub is None:
            return
        async with sub.lock:
            if sub.handle != event.handle_id:
                return
            sub.feeds = frozenset(stream.user_id for stream in _live_streams(event.data))
            await self._offer(room, user_id, sub, PluginReply(event.data, event.jsep), False)
        await self._refresh(room, user_id)  # whatever changed meanwhile

    async def _refresh_all(self, room: _Room) -> None:
        await asyncio.gather(*(self._refresh(room, user_id) for user_id in list(room.subscribers)))

    async def _refresh(self, room: _Room, user_id: str) -> None:
        """Bring one member's subscription to the room's live speakers (but themselves)."""
        sub = room.subscribers.get(user_id)
        if sub is None:
            return
        async with sub.lock:
            if room.subscribers.get(user_id) is not sub:
                return
            want = frozenset(u for u, p in room.publishers.items() if p.live and u != user_id)
            # A feed whose handle went is gone from the subscription already: Janus drops
            # it by itself and offers anew (see _janus_offered).
            sub.feeds = frozenset(f for f in sub.feeds if f in room.publishers)
            if want == sub.feeds:
                return
            try:
                reply, fresh = await self._resubscribe(room, user_id, sub, want)
            except JanusError as exc:
                # A feed left between the check and the request: the next change retries.
                log.info("SFU subscription of %s in %s: %s", user_id, room.room_id, exc)
                return
            sub.feeds = want
            if reply is not None and reply.jsep is not None:
                await self._offer(room, user_id, sub, reply, fresh)

    async def _resubscribe(
        self, room: _Room, user_id: str, sub: _Subscriber, want: frozenset[str]
    ) -> tuple[PluginReply | None, bool]:
        janus = self._api
        if sub.handle is None:
            if not want:
                return None, False
            sub.handle = await janus.attach()
            self._subscriptions[sub.handle] = (room.room_id, user_id)
            body: dict[str, Any] = {
                "request": "join",
                "ptype": "subscriber",
                "room": room.janus_id,
                "streams": [{"feed": feed} for feed in sorted(want)],
            }
            try:
                return await janus.negotiate(sub.handle, body), True
            except JanusError:
                await self._detach_subscriber(sub)  # the next change starts afresh
                raise
        body = {"request": "update"}
        if want - sub.feeds:
            body["subscribe"] = [{"feed": feed} for feed in sorted(want - sub.feeds)]
        if sub.feeds - want:
            body["unsubscribe"] = [{"feed": feed} for feed in sorted(sub.feeds - want)]
        return await janus.negotiate(sub.handle, body), False

    async def _offer(
        self, room: _Room, user_id: str, sub: _Subscriber, reply: PluginReply, fresh: bool
    ) -> None:
        assert reply.jsep is not None
        assert sub.handle is not None
        streams = _live_streams(reply.data)
        session = await self.hub.store.session_of(user_id)
        if session is None:
            return
        sub.offer_id += 1
        sub.answer = asyncio.get_running_loop().create_future()
        event = SfuOfferEvent(
            room_id=room.room_id,
            offer_id=sub.offer_id,
            sdp=str(reply.jsep["sdp"]),
            streams=streams,
            fresh=fresh,
        )
        await self.hub.sio.emit("sfu.offer", dump(event), to=session.sid)
        try:
            answer = await asyncio.wait_for(sub.answer, ANSWER_TIMEOUT_S)
            if answer:
                await self._api.negotiate(
                    sub.handle, {"request": "start"}, {"type": "answer", "sdp": answer}
                )
        except (TimeoutError, JanusError) as exc:
            log.info(
                "SFU: %s did not take offer %s (%r); subscribing anew", user_id, sub.offer_id, exc
            )
            await self._detach_subscriber(sub)
            sub.feeds = frozenset()
        finally:
            sub.answer = None


def _live_streams(data: dict[str, Any]) -> list[SfuStreamInfo]:
    """The speakers a subscription's audio sections carry now, as Janus lists them (an
    inactive section, or one whose feed left, carries nobody)."""
    return [
        SfuStreamInfo(mid=str(s["mid"]), user_id=str(s["feed_id"]))
        for s in data.get("streams", [])
        if s.get("active", True) and s.get("feed_id") and s.get("type") == "audio"
    ]
