"""The central event bus: integrator hooks first, the kit's default actions otherwise.

Services publish through one :class:`KitChannel` per events object (``bus.call``,
``bus.invitation``, ``bus.audio_room``). A hook is named by a *selector*, a lambda that is
a plain attribute path on the events object::

    await bus.call.publish(lambda e: e.audio_video.on_camera_state_changed, True)

so mypy checks both the hook's name and its arguments. The layer that owns dialogs and
navigation installs defaults with ``set_default`` and friends; ``app`` never imports it.

The bus is Qt-free and belongs to one event loop thread. A hook that raises is logged,
reported through the kit's ``on_error`` and then the kit behaves as if the hook were not
set; nothing a hook does ends a call.
"""

from __future__ import annotations

import asyncio
import inspect
import logging
from collections.abc import Awaitable, Callable, Coroutine
from typing import Any, Generic, ParamSpec, TypeAlias, TypeVar, cast

from app.kit.events import (
    AudioRoomEvents,
    CallEvents,
    CallInvitationEvents,
    ConfirmResult,
    DefaultAction,
    DefaultConfirmation,
    HookResult,
    hook_paths,
)
from app.kit.listeners import Listeners
from app.kit.tasks import TaskKeeper
from app.kit.types import KitError

__all__ = ["BusListener", "EventBus", "KitChannel"]

logger = logging.getLogger(__name__)

P = ParamSpec("P")
E = TypeVar("E")
Ev = TypeVar("Ev")

#: Called for every event published on the bus, before dispatch, with the qualified
#: path (``"call.audio_video.on_camera_state_changed"``) and the arguments.
BusListener: TypeAlias = Callable[[str, tuple[object, ...]], None]

_AnyAction: TypeAlias = Callable[..., object]
_ERROR_PATH = "on_error"


class _PathRecorder:
    """Stands in for an events object to learn which attribute path a selector reads."""

    __slots__ = ("parts",)

    def __init__(self, parts: tuple[str, ...]) -> None:
        self.parts = parts

    def __getattr__(self, name: str) -> _PathRecorder:
        if name.startswith("__"):
            raise AttributeError(name)
        return _PathRecorder((*self.parts, name))


