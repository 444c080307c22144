"""A system tray for tests: the StatusNotifierWatcher (and host) of a desktop panel on
the session bus given by ``$DBUS_SESSION_BUS_ADDRESS``, run as a plain process:

    python -m tests.support.fake_tray_host

Qt shows its tray icons through it as a real panel's tray would see them: the item
registers, and the host reads its tool tip and its menu (``com.canonical.dbusmenu``).
Lines on stdin act as the person at the panel, answers are JSON lines on stdout:
``describe`` (the item's tool tip and menu), ``click LABEL`` (a menu entry chosen),
``activate`` (the icon clicked).
"""

from __future__ import annotations

import asyncio
import json
import sys
import time
from typing import Annotated, Any

from dbus_fast import Variant
from dbus_fast.aio import MessageBus
from dbus_fast.annotations import DBusSignature
from dbus_fast.constants import PropertyAccess
from dbus_fast.service import ServiceInterface, dbus_method, dbus_property, dbus_signal

Str = Annotated[str, DBusSignature("s")]
StrList = Annotated[list[str], DBusSignature("as")]
Bool = Annotated[bool, DBusSignature("b")]
Int = Annotated[int, DBusSignature("i")]
Nothing = Annotated[None, DBusSignature("")]
ITEM_PATH = "/StatusNotifierItem"


def say(**event: Any) -> None:
    print(json.dumps(event), flush=True)


class Watcher(ServiceInterface):
    def __init__(self) -> None:
        super().__init__("org.kde.StatusNotifierWatcher")
        self.items: list[str] = []

    @dbus_method()
    def RegisterStatusNotifierItem(self, service: Str) -> Nothing:  # noqa: N802 (the spec's)
        self.items.append(service)
        self.StatusNotifierItemRegistered(service)
        say(event="registered", service=service)

    @dbus_method()
    def RegisterStatusNotifierHost(self, service: Str) -> Nothing:  # noqa: N802
        pass

    @dbus_property(access=PropertyAccess.READ)
    def RegisteredStatusNotifierItems(self) -> StrList:  # noqa: N802
        return self.items

    @dbus_property(access=PropertyAccess.READ)
    def IsStatusNotifierHostRegistered(self) -> Bool:  # noqa: N802
        return True

    @dbus_property(access=PropertyAccess.READ)
    def ProtocolVersion(self) -> Int:  # noqa: N802
        return 0

    @dbus_signal()
    def StatusNotifierItemRegistered(self, service: Str) -> Str:  # noqa: N802
        return service


def _menu_entries(layout: list[Any]) -> list[dict[str, Any]]:
    """The entries of a dbusmenu layout ``(id, properties, children)``, depth first."""
    entries = []
    for child in layout[2]:
        item_id, props, _children = child.value
        values = {key: variant.value for key, variant in props.items()}
        if values.get("type") == "separator":
            continue
        entries.append(
            {
                "id": item_id,
                "label": str(values.get("label", "")).replace("_", ""),
                "visible": bool(values.get("visible", True)),
                "enabled": bool(values.get("enabled", True)),
                "checked": values.get("toggle-state") == 1 if "toggle-type" in values else None,
            }
        )
    return entries


class Host:
    """The panel's side: reads the registered item and its menu."""

    def __init__(self, bus: MessageBus, watcher: Watcher) -> None:
        self.bus = bus
        self.watcher = watcher

    async def _item(self) -> Any:
        service = self.watcher.items[-1]
        name, _, path = service.partition("/")
        path = "/" + path if path else ITEM_PATH
        introspection = await self.bus.introspect(name, path)
        return name, self.bus.get_proxy_object(name, path, introspection)

    async def _menu(self) -> tuple[Any, list[dict[str, Any]]]:
        name, item = await self._item()
        properties = item.get_interface("org.kde.StatusNotifierItem")
        menu_path = await properties.get_menu()
        introspection = await self.bus.introspect(name, menu_path)
        # dbus_fast makes the call_* methods from the introspection: Any to mypy.
        menu: Any = self.bus.get_proxy_object(name, menu_path, introspection).get_interface(
            "com.canonical.dbusmenu"
        )
        await menu.call_about_to_show(0)
        _revision, layout = await menu.call_get_layout(0, -1, [])
        return menu, _menu_entries(layout)

    async def describe(self) -> None:
        _name, item = await self._item()
        properties = item.get_interface("org.kde.StatusNotifierItem")
        _icon, _pixmaps, title, text = await properties.get_tool_tip()
        status = await properties.get_status()
        _menu, entries = await self._menu()
        say(event="item", tool_tip="\n".join(p for p in (title, text) if p), status=status,
            menu=entries)  # fmt: skip

    async def click(self, label: str) -> None:
        menu, entries = await self._menu()
        found = [entry for entry in entries if entry["label"] == label]
        if not found:
            say(event="error", error=f"no menu entry {label!r}", menu=entries)
            return
        await menu.call_event(found[0]["id"], "clicked", Variant("i", 0), int(time.time()))
        say(event="clicked", label=label)

    async def activate(self) -> None:
        _name, item = await self._item()
        await item.get_interface("org.kde.StatusNotifierItem").call_activate(0, 0)
        say(event="activated")


async def main() -> None:
    bus = await MessageBus().connect()
    watcher = Watcher()
    bus.export("/StatusNotifierWatcher", watcher)
    await bus.request_name("org.kde.StatusNotifierWatcher")
    host = Host(bus, watcher)
    say(event="ready")
    loop = asyncio.get_running_loop()
    while line := await loop.run_in_executor(None, sys.stdin.readline):
        command, _, argument = line.strip().partition(" ")
        try:
            if command == "describe":
                await host.describe()
            elif command == "click":
                await host.click(argument)
            elif command == "activate":
                await host.activate()
        except Exception as error:  # the test reads it as an answer
            say(event="error", error=f"{type(error).__name__}: {error}")


if __name__ == "__main__":
    asyncio.run(main())
