"""The audio room in the wired window: home → room page → seats, requests, invitations,
messages, minimize and leave, against the real server with room bots on the other seats."""

from __future__ import annotations

from dataclasses import replace

from PySide6.QtCore import Qt
from PySide6.QtTest import QTest
from PySide6.QtWidgets import QApplication

from app import (
    AudioRoomBottomBarConfig,
    AudioRoomConfig,
    AudioRoomEndReason,
    AudioRoomEvents,
    AudioRoomMenuButton,
    AudioRoomRole,
)
from app.kit.bots.call import Answer
from app.kit.call.invitations import Phase
from app.kit.events.hooks import DefaultConfirmation
from app.kit.types import LeaveConfirmationEvent
from app.kit.views.audio_room import SeatAction
from app.testing import RoomBotFactory, wait_until
from tests.ui.call_app import BotFactory
from tests.ui.room_app import RoomApp, modal_dialog
from widgets.confirm_dialog import ConfirmDialog
from widgets.join_room_dialog import JoinRoomDialog

ROOM = "room-1"


async def test_host_opens_a_room_from_home_and_agrees_to_a_request(
    room_app: RoomApp, room_bots: RoomBotFactory
) -> None:
    app = room_app
    app.click(app.app.window.home_page.room_button)
    dialog = await modal_dialog(JoinRoomDialog)
    assert isinstance(dialog, JoinRoomDialog)
    dialog.room_id_edit.setText(ROOM)
    dialog.host_radio.setChecked(True)
    dialog.join_button.click()

    page = await app.wait_for_room_page()
    await wait_until(lambda: app.seat_user(0) == "alice")
    assert app.role() is AudioRoomRole.HOST
    assert app.view.locked

    bob = await room_bots("bob")
    await bob.join(ROOM)
    assert await bob.apply()
    await wait_until(lambda: app.view.pending_requests == 1)
    page.toggle_member_list()
    row = page.member_list.rows["bob"]
    app.click(row.agree_button)
    await wait_until(lambda: bob.seats().get(1) == "bob")
    await wait_until(lambda: app.seat_user(1) == "bob")
    await wait_until(lambda: app.view.pending_requests == 0)
    assert app.fired("audio_room.seat.host.on_taking_requested")
    await app.settle(bob)


async def test_listener_takes_a_seat_is_removed_then_invited_and_kicked(
    room_app: RoomApp, room_bots: RoomBotFactory
) -> None:
    app = room_app
    host = await room_bots("host")
    await host.join(ROOM, replace(AudioRoomConfig.host(), close_seat_when_join=False))
    assert await app.join(ROOM, AudioRoomRole.AUDIENCE)
    page = await app.wait_for_room_page()
    assert app.role() is AudioRoomRole.AUDIENCE

    # An open room: click an empty seat, take it from the menu.
    app.click(page.seat_grid.seat(2))
    app.menus.choose(SeatAction.TAKE)
    await wait_until(lambda: app.seat_user(2) == "alice")
    await wait_until(lambda: host.seats().get(2) == "alice")
    assert app.role() is AudioRoomRole.SPEAKER

    # The host removes her; then invites her back and she accepts in the page.
    assert await host.controller.seat.host.remove_speaker("alice")
    await wait_until(lambda: app.seat_user(2) is None)
    assert await host.controller.seat.host.invite_to_take("alice")
    await wait_until(lambda: page.invitation.isVisible())
    app.click(page.invitation.accept_button)
    await wait_until(lambda: "alice" in host.seats().values())
    assert not page.invitation.isVisible()

    # Kicked: back home, with a word on why.
    assert await host.controller.user.kick("alice")
    await app.wait_home()
    assert app.end_reasons() == [AudioRoomEndReason.KICK_OUT]
    assert app.room_page is None
    assert "removed" in app.app.window.statusBar().currentMessage()
    await app.settle(host)