class KitChannel(Generic[E]):
    """The bus's view of one kit's events object: publish its events, install defaults."""

    def __init__(self, bus: EventBus, kit: str, events: E) -> None:
        self._bus = bus
        self._kit = kit
        self._events = events
        self._events_type = type(events)
        self._paths = frozenset(hook_paths(self._events_type))
        self._defaults: dict[str, _AnyAction] = {}
        self._path_cache: dict[object, str] = {}

    @property
    def kit(self) -> str:
        """The kit's name: ``call``, ``invitation`` or ``audio_room``."""
        return self._kit

    @property
    def paths(self) -> frozenset[str]:
        """Every hook path of this kit's events class."""
        return self._paths

    @property
    def events(self) -> E:
        """The integrator's events object; replace it when a new call or room starts."""
        return self._events

    @events.setter
    def events(self, events: E) -> None:
        if not isinstance(events, self._events_type):
            raise TypeError(f"bus.{self._kit}.events must be a {self._events_type.__name__}")
        self._events = events

    # -- publishing ----------------------------------------------------------------------

    async def publish(
        self,
        select: Callable[[E], Callable[P, HookResult] | None],
        *args: P.args,
        **kwargs: P.kwargs,
    ) -> None:
        """Call the hook with the arguments, or else the installed default, if any."""
        path = self._begin(select, args, kwargs)
        hook = self._hook(path)
        if (
            hook is not None
            and (await self._call(path, hook, args, kwargs, KitError.HOOK_FAILED))[0]
        ):
            return
        default = self._defaults.get(path)
        if default is not None:
            await self._call(path, default, args, kwargs, KitError.DEFAULT_ACTION_FAILED)

    def publish_soon(
        self,
        select: Callable[[E], Callable[P, HookResult] | None],
        *args: P.args,
        **kwargs: P.kwargs,
    ) -> None:
        """Like :meth:`publish`, from synchronous code on the loop thread; see ``drain``."""
        self._begin(select, (), {}, record=False)  # a bad selector fails here, not later
        self._bus.spawn(self.publish(select, *args, **kwargs))

    async def end(
        self,
        select: Callable[[E], Callable[[Ev, DefaultAction], HookResult] | None],
        event: Ev,
    ) -> None:
        """Publish an end event (``on_call_end``, ``on_ended``) with its ``default_action``.

        The default action runs at most once, whether the hook calls it or the bus does.
        """
        path = self._begin(select, (event,), {})
        default = self._defaults.get(path)
        done = False

        def default_action() -> None:
            nonlocal done
            if done or default is None:
                return
            done = True
            try:
                result = default(event)
            except Exception as exc:  # a default is ours, but must not break a hook either
                self._bus.spawn(self._report(path, exc, KitError.DEFAULT_ACTION_FAILED))
                return
            if inspect.isawaitable(result):
                self._bus.spawn(self._await_default(path, result))

        hook = self._hook(path)
        if hook is not None:
            ran, _ = await self._call(path, hook, (event, default_action), {}, KitError.HOOK_FAILED)
            if ran:
                return
        default_action()

    async def confirm(
        self,
        select: Callable[[E], Callable[[Ev, DefaultConfirmation], ConfirmResult] | None],
        event: Ev,
        *,
        otherwise: bool = True,
    ) -> bool:
        """Ask a confirmation hook that receives ``default_action``; True means go ahead.

        Without a hook the installed default answers; without either, ``otherwise``.
        """
        return await self._confirm(select, event, otherwise, pass_default=True)

    async def ask(
        self,
        select: Callable[[E], Callable[[Ev], ConfirmResult] | None],
        event: Ev,
        *,
        otherwise: bool = False,
    ) -> bool:
        """Ask a confirmation hook without ``default_action`` (the microphone request)."""
        return await self._confirm(select, event, otherwise, pass_default=False)

    # -- defaults ------------------------------------------------------------------------

    def set_default(
        self,
        select: Callable[[E], Callable[P, HookResult] | None],
        action: Callable[P, HookResult] | None,
    ) -> None:
        """Install (or with ``None`` remove) what happens when a notification has no hook."""
        self._store_default(select, action)

    def set_end_default(
        self,
        select: Callable[[E], Callable[[Ev, DefaultAction], HookResult] | None],
        action: Callable[[Ev], HookResult] | None,
    ) -> None:
        """Install the ``default_action`` of an end event; it receives the event."""
        self._store_default(select, action)

    def set_confirm_default(
        self,
        select: Callable[
            [E],
            Callable[[Ev, DefaultConfirmation], ConfirmResult]
            | Callable[[Ev], ConfirmResult]
            | None,
        ],
        action: Callable[[Ev], ConfirmResult] | None,
    ) -> None:
        """Install the default answer of a confirmation, typically a dialog."""
        self._store_default(select, action)

    # -- internals -----------------------------------------------------------------------

    def _store_default(self, select: Callable[[E], object], action: _AnyAction | None) -> None:
        path = self._path_of(select)
        if action is None:
            self._defaults.pop(path, None)
        else:
            self._defaults[path] = action

    def _path_of(self, select: Callable[[E], object]) -> str:
        code = getattr(select, "__code__", None)
        # A selector with a closure could choose its path at run time; don't cache those.
        cacheable = code is not None and getattr(select, "__closure__", None) is None
        if cacheable and code in self._path_cache:
            return self._path_cache[code]
        recorded = select(cast(E, _PathRecorder(())))
        if not isinstance(recorded, _PathRecorder):
            raise TypeError("a hook selector must be an attribute path: lambda e: e.user.on_enter")
        path = ".".join(recorded.parts)
        if path not in self._paths:
            raise ValueError(f"{type(self._events).__name__} has no hook {path!r}")
        if cacheable:
            self._path_cache[code] = path
        return path

    def _begin(
        self,
        select: Callable[[E], object],
        args: tuple[object, ...],
        kwargs: dict[str, object],
        *,
        record: bool = True,
    ) -> str:
        path = self._path_of(select)
        if record:
            self._bus._record(f"{self._kit}.{path}", (*args, *kwargs.values()))
        return path

    def _hook(self, path: str) -> _AnyAction | None:
        target: object = self._events
        for part in path.split("."):
            target = getattr(target, part)
        return cast(_AnyAction | None, target)

    async def _call(
        self,
        path: str,
        action: _AnyAction,
        args: tuple[object, ...],
        kwargs: dict[str, Any],
        code: str,
    ) -> tuple[bool, object]:
        """Run a hook or default, awaiting it if async: (True, what it returned), or
        (False, None) when it raised (reported as ``code``)."""
        try:
            result = action(*args, **kwargs)
            if inspect.isawaitable(result):
                result = await result
        except Exception as exc:  # integrator code: anything may come out of it
            await self._report(path, exc, code)
            return False, None
        return True, result

    async def _await_default(self, path: str, awaitable: Awaitable[object]) -> None:
        try:
            await awaitable
        except Exception as exc:  # see _call
            await self._report(path, exc, KitError.DEFAULT_ACTION_FAILED)

    async def _confirm(
        self, select: Callable[[E], object], event: object, otherwise: bool, *, pass_default: bool
    ) -> bool:
        path = self._begin(select, (event,), {})
        default = self._defaults.get(path)
        pending: asyncio.Task[bool | None] | None = None

        async def default_action() -> bool:
            # Calling it twice must not show the dialog twice.
            nonlocal pending
            if pending is None:
                code = KitError.DEFAULT_ACTION_FAILED
                pending = asyncio.ensure_future(self._answer(path, default, (event,), code))
            answer = await pending
            return otherwise if answer is None else answer

        hook = self._hook(path)
        if hook is not None:
            hook_args = (event, default_action) if pass_default else (event,)
            answer = await self._answer(path, hook, hook_args, KitError.HOOK_FAILED)
            if answer is not None:
                return answer
        return await default_action()

    async def _answer(
        self, path: str, action: _AnyAction | None, args: tuple[object, ...], code: str
    ) -> bool | None:
        """The bool an action returns, or None when there is none, it raised or lied."""
        if action is None:
            return None
        ok, result = await self._call(path, action, args, {}, code)
        if ok and not isinstance(result, bool):
            await self._report(path, TypeError(f"returned {result!r}, not a bool"), code)
        return result if isinstance(result, bool) else None

    async def _report(self, path: str, exc: Exception, code: str) -> None:
        where = f"{self._kit}.{path}"
        logger.error("%s failed", where, exc_info=exc)
        if path == _ERROR_PATH:
            return  # the error handler itself failed: logging is all that is left
        await self.publish(
            cast(Callable[[E], Callable[[KitError], HookResult] | None], _select_on_error),
            KitError(code, f"{where} raised {type(exc).__name__}: {exc}"),
        )


