"""Call flows in the wired app: Alice's window against the real server, bots on the other side.

Each test drives what a person does (type IDs, press buttons) and checks what they see:
the page shown, the tiles, the banner and overlay, and the events on Alice's bus.
"""

from __future__ import annotations

from PySide6.QtCore import QPoint, QRect

from app import CallMenuButton
from app.kit.bots.call import Answer
from app.kit.types import CallEndEvent, CallEndReason
from app.kit.views.call import OutgoingState
from app.testing import wait_until
from media.peer_types import PeerState
from tests.ui.call_app import BotFactory, CallApp, short_timeouts


def end_event(app: CallApp) -> CallEndEvent:
    (args,) = app.fired("call.on_call_end")
    event = args[0]
    assert isinstance(event, CallEndEvent)
    return event


async def test_outgoing_call_accepted_shows_both_with_video_then_hang_up_goes_home(
    alice: CallApp, bots: BotFactory
) -> None:
    bob = await bots("bob", Answer.ANSWER)
    alice.call("bob")
    page = await alice.wait_for_call_page()

    assert alice.fired("invitation.on_outgoing_call_accepted")
    await wait_until(lambda: alice.tile_names() == ["Alice", "Bob"], 10)
    view = page.view
    assert view is not None
    assert view.is_video
    assert view.microphone_on
    assert view.camera_on
    # Real synthetic frames from Bob arrive and are painted in his tile; the self-view too.
    await wait_until(lambda: page.tiles["bob"].video.has_frame, 10, "no frame from Bob")
    await wait_until(lambda: page.tiles["alice"].video.has_frame, 10, "no self-view")
    await wait_until(lambda: view is not None and page.view is not view)  # it keeps rendering
    await wait_until(lambda: bob.session is not None and "alice" in bob.session.members)
    await wait_until(lambda: bob.session.members["alice"].video is not None)  # type: ignore[union-attr]

    alice.click_bar(CallMenuButton.HANG_UP)
    await alice.wait_home()
    assert end_event(alice).reason is CallEndReason.LOCAL_HANG_UP
    assert alice.call_page is None
    await wait_until(lambda: alice.presenter.video_tasks == 0)
    event = await bob.expect("call.on_call_end")
    assert event.args[0].reason is CallEndReason.REMOTE_HANG_UP  # type: ignore[attr-defined]
    await alice.settle(bob)


async def test_outgoing_call_shows_the_ringing_page_then_declined(
    alice: CallApp, bots: BotFactory
) -> None:
    bob = await bots("bob")
    # As a person would: Bob shows in the online list (with his name) before the call.
    await wait_until(lambda: any(u.user_id == "bob" for u in alice.app.bridge.users))
    alice.call("bob", video=False)
    await alice.wait_for_page(alice.outgoing_page)
    view = alice.outgoing_page.view
    assert view is not None
    assert [(u.id, u.name) for u in view.callees] == [("bob", "Bob")]
    assert not view.is_video
    assert view.state is OutgoingState.CALLING
    await bob.expect("invitation.on_incoming_call_received")

    await bob.decline()
    await wait_until(lambda: bool(alice.fired("invitation.on_outgoing_call_declined")))
    await wait_until(
        lambda: (
            alice.outgoing_page.view is not None
            and alice.outgoing_page.view.state is OutgoingState.DECLINED
        )
    )
    await alice.wait_home()
    assert alice.call_page is None
    await alice.settle(bob)


async def test_outgoing_call_to_a_busy_user_says_busy(alice: CallApp, bots: BotFactory) -> None:
    bob = await bots("bob")
    carol = await bots("carol", Answer.ANSWER)
    await bob.call(["carol"])
    await wait_until(
        lambda: (
            bob.session is not None
            and "carol" in bob.session.members
            and bob.session.members["carol"].connection is PeerState.CONNECTED
        ),
        10,
    )

    alice.call("bob")
    await wait_until(lambda: bool(alice.fired("invitation.on_outgoing_call_rejected_cause_busy")))
    await wait_until(
        lambda: (
            alice.outgoing_page.view is not None
            and alice.outgoing_page.view.state is OutgoingState.BUSY
        )
    )
    await alice.wait_home()
    assert not bob.saw("invitation.on_incoming_call_received")  # no UI for the busy side
    await bob.hang_up()
    await carol.expect("call.on_call_end")
    await alice.settle(bob, carol)


