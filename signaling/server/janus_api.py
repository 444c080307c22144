"""A client of Janus's HTTP API, for the server alone: one session, handles on it.

Clients never talk to Janus: it is reached with an API secret only the server holds (see
:mod:`signaling.server.janus_process`), so every publisher and subscriber handle is one
the server made after checking the seat map.

Janus answers a plugin message in two ways: a request such as ``create`` or ``kick``
answers at once (``success``); one that negotiates media (``join``, ``publish``,
``start``, ``update``) is acknowledged and its answer comes later as an event on the
session. One long poll per session receives the events; they are matched to the request
by transaction, and the poll doubles as the session's keep-alive.
"""

from __future__ import annotations

import asyncio
import contextlib
import itertools
import logging
import secrets
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

import aiohttp

log = logging.getLogger("parley.janus")

__all__ = ["JanusError", "JanusEvent", "JanusSession", "PluginReply"]

#: How long a negotiating request may take before it counts as failed.
ASYNC_TIMEOUT_S = 10.0
#: How many events one long poll may bring back.
_MAX_EVENTS = 20


class JanusError(Exception):
    """Janus refused a request, or could not be reached."""

    def __init__(self, message: str, code: int = 0) -> None:
        super().__init__(message)
        self.code = code


@dataclass(frozen=True)
class PluginReply:
    """What a plugin answered: its data, and a JSEP (an SDP offer or answer) if any."""

    data: dict[str, Any]
    jsep: dict[str, Any] | None = None


@dataclass(frozen=True)
class JanusEvent:
    """An event Janus sent about one handle without being asked (a hang-up, a leaving feed)."""

    handle_id: int
    kind: str
    data: dict[str, Any]
    #: An offer Janus makes by itself (a subscription it renegotiates), if any.
    jsep: dict[str, Any] | None = None


OnEvent = Callable[[JanusEvent], None]


