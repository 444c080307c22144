"""The server's timers: an invitation ringing out, a request to speak expiring, a dropped
member's place given up, a call nobody joined forgotten.

Each timer is named by a kind and a key and carries JSON arguments; its handler is
registered per kind and must be harmless when what it was set for has ended meanwhile
(every handler checks the store: an invitation already answered, a re-joined member's
new epoch, a request token that ended). That is what lets a timer outlive the process
that set it: :class:`SharedTimers` keeps them in the shared store, where the first live
server to claim a due timer runs it, exactly once, also after the server that set it
died. :class:`LocalTimers` is the in-process version for a server on its own.
"""

from __future__ import annotations

import asyncio
import json
import logging
import time
from collections.abc import Callable, Coroutine, Mapping
from typing import Any, Protocol

log = logging.getLogger("parley.server")

TimerArgs = Mapping[str, Any]
TimerHandler = Callable[[TimerArgs], Coroutine[Any, Any, None]]
Spawn = Callable[[Coroutine[Any, Any, Any]], None]


class Timers(Protocol):
    """Named one-shot timers whose handlers run in the background."""

    def on(self, kind: str, handler: TimerHandler) -> None:
        """Run ``handler(args)`` when a timer of ``kind`` fires."""

    async def start(self, kind: str, key: str, delay_s: float, args: TimerArgs) -> None:
        """Fire ``kind``/``key`` with ``args`` in ``delay_s``; replaces one of that name."""

    async def cancel(self, kind: str, key: str) -> None:
        """Forget the timer ``kind``/``key`` if it has not fired."""

    async def run(self) -> None:
        """Fire due timers until cancelled (nothing to do for in-process timers)."""

    async def close(self) -> None:
        """Stop firing; the ones not due yet are dropped here (and kept where shared)."""


class LocalTimers:
    """Timers on this process's event loop."""

    def __init__(self, spawn: Spawn) -> None:
        self._spawn = spawn
        self._handlers: dict[str, TimerHandler] = {}
        self._handles: dict[tuple[str, str], asyncio.TimerHandle] = {}

    def on(self, kind: str, handler: TimerHandler) -> None:
        self._handlers[kind] = handler

    async def start(self, kind: str, key: str, delay_s: float, args: TimerArgs) -> None:
        await self.cancel(kind, key)
        loop = asyncio.get_running_loop()
        self._handles[kind, key] = loop.call_later(delay_s, self._fire, kind, key, dict(args))

    def _fire(self, kind: str, key: str, args: TimerArgs) -> None:
        self._handles.pop((kind, key), None)
        self._spawn(self._handlers[kind](args))

    async def cancel(self, kind: str, key: str) -> None:
        handle = self._handles.pop((kind, key), None)
        if handle is not None:
            handle.cancel()

    async def run(self) -> None:
        return None

    async def close(self) -> None:
        for handle in self._handles.values():
            handle.cancel()
        self._handles.clear()


class TimerStore(Protocol):
    """What :class:`SharedTimers` needs of the shared store."""

    async def schedule_timer(self, name: str, due_at: float, payload: str) -> None: ...
    async def cancel_timer(self, name: str) -> None: ...
    async def claim_due_timers(self, now: float, limit: int) -> list[tuple[str, str]]: ...


class SharedTimers:
    """Timers in the shared store, claimed by whichever server polls first when due."""

    #: How often a server looks for due timers (how late one fires, at most, plus work).
    POLL_S = 0.02
    #: Claimed per look; more are taken at once in the next one.
    BATCH = 100

    def __init__(self, store: TimerStore, spawn: Spawn) -> None:
        self._store = store
        self._spawn = spawn
        self._handlers: dict[str, TimerHandler] = {}
        self._closed = False

    def on(self, kind: str, handler: TimerHandler) -> None:
        self._handlers[kind] = handler

    @staticmethod
    def _name(kind: str, key: str) -> str:
        return json.dumps([kind, key])

    async def start(self, kind: str, key: str, delay_s: float, args: TimerArgs) -> None:
        payload = json.dumps(dict(args))
        await self._store.schedule_timer(self._name(kind, key), time.time() + delay_s, payload)

    async def cancel(self, kind: str, key: str) -> None:
        await self._store.cancel_timer(self._name(kind, key))

    async def run(self) -> None:
        # Not only cancellation ends the loop: redis-py can swallow the CancelledError
        # that a stopping server sends while a command is in flight (seen: a stop hung).
        while not self._closed:
            try:
                due = await self._store.claim_due_timers(time.time(), self.BATCH)
            except Exception:
                # The store unreachable for a moment: timers wait for it, none is lost.
                log.warning("could not look for due timers; trying again", exc_info=True)
                await asyncio.sleep(1.0)
                continue
            for name, payload in due:
                kind, _key = json.loads(name)
                handler = self._handlers.get(kind)
                if handler is None:
                    log.error("no handler for timer %s", name)
                    continue
                self._spawn(handler(json.loads(payload)))
            if len(due) < self.BATCH:
                await asyncio.sleep(self.POLL_S)

    async def close(self) -> None:
        self._closed = True