async def test_outgoing_call_nobody_answers_times_out(alice: CallApp, bots: BotFactory) -> None:
    bob = await bots("bob")  # ignores the call
    alice.call("bob")
    await alice.wait_for_page(alice.outgoing_page)
    await wait_until(lambda: bool(alice.fired("invitation.on_outgoing_call_timeout")), 6)
    assert alice.outgoing_page.view is not None
    assert alice.outgoing_page.view.state is OutgoingState.NO_ANSWER
    await alice.wait_home()
    await bob.expect("invitation.on_incoming_call_timeout")
    await alice.settle(bob)


async def test_outgoing_call_cancelled_with_the_cancel_button(
    alice: CallApp, bots: BotFactory
) -> None:
    bob = await bots("bob")
    alice.call("bob")
    await alice.wait_for_page(alice.outgoing_page)
    await bob.expect("invitation.on_incoming_call_received")

    alice.outgoing_page.cancel_button.click()
    await alice.wait_home(1.0)  # at once, no outcome to linger on
    assert alice.fired("invitation.on_outgoing_call_cancel_button_pressed") == [()]
    await bob.expect("invitation.on_incoming_call_canceled")
    assert bob.session is None
    await alice.settle(bob)


async def test_incoming_call_banner_opens_the_page_and_accept_joins(
    alice: CallApp, bots: BotFactory
) -> None:
    bob = await bots("bob")
    await bob.call(["alice"])
    banner = alice.banner
    await wait_until(banner.isVisible, 10, "no banner")
    assert alice.current is alice.home  # the banner floats over the page
    # … in a band of its own: the page moves down, nothing of it is covered.
    window = alice.app.window
    greeting = window.home_page.title_label
    greeting_box = QRect(greeting.mapTo(window, QPoint(0, 0)), greeting.size())
    assert not banner.geometry().intersects(greeting_box)
    assert greeting_box.top() > banner.geometry().bottom()
    assert banner.name_label.text() == "Bob"
    assert "video" in banner.kind_label.text().lower()
    assert alice.fired("invitation.on_incoming_call_received")

    banner.open_requested.emit()  # a click on the banner
    await alice.wait_for_page(alice.incoming_page)
    assert not banner.isVisible()
    assert window.stack.contentsMargins().top() == 0  # the band goes with the banner
    alice.incoming_page.accept_button.click()
    page = await alice.wait_for_call_page()
    assert alice.fired("invitation.on_incoming_call_accept_button_pressed") == [()]
    await wait_until(lambda: alice.tile_names() == ["Alice", "Bob"], 10)
    await wait_until(lambda: page.tiles["bob"].video.has_frame, 10)
    await wait_until(lambda: bob.session is not None and "alice" in bob.session.members)
    await wait_until(lambda: bob.session.members["alice"].video is not None)  # type: ignore[union-attr]

    await bob.hang_up()  # the other side leaves: the default on_call_end goes home
    await alice.wait_home()
    assert end_event(alice).reason is CallEndReason.REMOTE_HANG_UP
    assert not end_event(alice).is_from_minimizing
    await alice.settle(bob)


async def test_incoming_call_declined_from_the_banner(alice: CallApp, bots: BotFactory) -> None:
    bob = await bots("bob")
    await bob.call(["alice"], video=False)
    banner = alice.banner
    await wait_until(banner.isVisible, 10)
    assert "voice" in banner.kind_label.text().lower()

    banner.decline_button.click()
    await wait_until(lambda: not banner.isVisible())
    assert alice.fired("invitation.on_incoming_call_decline_button_pressed") == [()]
    await bob.expect("invitation.on_outgoing_call_declined")
    assert alice.current is alice.home
    await alice.settle(bob)


async def test_incoming_call_cancelled_by_the_caller_closes_the_page(
    alice: CallApp, bots: BotFactory
) -> None:
    bob = await bots("bob")
    await bob.call(["alice"])
    await wait_until(alice.banner.isVisible, 10)
    alice.banner.open_requested.emit()
    await alice.wait_for_page(alice.incoming_page)

    await bob.cancel()
    await alice.wait_home()
    assert not alice.banner.isVisible()
    assert alice.fired("invitation.on_incoming_call_canceled")
    await alice.settle(bob)


async def test_incoming_call_not_answered_times_out(alice: CallApp, bots: BotFactory) -> None:
    bob = await bots("bob")
    short_timeouts(bob, 1)
    await bob.call(["alice"])
    await wait_until(alice.banner.isVisible, 10)
    await wait_until(lambda: not alice.banner.isVisible(), 6, "banner still up")
    assert alice.fired("invitation.on_incoming_call_timeout")
    assert alice.current is alice.home
    await bob.expect("invitation.on_outgoing_call_timeout")
    await alice.settle(bob)
