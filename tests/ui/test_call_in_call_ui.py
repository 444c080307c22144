"""In a call, in the wired app: groups, hang-up hooks, call-end navigation, the overlay,
being removed or signed in elsewhere, the camera, and the other side's device trouble."""

from __future__ import annotations

import asyncio

import pytest
from PySide6.QtCore import Qt
from PySide6.QtTest import QTest
from PySide6.QtWidgets import QApplication

from app import CallEvents, CallMenuButton
from app.kit.bots.call import Answer, Bot
from app.kit.events import DefaultAction
from app.kit.types import CallEndEvent, CallEndReason, HangUpConfirmationEvent
from app.kit.views.call import TileConnection
from app.testing import wait_until
from media.errors import DeviceExceptionType
from media.peer_types import PeerState
from tests.support.signaling import ClientFactory
from tests.support.x_server import x_display
from tests.ui.call_app import BotFactory, CallApp
from tests.ui.room_app import modal_dialog
from widgets.call_page import CallPage
from widgets.confirm_dialog import ConfirmDialog


async def call_bob(alice: CallApp, bots: BotFactory) -> tuple[Bot, CallPage]:
    """Alice calls Bob, who answers; returns once both tiles are up."""
    bob = await bots("bob", Answer.ANSWER)
    alice.call("bob")
    page = await alice.wait_for_call_page()
    await wait_until(lambda: alice.tile_names() == ["Alice", "Bob"], 10)
    await connected(alice, bob)
    return bob, page


async def connected(alice: CallApp, bob: Bot) -> None:
    """Until media flows both ways (ending a call during ICE checks leaves aioice tasks)."""
    user_id = bob.user.id

    def linked() -> bool:
        view = alice.page.view
        tile = view.tile(user_id) if view else None
        session = bob.session
        member = session.members.get("alice") if session else None
        return (
            tile is not None
            and tile.connection is TileConnection.CONNECTED
            and member is not None
            and member.connection is PeerState.CONNECTED
        )

    await wait_until(linked, 10, f"no media link with {user_id}")


async def hang_up(alice: CallApp, *others: Bot) -> None:
    """Alice hangs up with the bar's button; every side settles (tests end with no call)."""
    alice.click_bar(CallMenuButton.HANG_UP)
    await alice.wait_home()
    await alice.settle(*others)


def end_events(app: CallApp) -> list[CallEndEvent]:
    return [args[0] for args in app.fired("call.on_call_end")]  # type: ignore[misc]


async def test_group_call_with_one_accept_and_one_decline(alice: CallApp, bots: BotFactory) -> None:
    bob = await bots("bob", Answer.ANSWER)
    carol = await bots("carol")
    alice.call("bob, carol", video=False)
    page = await alice.wait_for_call_page()  # a group caller is in the call at once
    view = page.view
    assert view is not None
    assert not view.is_video

    await wait_until(lambda: alice.tile_names() == ["Alice", "Bob", "Carol"], 10)
    await connected(alice, bob)
    waiting = page.view.tile("carol") if page.view else None
    assert waiting is not None
    assert waiting.waiting
    assert page.tiles["carol"].cancel_button.isVisibleTo(page)

    await carol.expect("invitation.on_incoming_call_received")
    await carol.decline()
    await wait_until(lambda: alice.tile_names() == ["Alice", "Bob"], 10, "carol still waiting")
    assert alice.fired("invitation.on_outgoing_call_declined")
    assert alice.current is page

    await bob.hang_up()
    await alice.wait_home()
    assert [e.reason for e in end_events(alice)] == [CallEndReason.REMOTE_HANG_UP]
    await alice.settle(bob, carol)


async def test_a_hang_up_hook_can_veto_then_approve(alice: CallApp, bots: BotFactory) -> None:
    bob, page = await call_bob(alice, bots)
    asked: list[HangUpConfirmationEvent] = []
    veto = True

    async def confirm(event: HangUpConfirmationEvent, default: object) -> bool:
        asked.append(event)
        return not veto

    alice.kit.bus.call.events = CallEvents(on_hang_up_confirmation=confirm)
    alice.click_bar(CallMenuButton.HANG_UP)
    await wait_until(lambda: len(asked) == 1)
    await alice.kit.bus.drain()
    assert alice.current is page  # vetoed: still in the call
    assert alice.kit.session is not None
    assert not alice.kit.session.ended.is_set()

    veto = False
    alice.click_bar(CallMenuButton.HANG_UP)
    await alice.wait_home()
    assert len(asked) == 2
    assert asked[1].call_id == asked[0].call_id
    assert [e.reason for e in end_events(alice)] == [CallEndReason.LOCAL_HANG_UP]
    await alice.settle(bob)