async def test_a_hook_vetoes_leaving_and_the_default_dialog_asks_the_host(
    room_app: RoomApp,
) -> None:
    app = room_app
    asked: list[LeaveConfirmationEvent] = []
    answers = [False]

    async def confirm(event: LeaveConfirmationEvent, default_action: DefaultConfirmation) -> bool:
        asked.append(event)
        return answers[-1]

    app.kit.bus.audio_room.events = AudioRoomEvents(on_leave_confirmation=confirm)
    assert await app.join(ROOM, AudioRoomRole.HOST)
    page = await app.wait_for_room_page()
    app.click(page.top_bar.leave_button)
    await wait_until(lambda: len(asked) == 1)
    await app.kit.bus.drain()
    assert app.current is page
    assert app.in_room

    # Without the hook, the kit's default: the host's leave dialog. Cancel, then confirm.
    app.kit.bus.audio_room.events = AudioRoomEvents()
    app.click(page.top_bar.leave_button)
    dialog = await modal_dialog(ConfirmDialog)
    assert isinstance(dialog, ConfirmDialog)
    assert dialog.message_label.text() == "Are you sure to leave the room?"
    dialog.cancel_button.click()
    await wait_until(lambda: dialog.isHidden())
    await app.kit.bus.drain()
    assert app.current is page
    assert app.in_room
    app.click(page.top_bar.leave_button)
    dialog = await modal_dialog(ConfirmDialog)
    assert isinstance(dialog, ConfirmDialog)
    dialog.confirm_button.click()
    await app.wait_home()
    assert app.end_reasons() == [AudioRoomEndReason.LOCAL_LEAVE]


async def test_minimized_listener_sees_the_overlay_without_a_mic_and_restores(
    room_app: RoomApp, room_bots: RoomBotFactory
) -> None:
    app = room_app
    host = await room_bots("host")
    await host.join(ROOM, host=True)
    assert await app.join(ROOM, AudioRoomRole.AUDIENCE)
    page = await app.wait_for_room_page()
    app.click(page.top_bar.minimize_button)
    overlay = app.overlay
    await wait_until(lambda: overlay.isVisible())
    await app.wait_home()
    assert overlay.view is not None
    assert overlay.view.title == ROOM
    assert not overlay.mic_button.isVisible()  # the audience has no microphone to turn on
    QTest.mouseClick(overlay, Qt.MouseButton.LeftButton)
    await wait_until(lambda: app.current is page)
    assert not overlay.isVisible()

    # The home page's room button brings back the room in progress, not a second one.
    app.click(page.top_bar.minimize_button)
    await app.wait_home()
    app.click(app.app.window.home_page.room_button)
    await wait_until(lambda: app.current is page)
    await app.settle(host)


async def test_messages_travel_both_ways_and_the_host_leaving_opens_the_seats(
    room_app: RoomApp, room_bots: RoomBotFactory
) -> None:
    app = room_app
    host = await room_bots("host", on_seat_invitation=Answer.IGNORE)
    await host.join(ROOM, host=True)
    assert await app.join(ROOM, AudioRoomRole.AUDIENCE)
    page = await app.wait_for_room_page()
    page.messages.input.setText("hello from the desktop")
    QTest.keyClick(page.messages.input, Qt.Key.Key_Return)
    await wait_until(
        lambda: any(m.text == "hello from the desktop" for m in host.controller.message.list())
    )
    await host.send("welcome")
    await wait_until(lambda: any(m.text == "welcome" for m in app.view.messages))
    assert app.view.locked  # the host's preset: listeners ask to speak
    assert await host.leave()
    await wait_until(lambda: app.seat_user(0) is None)
    assert app.current is page
    assert app.in_room
    # Nobody is left who could let a listener speak: the seats open, and the page says so.
    await wait_until(lambda: not app.view.locked)
    window = app.app.window
    await wait_until(lambda: "seats are open" in window.statusBar().currentMessage())
    assert window.statusBar().currentMessage() == (
        "The seats are open: anyone may take a free seat."
    )
    assert not page.toast.isVisible()  # news, not an error
    bar = page.bottom_bar
    assert bar.apply_button is not None
    assert not bar.apply_button.isVisible()  # nobody to ask: one takes a seat
    rooms = app.app.rooms
    assert rooms is not None
    rooms.seat_action(SeatAction.TAKE, 1, "")
    await wait_until(lambda: app.seat_user(1) == "alice")
    await app.settle(host)


