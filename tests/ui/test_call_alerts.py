"""A call ringing while the window is away: a desktop notification with Accept and
Decline (through a strict fake notification daemon on a private session bus), answered
from the notification; none while the window is in front; nothing breaks without a
notification service."""

from __future__ import annotations

import tempfile
from collections.abc import Iterator
from pathlib import Path

import pytest
from pytestqt.qtbot import QtBot

from app.kit.call.invitations import Phase
from app.kit.notifications import DesktopCallNotifier
from app.testing import BotFactory, WindowFactory, wait_until
from tests.support.session_bus import FakeNotificationDaemon, session_bus

pytestmark = pytest.mark.timeout(60)


@pytest.fixture
def daemon(monkeypatch: pytest.MonkeyPatch) -> Iterator[FakeNotificationDaemon]:
    # A short folder: a unix socket path has at most 107 characters.
    with (
        tempfile.TemporaryDirectory(prefix="pbus") as folder,
        session_bus(Path(folder)) as address,
    ):
        monkeypatch.setenv("DBUS_SESSION_BUS_ADDRESS", address)
        fake = FakeNotificationDaemon(address)
        try:
            yield fake
        finally:
            fake.stop()


async def test_a_call_while_away_is_notified_and_answered_from_the_notification(
    qtbot: QtBot,
    daemon: FakeNotificationDaemon,  # first: it outlives the windows
    parley_window: WindowFactory,
    parley_bot: BotFactory,
) -> None:
    alice = await parley_window("alice", notifier=DesktopCallNotifier())
    window = alice.app.window
    window.showMinimized()
    bob = await parley_bot("bob", "Bob Builder")

    await bob.call(["alice"], video=True)
    shown = await daemon.next_event()
    assert shown["event"] == "notify"
    assert shown["summary"] == "Bob Builder is calling you"
    assert shown["body"] == "Incoming video call"
    assert shown["actions"]["accept"] == "Accept"
    assert shown["actions"]["decline"] == "Decline"
    assert shown["urgency"] == 2  # critical: shown over do-not-disturb and full screens
    assert shown["app_name"] == "Parley"

    daemon.press(shown["id"], "accept")
    calls = alice.app.calls
    assert calls is not None
    await wait_until(lambda: calls.phase is Phase.IN_CALL)
    await bob.expect("call.user.on_enter")
    assert not window.isMinimized()  # brought to the front on the call

    # The next call, away again, is notified too.
    await bob.hang_up()
    await wait_until(lambda: calls.phase is Phase.IDLE)
    window.showMinimized()
    await bob.call(["alice"], video=False)
    again = await daemon.next_event()
    assert again["event"] == "notify"
    assert again["id"] != shown["id"]


async def test_declining_from_the_notification_declines_the_call(
    qtbot: QtBot,
    daemon: FakeNotificationDaemon,  # first: it outlives the windows
    parley_window: WindowFactory,
    parley_bot: BotFactory,
) -> None:
    alice = await parley_window("alice", notifier=DesktopCallNotifier())
    alice.app.window.showMinimized()
    bob = await parley_bot("bob")

    await bob.call(["alice"], video=False)
    shown = await daemon.next_event()
    assert shown["body"] == "Incoming voice call"
    daemon.press(shown["id"], "decline")
    await bob.expect("invitation.on_outgoing_call_declined")
    calls = alice.app.calls
    assert calls is not None
    await wait_until(lambda: calls.phase is Phase.IDLE)


async def test_a_call_that_stops_ringing_takes_its_notification_away(
    qtbot: QtBot,
    daemon: FakeNotificationDaemon,  # first: it outlives the windows
    parley_window: WindowFactory,
    parley_bot: BotFactory,
) -> None:
    alice = await parley_window("alice", notifier=DesktopCallNotifier())
    alice.app.window.showMinimized()
    bob = await parley_bot("bob")

    await bob.call(["alice"], video=False)
    shown = await daemon.next_event()
    await bob.cancel()
    closed = await daemon.next_event()
    assert closed == {"event": "closed", "id": shown["id"], "by": "app"}


async def test_no_notification_while_the_window_is_in_front(
    qtbot: QtBot,
    daemon: FakeNotificationDaemon,  # first: it outlives the windows
    parley_window: WindowFactory,
    parley_bot: BotFactory,
) -> None:
    alice = await parley_window("alice", notifier=DesktopCallNotifier())
    assert alice.app.call_alerts is not None
    alice.app.call_alerts.is_away = lambda: False  # the person is looking at it
    bob = await parley_bot("bob")

    await bob.call(["alice"], video=False)
    calls = alice.app.calls
    assert calls is not None
    await wait_until(lambda: calls.phase is Phase.INCOMING)
    await bob.cancel()
    await wait_until(lambda: calls.phase is Phase.IDLE)
    assert daemon.events.empty()


async def test_without_a_notification_service_the_call_still_rings(
    qtbot: QtBot,
    parley_window: WindowFactory,
    parley_bot: BotFactory,
    monkeypatch: pytest.MonkeyPatch,
    tmp_path: Path,
) -> None:
    monkeypatch.setenv("DBUS_SESSION_BUS_ADDRESS", f"unix:path={tmp_path}/no-bus-here")
    notifier = DesktopCallNotifier()
    alice = await parley_window("alice", notifier=notifier)
    alice.app.window.showMinimized()
    bob = await parley_bot("bob")

    await bob.call(["alice"], video=False)
    calls = alice.app.calls
    assert calls is not None
    await wait_until(lambda: calls.phase is Phase.INCOMING)
    await wait_until(lambda: not notifier.available)
    calls.accept()
    await bob.expect("call.user.on_enter")


async def test_with_notifications_turned_off_a_call_while_away_only_rings(
    qtbot: QtBot,
    daemon: FakeNotificationDaemon,  # first: it outlives the windows
    parley_window: WindowFactory,
    parley_bot: BotFactory,
) -> None:
    alice = await parley_window("alice", notifier=DesktopCallNotifier())
    alice.app.preferences.update(call_notifications=False)
    alice.app.window.showMinimized()
    bob = await parley_bot("bob", "Bob Builder")

    await bob.call(["alice"], video=False)
    calls = alice.app.calls
    assert calls is not None
    await wait_until(lambda: calls.phase is Phase.INCOMING)
    with pytest.raises(TimeoutError):
        await daemon.next_event(timeout=1.0)  # nothing was shown
    await bob.cancel()