async def test_on_call_end_override_does_its_own_navigation(
    alice: CallApp, bots: BotFactory
) -> None:
    bob, page = await call_bob(alice, bots)
    seen: list[CallEndEvent] = []

    def on_call_end(event: CallEndEvent, default_action: DefaultAction) -> None:
        seen.append(event)
        alice.app.window.stack.setCurrentWidget(alice.outgoing_page)  # its own page

    alice.kit.bus.call.events = CallEvents(on_call_end=on_call_end)
    await bob.hang_up()
    await wait_until(lambda: len(seen) == 1, 10)
    assert seen[0].reason is CallEndReason.REMOTE_HANG_UP
    await alice.kit.bus.drain()
    assert alice.current is alice.outgoing_page  # the default did not go home

    # An override that ends with the default action gets the default navigation.
    bob2 = await bots("dave", Answer.ANSWER)

    def then_default(event: CallEndEvent, default_action: DefaultAction) -> None:
        seen.append(event)
        default_action()

    alice.kit.bus.call.events = CallEvents(on_call_end=then_default)
    alice.app.window.stack.setCurrentWidget(alice.home)
    alice.call("dave")
    await alice.wait_for_call_page()
    assert alice.call_page is not page  # a fresh page for the new call
    await connected(alice, bob2)
    alice.click_bar(CallMenuButton.HANG_UP)
    await alice.wait_home()
    assert [e.reason for e in seen] == [CallEndReason.REMOTE_HANG_UP, CallEndReason.LOCAL_HANG_UP]
    await alice.settle(bob, bob2)


async def test_minimized_call_ended_by_the_remote_side_hides_the_overlay(
    alice: CallApp, bots: BotFactory
) -> None:
    bob, _page = await call_bob(alice, bots)
    overlay = alice.overlay
    alice.click_bar(CallMenuButton.MINIMIZE)
    await wait_until(overlay.isVisible)
    assert alice.current is alice.home
    assert overlay.view is not None
    assert overlay.view.minimized
    await wait_until(lambda: overlay.name_label.text() == "Bob")
    await wait_until(lambda: overlay.video.has_frame, 10, "no video in the overlay")

    overlay.restore_requested.emit()  # a click on the overlay
    await alice.wait_for_call_page()
    assert not overlay.isVisible()

    alice.click_bar(CallMenuButton.MINIMIZE)
    await wait_until(overlay.isVisible)
    await bob.hang_up()
    await wait_until(lambda: not overlay.isVisible(), 10, "overlay still up")
    (event,) = end_events(alice)
    assert event.reason is CallEndReason.REMOTE_HANG_UP
    assert event.is_from_minimizing
    assert alice.current is alice.home
    assert alice.call_page is None
    await alice.settle(bob)


async def test_removed_from_the_call_by_the_other_side(alice: CallApp, bots: BotFactory) -> None:
    bob, _ = await call_bob(alice, bots)
    await bob.kit.controller.user.remove(["alice"])
    await alice.wait_home()
    (event,) = end_events(alice)
    assert event.reason is CallEndReason.KICK_OUT
    assert event.kicker_user_id == "bob"
    await alice.settle(bob)


async def test_signing_in_elsewhere_ends_the_call(
    alice: CallApp, bots: BotFactory, make_client: ClientFactory
) -> None:
    bob, _ = await call_bob(alice, bots)
    await make_client("alice", "Alice")  # the same user, another device
    window = alice.app.window
    # Signed out here: the sign-in page says why, instead of a home page that looks
    # signed in and fails at every button.
    await wait_until(lambda: window.stack.currentWidget() is window.signin_page)
    page = window.signin_page
    assert page.error_label.isVisible()
    assert "signed in as alice somewhere else" in page.error_label.text()
    assert page.sign_in_button.isEnabled()
    (event,) = end_events(alice)
    assert event.reason is CallEndReason.KICK_OUT
    await wait_until(lambda: "somewhere else" in window.connection_label.text())
    await wait_until(lambda: alice.kit.invitations is None, 5, "call service still running")
    await bob.expect("call.user.on_leave")
    await bob.expect("call.on_call_end")  # alone now: the call ends for Bob too
    await bob.bus.drain()
    await alice.kit.bus.drain()