def _select_on_error(events: Any) -> Any:
    # Every events class has on_error at its top level; this saves a selector per kit.
    return events.on_error


class EventBus:
    """One per application: holds the three events objects and dispatches their events."""

    def __init__(
        self,
        call_events: CallEvents | None = None,
        invitation_events: CallInvitationEvents | None = None,
        audio_room_events: AudioRoomEvents | None = None,
        *,
        on_default_error: Callable[[KitError], HookResult] | None = None,
    ) -> None:
        """``on_default_error`` handles errors of every kit whose ``on_error`` is not set."""
        self.call: KitChannel[CallEvents] = KitChannel(self, "call", call_events or CallEvents())
        self.invitation: KitChannel[CallInvitationEvents] = KitChannel(
            self, "invitation", invitation_events or CallInvitationEvents()
        )
        self.audio_room: KitChannel[AudioRoomEvents] = KitChannel(
            self, "audio_room", audio_room_events or AudioRoomEvents()
        )
        self._fired: set[str] = set()
        self._listeners: Listeners[[str, tuple[object, ...]]] = Listeners("bus events")
        self.tasks = TaskKeeper("bus")
        if on_default_error is not None:
            self.call.set_default(lambda e: e.on_error, on_default_error)
            self.invitation.set_default(lambda e: e.on_error, on_default_error)
            self.audio_room.set_default(lambda e: e.on_error, on_default_error)

    @property
    def fired(self) -> frozenset[str]:
        """Qualified paths of every event published so far, e.g. ``call.user.on_enter``."""
        return frozenset(self._fired)

    @property
    def known_paths(self) -> frozenset[str]:
        """Qualified paths of every event the bus can publish."""
        return frozenset(
            f"{channel.kit}.{path}"
            for channel in (self.call, self.invitation, self.audio_room)
            for path in channel.paths
        )

    def subscribe(self, listener: BusListener) -> Callable[[], None]:
        """Observe every published event (tests, logging); returns a function to remove it."""
        return self._listeners.subscribe(listener)

    #: The name this method had before 0.2; ``subscribe`` is the kit's one convention.
    add_listener = subscribe

    def spawn(self, coro: Coroutine[Any, Any, None]) -> None:
        """Run a coroutine as a task the bus keeps referenced until it is done."""
        self.tasks.spawn(coro, "bus")

    async def drain(self) -> None:
        """Wait until every task started with :meth:`spawn` (or ``publish_soon``) is done."""
        await self.tasks.drain()

    def _record(self, qualified_path: str, args: tuple[object, ...]) -> None:
        self._fired.add(qualified_path)
        self._listeners.emit(qualified_path, args)
