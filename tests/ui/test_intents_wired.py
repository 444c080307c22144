"""Every intent a page can emit is connected to something in the wired app.

A button whose signal nobody hears looks like it works and does nothing (the waiting
tile's "Cancel the invitation" once did exactly that). This walks every widget of
Parley's window — with a call and an audio room on screen, so their pages exist too —
and checks each signal its ``widgets`` classes declare with ``QObject.isSignalConnected``.
"""

from __future__ import annotations

from PySide6.QtCore import QMetaMethod, QMetaObject, QObject
from pytestqt.qtbot import QtBot

from app import AudioRoomRole
from app.kit.bots import Answer
from app.main import Application, connect_device_settings
from app.testing import wait_until
from tests.ui.call_app import BotFactory, CallApp
from widgets.device_settings_dialog import DeviceSettingsDialog

#: ``widget class:signal`` that are not intents (nothing for the app to do), and why.
NOT_INTENTS = {
    "Toast:Toast.finished()": "says a toast has faded out; tests wait on it",
    "RoomMessages:SidePanel.close_requested()": "the room's messages are always shown: "
    "their panel hides its close button",
}


def widget_classes(obj: QObject) -> list[type]:
    return [cls for cls in type(obj).__mro__ if cls.__module__.startswith("widgets.")]


def unconnected_intents(root: QObject) -> list[str]:
    """``Class.signal`` of every declared-but-unheard signal under ``root`` (itself too)."""
    found: set[str] = set()
    for obj in [root, *root.findChildren(QObject)]:
        names = {cls.__name__ for cls in widget_classes(obj)}
        meta: QMetaObject | None = obj.metaObject()
        while meta is not None and meta.className() in names:
            for index in range(meta.methodOffset(), meta.methodCount()):
                method = meta.method(index)
                if method.methodType() != QMetaMethod.MethodType.Signal:
                    continue
                signature = f"{meta.className()}.{bytes(method.methodSignature().data()).decode()}"
                exempt = f"{type(obj).__name__}:{signature}" in NOT_INTENTS
                if not exempt and not obj.isSignalConnected(method):
                    found.add(signature)
            meta = meta.superClass()
    return sorted(found)


def app_roots(app: Application) -> list[QObject]:
    roots: list[QObject] = [app.window]
    if app.overlay is not None:
        roots.append(app.overlay)
    return roots


async def test_every_page_intent_is_connected(alice: CallApp, bots: BotFactory) -> None:
    app = alice.app
    # A group call with someone still ringing: the call page with a waiting tile.
    bob = await bots("bob", Answer.ANSWER)
    await bots("carol")
    alice.call("bob, carol")
    page = await alice.wait_for_call_page()
    await wait_until(lambda: "carol" in page.tiles and "bob" in page.tiles, 10)
    in_call = [name for root in app_roots(app) for name in unconnected_intents(root)]
    assert alice.kit.session is not None
    assert await alice.kit.controller.hang_up(show_confirmation=False)
    await alice.wait_home()
    await alice.settle(bob)

    # An audio room: its page.
    assert app.room_entry is not None
    assert await app.room_entry.join("intents", AudioRoomRole.HOST)
    await wait_until(lambda: app.navigator is not None and app.navigator.room_page is not None)
    in_room = [name for root in app_roots(app) for name in unconnected_intents(root)]
    assert app.room_kit is not None
    await app.room_kit.leave(confirm=False)

    # The device settings dialog, wired as the home page's Devices button wires it.
    assert app.devices is not None
    dialog = DeviceSettingsDialog(app.colors, app.window)
    connect_device_settings(dialog, app.devices)
    in_dialog = unconnected_intents(dialog)
    dialog.deleteLater()

    assert in_call == []
    assert in_room == []
    assert in_dialog == []


def test_the_check_sees_an_unconnected_signal(qtbot: QtBot) -> None:
    from widgets.call_tile import CallTile

    tile = CallTile("bob")
    try:
        assert "CallTile.cancel_invite_requested(QString)" in unconnected_intents(tile)
        tile.cancel_invite_requested.connect(lambda user_id: None)
        assert "CallTile.cancel_invite_requested(QString)" not in unconnected_intents(tile)
    finally:
        tile.deleteLater()
