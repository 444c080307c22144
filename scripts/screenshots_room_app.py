"""Render the WIRED app in a real audio room into ``docs/screenshots/app-room-*.png``.

An in-process server, Alice's main window wired exactly as ``parley`` wires it (the
audio room kit, its presenter and page), and headless room bots as the other people,
speaking synthetic tones over real peer connections. Shots: the home page with its room
card, Alice hosting with a speaker and a pending request, Alice listening in a room
another user hosts, and the minimize overlay. Run:

    QT_QPA_PLATFORM=offscreen python scripts/screenshots_room_app.py
"""

from __future__ import annotations

import asyncio
import os
import sys
from pathlib import Path

os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")
sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from _wired_app import open_window, run, save, until
from PySide6.QtWidgets import QApplication

from app.kit.bots import Answer, RoomBot
from app.kit.media import MediaOptions
from app.kit.types import AudioRoomRole, User
from signaling.auth import mint_token
from widgets.audio_room_page import AudioRoomPage


async def shoot(qt_app: QApplication, settings_dir: Path) -> None:
    tone = MediaOptions(synthetic=True, tone_hz=330)
    wired = await open_window(qt_app, settings_dir, 1040, 680, media=tone)
    server, secret, app = wired.server, wired.secret, wired.app
    window, bridge = app.window, app.bridge
    assert app.room_kit is not None
    assert app.room_entry is not None
    assert app.rooms is not None
    assert app.navigator is not None
    assert app.overlay is not None
    kit, entry, presenter, overlay = app.room_kit, app.room_entry, app.rooms, app.overlay
    navigator = app.navigator

    def room_page() -> AudioRoomPage | None:
        page = navigator.room_page
        return page if isinstance(page, AudioRoomPage) else None

    bots: list[RoomBot] = []

    async def bot(user_id: str, name: str, answer: Answer = Answer.IGNORE) -> RoomBot:
        made = RoomBot(
            server.url,
            mint_token(secret, user_id, name),
            User(user_id, name),
            on_seat_invitation=answer,
            media=MediaOptions(synthetic=True, tone_hz=440),
        )
        await made.sign_in()
        bots.append(made)
        return made

    try:
        bridge.sign_in("alice", "Alice Martin")
        await until(lambda: window.stack.currentWidget() is window.home_page)
        await asyncio.sleep(0.3)
        save(window, "app-room-home")

        # Alice hosts: Bob speaks, Chloé asks for a seat, David listens.
        assert await entry.join("book-club", AudioRoomRole.HOST)
        bob = await bot("bob", "Bob Okafor", Answer.ANSWER)
        await bob.join("book-club")
        chloe = await bot("chloe", "Chloé Dubois")
        await chloe.join("book-club")
        david = await bot("david", "David Chen")
        await david.join("book-club")
        await until(lambda: kit.session is not None and len(kit.session.state.members) == 4)
        assert await kit.controller.seat.host.invite_to_take("bob")
        assert await chloe.apply()
        await bob.send("Chapter three was the best so far")
        await until(lambda: (shown := room_page()) is not None and shown.view is not None)
        page = room_page()
        assert page is not None
        await until(lambda: page.view is not None and page.view.pending_requests == 1)
        await until(lambda: page.view is not None and page.view.seat(1).is_speaking)
        await asyncio.sleep(0.5)
        save(window, "app-room-host")
        page.toggle_member_list()
        await asyncio.sleep(0.2)
        save(window, "app-room-host-members")
        await kit.leave(confirm=False)
        for made in (bob, chloe, david):
            await made.leave()

        # Alice listens in Erin's room and minimizes it.
        erin = await bot("erin", "Erin Walsh")
        await erin.join("late-show", host=True)
        assert await entry.join("late-show", AudioRoomRole.AUDIENCE)
        await until(lambda: (shown := room_page()) is not None and shown.view is not None)
        listening = room_page()
        assert listening is not None
        await until(lambda: listening.view is not None and listening.view.seat(0).is_speaking)
        await asyncio.sleep(0.5)
        save(window, "app-room-audience")
        presenter.minimize()
        await until(overlay.isVisible)
        await asyncio.sleep(0.5)
        save(overlay, "app-room-overlay")
        presenter.restore()
        await kit.leave(confirm=False)
    finally:
        for made in bots:
            await made.close()
        await wired.close()


def main() -> None:
    run(shoot)


if __name__ == "__main__":
    main()