async def test_an_invalid_room_id_is_refused_and_the_page_goes_away(
    room_app: RoomApp, room_bots: RoomBotFactory
) -> None:
    app = room_app
    bad = await app.join("no spaces allowed", AudioRoomRole.AUDIENCE)
    assert bad is False
    await app.wait_home()
    assert app.room_page is None
    assert app.fired("audio_room.on_error")
    assert app.app.window.statusBar().currentMessage()


async def test_a_room_joined_without_speaker_is_muted_until_the_bar_turns_it_on(
    room_app: RoomApp, room_bots: RoomBotFactory
) -> None:
    app = room_app
    host = await room_bots("host")
    await host.join(ROOM, host=True)
    bar = AudioRoomBottomBarConfig(
        audience_buttons=(AudioRoomMenuButton.SWITCH_AUDIO_OUTPUT, AudioRoomMenuButton.LEAVE)
    )
    config = replace(
        AudioRoomConfig.audience(), use_speaker_when_joining=False, bottom_menu_bar=bar
    )
    assert await app.join(ROOM, AudioRoomRole.AUDIENCE, config)
    page = await app.wait_for_room_page()
    session = app.kit.session
    assert session is not None
    assert session.media.playback.muted
    button = page.bottom_bar.buttons[AudioRoomMenuButton.SWITCH_AUDIO_OUTPUT]
    assert not button.isChecked()
    app.click(button)
    await wait_until(lambda: not session.media.playback.muted)
    await wait_until(lambda: app.view.speaker_on)
    assert button.isChecked()
    await app.settle(host)


async def test_leaving_a_seat_and_removing_a_speaker_are_confirmed_first(
    room_app: RoomApp, room_bots: RoomBotFactory
) -> None:
    app = room_app
    assert await app.join(ROOM, AudioRoomRole.HOST)
    page = await app.wait_for_room_page()
    bob = await room_bots("bob", on_seat_invitation=Answer.ANSWER)
    await bob.join(ROOM)
    await wait_until(lambda: any(u.id == "bob" for u in app.kit.controller.user.members()))
    assert await app.kit.controller.seat.host.invite_to_take("bob")
    await wait_until(lambda: app.seat_user(1) == "bob")

    # Remove from the seat menu: cancelled keeps bob seated, confirmed removes him.
    for confirm in (False, True):
        app.click(page.seat_grid.seat(1))
        app.menus.choose(SeatAction.REMOVE)
        dialog = await modal_dialog(ConfirmDialog)
        assert isinstance(dialog, ConfirmDialog)
        assert "Bob" in dialog.message_label.text()
        (dialog.confirm_button if confirm else dialog.cancel_button).click()
        await wait_until(dialog.isHidden)
        await wait_until(lambda: app.app.tasks.pending == 0)  # the removal was sent, or not
        if confirm:
            await wait_until(lambda: bob.seats().get(1) is None)
        else:
            assert bob.seats().get(1) == "bob"
    await wait_until(lambda: app.seat_user(1) is None)

    # Leaving one's own seat (the host keeps hers): as a listener who took a seat.
    await app.settle(bob)
    host = await room_bots("host")
    await host.join("room-2", replace(AudioRoomConfig.host(), close_seat_when_join=False))
    assert await app.join("room-2", AudioRoomRole.AUDIENCE)
    page = await app.wait_for_room_page()
    app.click(page.seat_grid.seat(3))
    app.menus.choose(SeatAction.TAKE)
    await wait_until(lambda: app.seat_user(3) == "alice")
    await wait_until(lambda: page.bottom_bar.leave_seat_button is not None)
    app.click(page.bottom_bar.leave_seat_button)
    dialog = await modal_dialog(ConfirmDialog)
    assert isinstance(dialog, ConfirmDialog)
    dialog.cancel_button.click()
    await wait_until(dialog.isHidden)
    await wait_until(lambda: app.app.tasks.pending == 0)
    assert app.seat_user(3) == "alice"
    app.click(page.bottom_bar.leave_seat_button)
    dialog = await modal_dialog(ConfirmDialog)
    assert isinstance(dialog, ConfirmDialog)
    dialog.confirm_button.click()
    await wait_until(lambda: host.seats().get(3) is None)
    await app.settle(host)