async def test_camera_off_shows_the_avatar_and_the_other_side_sees_it(
    alice: CallApp, bots: BotFactory
) -> None:
    bob, page = await call_bob(alice, bots)
    tile = page.tiles["alice"]
    await wait_until(lambda: tile.video.has_frame, 10)

    alice.click_bar(CallMenuButton.TOGGLE_CAMERA)
    await wait_until(lambda: tile.view is not None and not tile.view.camera_on)
    assert not tile.video.has_frame  # the avatar, not a frozen frame
    assert bob.session is not None
    await wait_until(lambda: bob.session is not None and not bob.session.members["alice"].camera)
    await wait_until(
        lambda: alice.fired("call.audio_video.on_camera_state_changed")[-1] == (False,)
    )

    alice.click_bar(CallMenuButton.TOGGLE_CAMERA)
    await wait_until(lambda: tile.view is not None and tile.view.camera_on)
    await wait_until(lambda: bob.session is not None and bob.session.members["alice"].camera)
    await wait_until(lambda: tile.video.has_frame, 10, "video did not come back")
    await hang_up(alice, bob)


async def test_a_device_failure_is_told_to_its_owner_not_to_the_others(
    alice: CallApp, bots: BotFactory
) -> None:
    bob, page = await call_bob(alice, bots)
    assert bob.session is not None
    # What bob's media reports when his camera is unplugged mid-call: Alice's page
    # shows no red toast in the device layer's words (his tile loses the picture).
    bob.session.media.report_device_failure("camera", DeviceExceptionType.DEVICE_UNPLUGGED)
    await wait_until(
        lambda: bool(alice.fired("call.audio_video.on_remote_camera_exception_occurred"))
    )
    await asyncio.sleep(0.3)
    assert not page.toast.isVisible()

    # Alice's own camera: she is told, in plain words.
    session = alice.kit.session
    assert session is not None
    session.media.report_device_failure("camera", DeviceExceptionType.DEVICE_UNPLUGGED)
    await wait_until(page.toast.isVisible, 10, "no toast")
    assert page.toast.text == "Your camera was unplugged."
    session.media.report_device_failure("microphone", DeviceExceptionType.DEVICE_OCCUPIED)
    await wait_until(lambda: page.toast.text == "Another program is using your microphone.")
    await hang_up(alice, bob)


async def test_in_call_chat_both_ways_with_unread_badge(alice: CallApp, bots: BotFactory) -> None:
    bob, page = await call_bob(alice, bots)
    bob_session = bob.session
    assert bob_session is not None
    # The bars have hidden themselves (nobody moved the mouse) ...
    page.bottom_bar.hide()
    page.top_bar.hide()
    # ... Bob writes while Alice's chat is closed: the chat button counts it as unread,
    # and the bars come back so that she sees it.
    await bob_session.chat.send("hello from bob")
    await wait_until(lambda: page.view is not None and page.view.unread_messages == 1, 10)
    await wait_until(page.bottom_bar.isVisible)
    assert [m.text for m in page.chat_panel.messages] == ["hello from bob"]
    # Alice opens the chat (read) and answers by typing into it.
    page.toggle_panel(page.chat_panel)
    await wait_until(lambda: page.view is not None and page.view.unread_messages == 0, 10)
    page.chat_panel.input.setText("hi bob")
    page.chat_panel.input.returnPressed.emit()
    await wait_until(lambda: [m.text for m in bob_session.chat.messages][-1:] == ["hi bob"], 10)
    sent = page.chat_panel.messages[-1]
    assert (sent.text, sent.is_local, sent.failed) == ("hi bob", True, False)
    await hang_up(alice, bob)


async def test_the_waiting_tiles_cancel_button_stops_ringing_that_invitee(
    alice: CallApp, bots: BotFactory
) -> None:
    bob = await bots("bob", Answer.ANSWER)
    carol = await bots("carol")  # lets it ring
    alice.call("bob, carol")
    page = await alice.wait_for_call_page()
    await wait_until(
        lambda: "carol" in page.tiles and page.tiles["carol"].cancel_button.isVisible()
    )
    await carol.expect("invitation.on_incoming_call_received")

    QTest.mouseClick(page.tiles["carol"].cancel_button, Qt.MouseButton.LeftButton)

    await carol.expect("invitation.on_incoming_call_canceled")
    await wait_until(lambda: "carol" not in page.tiles, 10, "carol's tile stayed")
    assert alice.kit.session is not None  # bob is still in the call
    alice.click_bar(CallMenuButton.HANG_UP)
    await alice.wait_home()
    await alice.settle(bob, carol)