class JanusSession:
    """One Janus session over HTTP, with the long poll that keeps it alive."""

    def __init__(self, url: str, api_secret: str, *, on_event: OnEvent | None = None) -> None:
        """``url`` is the API's base (``http://host:8088/janus``); ``on_event`` hears the
        events no request is waiting for."""
        self.url = url.rstrip("/")
        self._secret = api_secret
        self._on_event = on_event
        self._http: aiohttp.ClientSession | None = None
        self.session_id = 0
        self._waiting: dict[str, asyncio.Future[dict[str, Any]]] = {}
        self._poller: asyncio.Task[None] | None = None
        self._transactions = itertools.count(1)
        self._prefix = secrets.token_hex(4)
        self.closed = asyncio.Event()

    async def open(self) -> None:
        """Create the session and start its long poll."""
        self._http = aiohttp.ClientSession(timeout=aiohttp.ClientTimeout(total=None, connect=5))
        try:
            reply = await self._post("", {"janus": "create"})
        except BaseException:
            http, self._http = self._http, None
            await http.close()
            raise
        self.session_id = int(reply["data"]["id"])
        self._poller = asyncio.create_task(self._poll(), name="janus long poll")

    async def close(self) -> None:
        """Destroy the session (its handles go with it) and stop polling; idempotent.

        A session Janus already lost is not destroyed, only let go of."""
        if self._http is None:
            return
        lost = self.closed.is_set()
        self.closed.set()
        if self._poller is not None:
            self._poller.cancel()
            with contextlib.suppress(asyncio.CancelledError, Exception):
                await self._poller
        if not lost:
            with contextlib.suppress(JanusError, aiohttp.ClientError, TimeoutError):
                await asyncio.wait_for(self._post(f"/{self.session_id}", {"janus": "destroy"}), 2.0)
        self._fail_waiting(JanusError("the Janus session is closed"))
        http, self._http = self._http, None
        await http.close()

    # --- handles -----------------------------------------------------------------

    async def attach(self, plugin: str = "janus.plugin.videoroom") -> int:
        """A new handle on ``plugin``; its id."""
        reply = await self._post(f"/{self.session_id}", {"janus": "attach", "plugin": plugin})
        return int(reply["data"]["id"])

    async def detach(self, handle_id: int) -> None:
        """Drop a handle (a publisher's stream ends with it); missing handles are fine."""
        with contextlib.suppress(JanusError):
            await self._post(f"/{self.session_id}/{handle_id}", {"janus": "detach"})

    async def request(self, handle_id: int, body: dict[str, Any]) -> dict[str, Any]:
        """A plugin request answered at once; the plugin's data. A plugin error raises."""
        reply = await self._post(
            f"/{self.session_id}/{handle_id}", {"janus": "message", "body": body}
        )
        if reply.get("janus") != "success":
            raise JanusError(f"Janus answered {reply.get('janus')!r} to {body.get('request')}")
        return _plugin_data(reply)

    async def negotiate(
        self,
        handle_id: int,
        body: dict[str, Any],
        jsep: dict[str, Any] | None = None,
        *,
        timeout: float = ASYNC_TIMEOUT_S,
    ) -> PluginReply:
        """A plugin message answered by a later event (join, publish, start, update)."""
        transaction = self._transaction()
        done: asyncio.Future[dict[str, Any]] = asyncio.get_running_loop().create_future()
        self._waiting[transaction] = done
        message: dict[str, Any] = {"janus": "message", "body": body}
        if jsep is not None:
            message["jsep"] = jsep
        try:
            ack = await self._post(f"/{self.session_id}/{handle_id}", message, transaction)
            if ack.get("janus") == "success":  # some requests answer at once after all
                event = ack
            else:
                event = await asyncio.wait_for(done, timeout)
        except TimeoutError as exc:
            raise JanusError(
                f"Janus did not answer {body.get('request')} in {timeout:g} s"
            ) from exc
        finally:
            self._waiting.pop(transaction, None)
        return PluginReply(_plugin_data(event), event.get("jsep"))

    # --- transport ---------------------------------------------------------------

    def _transaction(self) -> str:
        return f"{self._prefix}-{next(self._transactions)}"

    async def _post(
        self, path: str, message: dict[str, Any], transaction: str | None = None
    ) -> dict[str, Any]:
        if self._http is None:
            raise JanusError("the Janus session is not open")
        message = {**message, "transaction": transaction or self._transaction()}
        message["apisecret"] = self._secret
        try:
            async with self._http.post(
                self.url + path, json=message, timeout=aiohttp.ClientTimeout(total=10)
            ) as response:
                reply: dict[str, Any] = await response.json(content_type=None)
        except (TimeoutError, aiohttp.ClientError, ValueError) as exc:
            raise JanusError(f"Janus at {self.url} cannot be reached: {exc!r}") from exc
        if reply.get("janus") == "error":
            error = reply.get("error", {})
            raise JanusError(str(error.get("reason", "error")), int(error.get("code", 0)))
        return reply

    async def _poll(self) -> None:
        http = self._http
        assert http is not None
        failures = 0
        while not self.closed.is_set():
            params = {"maxev": str(_MAX_EVENTS), "apisecret": self._secret}
            try:
                async with http.get(
                    f"{self.url}/{self.session_id}",
                    params=params,
                    timeout=aiohttp.ClientTimeout(total=40),
                ) as response:
                    events = await response.json(content_type=None)
                failures = 0
            except (TimeoutError, aiohttp.ClientError, ValueError) as exc:
                failures += 1
                if failures >= 3:
                    log.error("Janus at %s stopped answering (%r): session lost", self.url, exc)
                    self._lost()
                    return
                await asyncio.sleep(0.5)
                continue
            for event in events if isinstance(events, list) else [events]:
                self._dispatch(event)

    def _dispatch(self, event: dict[str, Any]) -> None:
        kind = event.get("janus")
        if kind == "keepalive":
            return
        if kind == "error" and event.get("error", {}).get("code") == 458:
            log.error("Janus forgot session %s: session lost", self.session_id)
            self._lost()
            return
        waiting = self._waiting.get(str(event.get("transaction", "")))
        if waiting is not None and kind in ("event", "success") and not waiting.done():
            waiting.set_result(event)
            return
        if self._on_event is not None:
            data = _plugin_data(event) if "plugindata" in event else dict(event)
            jsep = event.get("jsep")
            self._on_event(JanusEvent(int(event.get("sender", 0)), str(kind), data, jsep))

    def _lost(self) -> None:
        self.closed.set()
        self._fail_waiting(JanusError("the Janus session was lost"))
        if self._on_event is not None:
            self._on_event(JanusEvent(0, "session_lost", {}))

    def _fail_waiting(self, error: JanusError) -> None:
        for waiting in self._waiting.values():
            if not waiting.done():
                waiting.set_exception(error)
        self._waiting.clear()


def _plugin_data(reply: dict[str, Any]) -> dict[str, Any]:
    data: dict[str, Any] = reply.get("plugindata", {}).get("data", {})
    if "error" in data:
        raise JanusError(str(data["error"]), int(data.get("error_code", 0)))
    return data