async def test_accepting_a_call_leaves_the_room_first(room_app: RoomApp, bots: BotFactory) -> None:
    # One call or room at a time: in both, the person heard the two at once.
    app = room_app
    assert await app.join(ROOM, AudioRoomRole.HOST)
    await app.wait_for_room_page()
    bob = await bots("bob", Answer.IGNORE)
    await bob.call(["alice"], video=False)
    calls = app.app.calls
    assert calls is not None
    await wait_until(lambda: calls.phase is Phase.INCOMING)
    assert app.in_room  # ringing changes nothing yet

    calls.accept()  # the banner's Accept
    await wait_until(lambda: calls.phase is Phase.IN_CALL)
    await wait_until(lambda: not app.in_room)
    assert AudioRoomEndReason.LOCAL_LEAVE in app.end_reasons()
    assert "left the audio room" in app.app.window.statusBar().currentMessage()
    await bob.expect("call.user.on_enter")
    assert await bob.hang_up()


async def test_calling_from_a_room_asks_to_leave_it(room_app: RoomApp, bots: BotFactory) -> None:
    app = room_app
    assert await app.join(ROOM, AudioRoomRole.HOST)
    await app.wait_for_room_page()
    bob = await bots("bob", Answer.IGNORE)
    # Online, so the app knows his name (it says his ID for someone it does not know).
    await wait_until(lambda: any(u.user_id == "bob" for u in app.app.bridge.users))
    rooms = app.app.rooms
    assert rooms is not None
    rooms.minimize()  # the room goes on in its overlay; the home page is back
    await app.wait_home()
    app.app.window.home_page.callee_edit.setText("bob")

    app.click(app.app.window.home_page.voice_button)
    dialog = await modal_dialog(ConfirmDialog)
    assert isinstance(dialog, ConfirmDialog)
    assert dialog.message_label.text() == "You are in an audio room. Leave it to call Bob?"
    dialog.reject()  # "Stay in the room"
    await wait_until(lambda: QApplication.activeModalWidget() is None)
    assert app.in_room

    app.click(app.app.window.home_page.voice_button)
    dialog = await modal_dialog(ConfirmDialog)
    assert isinstance(dialog, ConfirmDialog)
    dialog.accept()  # "Leave and call"
    await bob.expect("invitation.on_incoming_call_received")
    await wait_until(lambda: not app.in_room)
    await bob.decline()


async def test_the_host_removes_a_listener_from_the_room(
    room_app: RoomApp, room_bots: RoomBotFactory
) -> None:
    app = room_app
    assert await app.join(ROOM, AudioRoomRole.HOST)
    page = await app.wait_for_room_page()
    bob = await room_bots("bob")
    await bob.join(ROOM)
    page.toggle_member_list()
    await wait_until(lambda: "bob" in page.member_list.rows)
    row = page.member_list.rows["bob"]
    assert row.more_button is not None
    app.click(row.more_button)
    menu = app.menus.menus[-1]
    (kick,) = [a for a in menu.actions() if a.data() == "kick"]
    assert kick.text() == "Remove from the room"
    kick.trigger()
    dialog = await modal_dialog(ConfirmDialog)
    assert isinstance(dialog, ConfirmDialog)
    assert dialog.message_label.text() == "Remove Bob from the room?"
    dialog.accept()
    await bob.expect("audio_room.on_ended")
    await wait_until(lambda: "bob" not in page.member_list.rows)
    await app.settle(bob)
