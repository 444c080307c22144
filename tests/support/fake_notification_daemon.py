"""A freedesktop notification daemon for tests (``org.freedesktop.Notifications`` on the
session bus given by ``$DBUS_SESSION_BUS_ADDRESS``), run as a plain process:

    python -m tests.support.fake_notification_daemon

Strict like the real ones (dunst, GNOME Shell, Plasma): the method signatures are the
specification's, so a client that sends the notification id as int32 instead of uint32
is refused. Every ``Notify`` and ``CloseNotification`` is printed as one JSON line on
stdout; lines on stdin act as the person in front of the screen:
``invoke ID ACTION_KEY`` (a button pressed) and ``dismiss ID``.
"""

from __future__ import annotations

import asyncio
import json
import sys
from typing import Annotated, Any

from dbus_fast import Variant
from dbus_fast.aio import MessageBus
from dbus_fast.annotations import DBusSignature
from dbus_fast.service import ServiceInterface, dbus_method, dbus_signal

Str = Annotated[str, DBusSignature("s")]
UInt = Annotated[int, DBusSignature("u")]
Int = Annotated[int, DBusSignature("i")]
StrList = Annotated[list[str], DBusSignature("as")]
Hints = Annotated[dict[str, Variant], DBusSignature("a{sv}")]
Info = Annotated[tuple[str, str, str, str], DBusSignature("ssss")]
Closed = Annotated[tuple[int, int], DBusSignature("uu")]
Action = Annotated[tuple[int, str], DBusSignature("us")]
Nothing = Annotated[None, DBusSignature("")]

DISMISSED = 2
CLOSED_BY_CALL = 3


def say(**event: Any) -> None:
    print(json.dumps(event), flush=True)


class Notifications(ServiceInterface):
    def __init__(self) -> None:
        super().__init__("org.freedesktop.Notifications")
        self.next_id = 1
        self.open: set[int] = set()

    @dbus_method()
    def GetCapabilities(self) -> StrList:  # noqa: N802 (the specification's names)
        return ["actions", "body", "persistence"]

    @dbus_method()
    def GetServerInformation(self) -> Info:  # noqa: N802
        return ("parley-test-daemon", "parley", "1.0", "1.2")

    @dbus_method()
    def Notify(  # noqa: N802
        self,
        app_name: Str,
        replaces_id: UInt,
        app_icon: Str,
        summary: Str,
        body: Str,
        actions: StrList,
        hints: Hints,
        expire_timeout: Int,
    ) -> UInt:
        nid = replaces_id or self.next_id
        self.next_id = max(self.next_id, nid + 1)
        self.open.add(nid)
        urgency = hints.get("urgency")
        say(
            event="notify",
            id=nid,
            app_name=app_name,
            icon=app_icon,
            summary=summary,
            body=body,
            actions=dict(zip(actions[::2], actions[1::2], strict=False)),
            urgency=urgency.value if urgency is not None else None,
            timeout=expire_timeout,
        )
        return nid

    @dbus_method()
    def CloseNotification(self, nid: UInt) -> Nothing:  # noqa: N802
        if nid in self.open:
            self.open.discard(nid)
            say(event="closed", id=nid, by="app")
            self.NotificationClosed(nid, CLOSED_BY_CALL)

    @dbus_signal()
    def NotificationClosed(self, nid: UInt, reason: UInt) -> Closed:  # noqa: N802
        return (nid, reason)

    @dbus_signal()
    def ActionInvoked(self, nid: UInt, key: Str) -> Action:  # noqa: N802
        return (nid, key)


async def main() -> None:
    bus = await MessageBus().connect()
    service = Notifications()
    bus.export("/org/freedesktop/Notifications", service)
    await bus.request_name("org.freedesktop.Notifications")
    say(event="ready")
    loop = asyncio.get_running_loop()
    while line := await loop.run_in_executor(None, sys.stdin.readline):
        command, *args = line.split()
        nid = int(args[0])
        if command == "invoke":
            service.ActionInvoked(nid, args[1])
            service.open.discard(nid)
            service.NotificationClosed(nid, DISMISSED)
        elif command == "dismiss":
            service.open.discard(nid)
            service.NotificationClosed(nid, DISMISSED)


if __name__ == "__main__":
    asyncio.run(main())
