"""Render the WIRED app during real calls into ``docs/screenshots/app-*.png``.

An in-process server, Alice's main window wired exactly as ``parley`` wires it (call kit,
presenter, navigation), and headless bots as the other people, sending synthetic video
over real peer connections. Shots: home, outgoing ringing, incoming banner, a 1:1 video
call, the minimize overlay, a group call. Run:

    QT_QPA_PLATFORM=offscreen python scripts/screenshots_app.py
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

from app.kit.bots import Answer, Bot
from app.kit.types import User
from signaling.auth import mint_token
from widgets.call_page import CallPage


async def shoot(qt_app: QApplication, settings_dir: Path) -> None:
    wired = await open_window(qt_app, settings_dir, 960, 680)
    server, secret, app = wired.server, wired.secret, wired.app
    window, bridge = app.window, app.bridge
    assert app.call_kit is not None
    assert app.calls is not None
    assert app.navigator is not None
    assert app.overlay is not None
    assert app.outgoing_page is not None
    assert app.banner is not None
    kit, presenter, navigator, overlay = app.call_kit, app.calls, app.navigator, app.overlay
    outgoing, banner = app.outgoing_page, app.banner

    def shows_video(*user_ids: str) -> bool:
        page = navigator.call_page
        if not isinstance(page, CallPage):
            return False
        tiles = [page.tiles.get(user_id) for user_id in user_ids]
        return all(tile is not None and tile.video.has_frame for tile in tiles)

    bots: list[Bot] = []

    async def bot(user_id: str, name: str, answer: Answer) -> Bot:
        made = Bot(
            server.url, mint_token(secret, user_id, name), User(user_id, name), on_invited=answer
        )
        await made.sign_in()
        bots.append(made)
        return made

    try:
        bob = await bot("bob", "Bob Okafor", Answer.ANSWER)
        await bot("chloe", "Chloé Dubois", Answer.ANSWER)
        await bot("david", "David Chen", Answer.IGNORE)
        window.signin_page.user_id_edit.setText("alice")
        window.signin_page.name_edit.setText("Alice Martin")
        bridge.sign_in("alice", "Alice Martin")
        await until(
            lambda: kit.invitations is not None and len(window.home_page.model.users()) == 4
        )
        window.home_page.callee_edit.setText("bob")
        save(window, "app-home")

        window.home_page.callee_edit.setText("david")
        window.home_page.video_button.click()
        await until(lambda: window.stack.currentWidget() is outgoing)
        await asyncio.sleep(0.3)
        save(window, "app-outgoing")
        outgoing.cancel_button.click()
        await until(lambda: window.stack.currentWidget() is window.home_page)

        await bob.call(["alice"])
        await until(banner.isVisible)
        await asyncio.sleep(0.2)
        save(window, "app-incoming-banner")
        banner.decline_button.click()
        await until(
            lambda: (
                not banner.isVisible()
                and bob.kit.invitations is not None
                and bob.kit.invitations.phase.value == "idle"
            )
        )

        window.home_page.callee_edit.setText("bob")
        window.home_page.video_button.click()
        await until(lambda: shows_video("bob"))
        await asyncio.sleep(2.0)  # a couple of seconds of running video and duration
        save(window, "app-call-video")
        presenter.minimize()
        await until(lambda: overlay.isVisible() and overlay.video.has_frame)
        await asyncio.sleep(0.5)
        save(overlay, "app-overlay")
        save(window, "app-overlay-home")
        presenter.restore()
        presenter.hang_up()
        await until(
            lambda: window.stack.currentWidget() is window.home_page and kit.session is None
        )
        await asyncio.sleep(0.5)

        window.home_page.callee_edit.setText("bob, chloe, david")
        window.home_page.video_button.click()
        await until(lambda: shows_video("bob", "chloe"))
        await asyncio.sleep(1.5)
        save(window, "app-group-call")
        presenter.hang_up()
        await until(lambda: kit.session is None)

        # Eva calls and gives up before Alice answers: a missed call, on the tray's menu.
        eva = await bot("eva", "Eva Novak", Answer.IGNORE)
        await until(lambda: kit.invitations is not None and kit.invitations.phase.value == "idle")
        await asyncio.sleep(0.5)  # the server sees her available again
        await eva.call(["alice"])
        await until(banner.isVisible)
        await eva.cancel()
        tray = app.desktop.tray
        await until(lambda: tray.missed_action.isVisible())
        if not tray.keep_running_action.isChecked():
            tray.keep_running_action.trigger()  # one choice ticked, as most people keep it
        tray.menu.popup(window.mapToGlobal(window.rect().center()))
        await asyncio.sleep(0.3)
        save(tray.menu, "app-tray-menu")
        tray.menu.hide()
    finally:
        for made in bots:
            await made.close()
        await wired.close()


def main() -> None:
    run(shoot)


if __name__ == "__main__":
    main()
