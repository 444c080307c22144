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

from app.compose.call_ui import CallUi
from app.kit.bots.call import Answer, Bot
from app.kit.bus import EventBus
from app.kit.call.service import CallInvitationService
from app.kit.history.recorder import CallHistory
from app.kit.media import MediaOptions
from app.kit.types import User
from signaling.auth import mint_token


async def shoot(qt_app: QApplication, settings_dir: Path) -> None:
    wired = await open_window(qt_app, settings_dir, 960, 680)
    server, secret, tasks, session = wired.server, wired.secret, wired.tasks, wired.session
    handle = wired.handle
    bridge, window, colors = wired.bridge, wired.window, wired.colors
    kit = CallInvitationService(EventBus())
    calls = CallUi(
        window,
        bridge,
        session,
        handle,
        kit,
        tasks,
        colors,
        media=MediaOptions(synthetic=True),
        history=CallHistory(),  # in memory: the calls below fill Recent calls
    )
    window.show()
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
        await until(lambda: window.stack.currentWidget() is calls.outgoing_page)
        await asyncio.sleep(0.3)
        save(window, "app-outgoing")
        calls.outgoing_page.cancel_button.click()
        await until(lambda: window.stack.currentWidget() is window.home_page)

        await bob.call(["alice"])
        await until(calls.banner.isVisible)
        await asyncio.sleep(0.2)
        save(window, "app-incoming-banner")
        calls.banner.decline_button.click()
        await until(
            lambda: (
                not calls.banner.isVisible()
                and bob.kit.invitations is not None
                and bob.kit.invitations.phase.value == "idle"
            )
        )

        window.home_page.callee_edit.setText("bob")
        window.home_page.video_button.click()
        await until(
            lambda: (
                calls.call_page is not None
                and calls.call_page.tiles.get("bob") is not None
                and calls.call_page.tiles["bob"].video.has_frame
            )
        )
        await asyncio.sleep(2.0)  # a couple of seconds of running video and duration
        save(window, "app-call-video")
        calls.presenter.minimize()
        await until(lambda: calls.overlay.isVisible() and calls.overlay.video.has_frame)
        await asyncio.sleep(0.5)
        save(calls.overlay, "app-overlay")
        save(window, "app-overlay-home")
        calls.presenter.restore()
        calls.presenter.hang_up()
        await until(
            lambda: window.stack.currentWidget() is window.home_page and kit.session is None
        )
        await asyncio.sleep(0.5)

        window.home_page.callee_edit.setText("bob, chloe, david")
        window.home_page.video_button.click()
        await until(
            lambda: (
                calls.call_page is not None
                and all(calls.call_page.tiles.get(u) is not None for u in ("bob", "chloe"))
                and calls.call_page.tiles["bob"].video.has_frame
                and calls.call_page.tiles["chloe"].video.has_frame
            )
        )
        await asyncio.sleep(1.5)
        save(window, "app-group-call")
        calls.presenter.hang_up()
        await until(lambda: kit.session is None)
    finally:
        await calls.close()
        for made in bots:
            await made.close()
        await wired.close()


def main() -> None:
    run(shoot)


if __name__ == "__main__":
    main()