async def test_a_call_button_during_a_minimized_call_asks_before_adding_someone(
    alice: CallApp, bots: BotFactory
) -> None:
    bob, _page = await call_bob(alice, bots)
    carol = await bots("carol", Answer.IGNORE)
    # Online, so the app knows her name (it says her ID for someone it does not know).
    await wait_until(lambda: any(u.user_id == "carol" for u in alice.app.bridge.users))
    alice.click_bar(CallMenuButton.MINIMIZE)
    await wait_until(alice.overlay.isVisible)
    assert alice.current is alice.home

    alice.call("carol")  # the home page's Video call, as before the call
    dialog = await modal_dialog(ConfirmDialog)
    assert isinstance(dialog, ConfirmDialog)
    assert dialog.message_label.text() == ("You are in a call with Bob. Invite Carol into it?")
    dialog.reject()
    await wait_until(lambda: QApplication.activeModalWidget() is None)
    await asyncio.sleep(0.3)
    assert not carol.saw("invitation.on_incoming_call_received")

    alice.call("carol")
    dialog = await modal_dialog(ConfirmDialog)
    assert isinstance(dialog, ConfirmDialog)
    dialog.accept()  # "Add to call"
    await carol.expect("invitation.on_incoming_call_received")
    await carol.decline()
    await alice.settle(bob)


async def test_a_one_to_one_call_that_becomes_a_group_lists_its_members(
    alice: CallApp, bots: BotFactory
) -> None:
    bob, page = await call_bob(alice, bots)
    button = page.members_button
    assert button is not None  # the one-to-one bars have no Members button
    assert not button.isVisible()
    carol = await bots("carol", Answer.ANSWER)
    await alice.kit.send(["carol"], False)  # into the call in progress
    await wait_until(lambda: len(page.tiles) == 3 and page.view is not None, 10)
    await wait_until(button.isVisible)
    QTest.mouseClick(button, Qt.MouseButton.LeftButton)
    await wait_until(page.member_list.isVisible)
    assert sorted(page.member_list.rows) == ["alice", "bob", "carol"]
    await carol.expect("call.user.on_enter")  # in the call, not only invited
    assert await carol.hang_up()
    await hang_up(alice, bob, carol)


async def test_sharing_the_screen_from_the_more_menu(
    alice: CallApp, bots: BotFactory, monkeypatch: pytest.MonkeyPatch
) -> None:
    bob, page = await call_bob(alice, bots)
    assert CallMenuButton.SHARE_SCREEN in page.bottom_bar.overflow_actions
    # No X11 screen (a Wayland session): the person is told why, nothing changes.
    monkeypatch.delenv("DISPLAY", raising=False)
    monkeypatch.setenv("WAYLAND_DISPLAY", "wayland-0")
    alice.click_bar(CallMenuButton.SHARE_SCREEN)
    await wait_until(page.toast.isVisible, 10, "no toast")
    assert page.toast.text.startswith("Screen sharing needs an X11 session")
    await wait_until(lambda: not page.bottom_bar.overflow_actions[_SHARE].isChecked())
    assert page.view is not None
    assert not page.view.sharing_screen
    # On an X11 screen: shared; Alice's tile says so, Bob sees it fitted, not cropped.
    with x_display(1280, 800) as display:
        monkeypatch.setenv("DISPLAY", display)
        alice.click_bar(CallMenuButton.SHARE_SCREEN)
        await wait_until(lambda: page.view is not None and page.view.sharing_screen, 10)
        assert page.bottom_bar.overflow_actions[_SHARE].isChecked()
        tile = page.tiles["alice"]
        await wait_until(lambda: tile.status_label.text() == "Sharing your screen")
        session = bob.session
        assert session is not None
        await wait_until(lambda: session.members["alice"].attributes.get("screen") == "1")
        alice.click_bar(CallMenuButton.SHARE_SCREEN)
        await wait_until(lambda: page.view is not None and not page.view.sharing_screen, 10)
        await wait_until(lambda: "screen" not in session.members["alice"].attributes)
        assert tile.status_label.text() == ""
    await hang_up(alice, bob)


_SHARE = CallMenuButton.SHARE_SCREEN
