"""Where pages meet presenters: every page intent to a slot, every typed signal to a page.

Each function wires one part of the window and nothing else; :mod:`app.main.application`
calls them in order. Pages are built here too when they come and go with a call or a
room (the call page, the room page). ``tests/ui/test_intents_wired.py`` fails when a
page intent is left connected to nothing.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import TYPE_CHECKING

from PySide6.QtCore import Qt

from app.kit.account import LinkState
from app.main.options import MenuPopper
from app.qt.navigation import Navigator, Shown

if TYPE_CHECKING:
    import numpy as np
    import numpy.typing as npt

    from app.kit.bus import EventBus
    from app.kit.config import CallConfig
    from app.kit.config.audio_room import AudioRoomConfig
    from app.kit.history.recorder import CallHistory
    from app.qt.account import AccountBridge
    from app.qt.call import CallPresenter
    from app.qt.devices import DevicesPresenter
    from app.qt.overlay import OverlayIntents
    from app.qt.room import RoomPresenter
    from app.qt.room_entry import RoomEntry
    from widgets.device_settings_dialog import DeviceSettingsDialog
    from widgets.home_page import HomePage
    from widgets.incoming_call import IncomingCallBanner, IncomingCallPage
    from widgets.main_window import MainWindow
    from widgets.minimize_overlay import MinimizeOverlay
    from widgets.outgoing_call_page import OutgoingCallPage
    from widgets.theme import Colors

__all__ = [
    "connect_device_settings",
    "open_device_settings",
    "wire_calls",
    "wire_home",
    "wire_overlay",
    "wire_rooms",
    "wire_shell",
]


def wire_shell(window: MainWindow, bridge: AccountBridge) -> None:
    """The window and the sign-in page, before the server is open."""
    page = window.signin_page
    page.sign_in_requested.connect(bridge.sign_in)
    page.remote_sign_in_requested.connect(bridge.sign_in_remote)
    bridge.resume_started.connect(page.show_resuming)
    bridge.notice.connect(window.show_notice)
    bridge.sign_in_failed.connect(page.show_sign_in_failed)
    bridge.server_status_changed.connect(window.set_server_status)
    bridge.link_changed.connect(window.set_link_state)
    bridge.signed_in.connect(page.signed_in)
    bridge.signed_in.connect(window.show_home)
    bridge.signed_out.connect(window.show_sign_in)
    window.set_server_status(bridge.server_status)


def wire_signed_out_elsewhere(
    bridge: AccountBridge, navigator: Navigator, window: MainWindow
) -> None:
    """Signed in with the same user ID somewhere else: this window is signed out, so it
    says so on the sign-in page (after the call it was in ends) instead of looking
    signed in with buttons that fail."""

    def on_link(state: LinkState, detail: str) -> None:
        if state is LinkState.SIGNED_IN_ELSEWHERE:
            window.signin_page.show_signed_out_elsewhere()
            navigator.leave_for(window.signin_page)

    bridge.link_changed.connect(on_link)


def wire_home(
    home: HomePage,
    bridge: AccountBridge,
    calls: CallPresenter,
    rooms: RoomEntry,
    history: CallHistory,
    open_devices: Callable[[], None],
    clear_history: Callable[[], object],
    place_call: Callable[[list[str], bool], object],
) -> None:
    """The home page: who is online, calling, the room button, devices, Recent calls
    (``clear_history`` asks before clearing them; ``place_call`` before adding people
    to a call in progress)."""
    bridge.signed_in.connect(home.set_me)
    bridge.signed_in.connect(lambda me: home.reset_roster(bridge.users))
    bridge.signed_in.connect(lambda me: history.set_account(me.user_id))
    bridge.signed_out.connect(home.clear)
    bridge.roster_reset.connect(home.reset_roster)
    bridge.user_changed.connect(home.update_user)
    home.sign_out_requested.connect(bridge.sign_out)
    home.call_requested.connect(place_call)
    home.room_requested.connect(rooms.request)
    home.devices_requested.connect(open_devices)
    panel = home.history_list

    def show_history() -> None:
        panel.set_view(history.entries(), history.unseen_missed_count())

    history.subscribe(show_history)
    show_history()
    panel.call_back_requested.connect(calls.call)
    panel.clear_requested.connect(clear_history)
    panel.looked_at.connect(history.mark_seen)


def wire_calls(
    calls: CallPresenter,
    navigator: Navigator,
    overlay: MinimizeOverlay,
    outgoing: OutgoingCallPage,
    incoming: IncomingCallPage,
    banner: IncomingCallBanner,
    colors: Colors,
    menu_popper: MenuPopper | None,
) -> None:
    """The ringing pages, the banner, and each call's page as the call begins."""
    from widgets.call_page import CallPage

    calls.phase_changed.connect(navigator.on_call_phase)
    calls.phase_changed.connect(
        lambda phase: navigator.leave_outgoing_now() if calls.cancelled_by_user else None
    )
    calls.outcome_without_ringing.connect(navigator.show_outcome)
    calls.minimized_changed.connect(lambda on: navigator.on_minimized(Shown.CALL, on))
    calls.outgoing_view_changed.connect(outgoing.set_view)
    calls.incoming_view_changed.connect(banner.set_view)
    calls.incoming_view_changed.connect(incoming.set_view)
    calls.call_view_changed.connect(overlay.set_view)
    outgoing.cancel_requested.connect(calls.cancel)
    outgoing.microphone_toggled.connect(calls.set_microphone)
    outgoing.camera_toggled.connect(calls.set_camera)
    outgoing.speaker_toggled.connect(calls.set_speaker)
    for ringing in (banner, incoming):
        ringing.accept_requested.connect(calls.accept)
        ringing.decline_requested.connect(calls.decline)
    banner.open_requested.connect(navigator.open_incoming_page)
    pages: dict[str, CallPage] = {}  # the call page in progress, for its frames

    def call_started(config: CallConfig) -> None:
        page = pages["call"] = CallPage(config, colors)
        if menu_popper is not None:
            page.menu_popper = menu_popper
        page.microphone_toggled.connect(calls.set_microphone)
        page.camera_toggled.connect(calls.set_camera)
        page.screen_share_toggled.connect(calls.share_screen)
        page.switch_camera_requested.connect(calls.switch_camera)
        page.speaker_toggled.connect(calls.set_speaker)
        page.audio_output_menu_requested.connect(calls.list_audio_outputs)
        page.audio_output_chosen.connect(calls.switch_audio_output)
        page.hang_up_requested.connect(calls.hang_up)
        page.minimize_requested.connect(calls.minimize)
        page.remove_member_requested.connect(calls.remove_member)
        page.cancel_invite_requested.connect(calls.cancel_invitee)
        page.send_message_requested.connect(calls.send_message)
        page.resend_message_requested.connect(calls.resend_message)
        page.chat_visibility_changed.connect(calls.set_chat_visible)
        calls.call_view_changed.connect(page.set_view)
        calls.messages_changed.connect(page.set_messages)
        calls.audio_outputs_listed.connect(page.show_audio_output_menu)
        navigator.set_call_page(page, page.show_error)

    calls.call_started.connect(call_started)

    def frame(user_id: str, array: npt.NDArray[np.uint8]) -> None:
        # Paint only where it is seen: the call page, or the overlay when minimized.
        page = pages.get("call")
        if overlay.isVisible():
            overlay.set_frame(user_id, array)
        elif page is not None and page is navigator.call_page:
            page.set_frame(user_id, array)

    calls.frame_ready.connect(frame)


def wire_rooms(
    rooms: RoomPresenter,
    navigator: Navigator,
    overlay: MinimizeOverlay,
    window: MainWindow,
    events: EventBus,
    colors: Colors,
    menu_popper: MenuPopper | None,
) -> None:
    """Each audio room's page as the room is joined."""
    from widgets.audio_room_page import AudioRoomPage

    hooks = events.audio_room
    rooms.minimized_changed.connect(lambda on: navigator.on_minimized(Shown.ROOM, on))
    rooms.overlay_view_changed.connect(overlay.set_view)
    rooms.error.connect(window.show_error)

    def room_started(config: AudioRoomConfig) -> None:
        page = AudioRoomPage(config, colors)
        # A hook that replaces a menu means the page shows none of its own.
        page.default_seat_menu = hooks.events.seat.on_clicked is None
        page.default_member_menu = hooks.events.member_list.on_more_button_pressed is None
        if menu_popper is not None:
            page.menu_popper = menu_popper
        page.seat_clicked.connect(rooms.seat_clicked)
        page.seat_action.connect(rooms.seat_action)
        page.microphone_toggled.connect(rooms.set_microphone)
        page.speaker_toggled.connect(rooms.set_speaker)
        page.lock_all_toggled.connect(rooms.lock_all)
        page.apply_requested.connect(rooms.apply)
        page.cancel_apply_requested.connect(rooms.cancel_apply)
        page.leave_seat_requested.connect(rooms.leave_seat)
        page.member_agree.connect(rooms.agree)
        page.member_disagree.connect(rooms.disagree)
        page.member_invite.connect(rooms.invite)
        page.member_kick.connect(rooms.kick)
        page.member_clicked.connect(rooms.member_clicked)
        page.member_more_pressed.connect(rooms.member_more_pressed)
        page.message_send.connect(rooms.send_message)
        page.message_resend.connect(rooms.resend_message)
        page.message_clicked.connect(rooms.message_clicked)
        page.message_long_pressed.connect(rooms.message_long_pressed)
        page.invitation_accepted.connect(rooms.accept_invitation)
        page.invitation_declined.connect(rooms.decline_invitation)
        page.minimize_requested.connect(rooms.minimize)
        page.leave_requested.connect(rooms.leave)
        rooms.view_changed.connect(page.set_view)
        navigator.set_room_page(page, page.show_error)

    rooms.room_started.connect(room_started)


def wire_overlay(
    overlay: MinimizeOverlay,
    intents: OverlayIntents,
    outgoing: OutgoingCallPage,
    incoming: IncomingCallPage,
) -> None:
    """The one minimize overlay: its buttons act on the call, the room or the ringing."""
    overlay.restore_requested.connect(intents.restore)
    overlay.microphone_toggled.connect(intents.set_microphone)
    overlay.leave_requested.connect(intents.leave)
    intents.outgoing_ringing.connect(overlay.set_ringing_view)
    intents.incoming_ringing.connect(overlay.set_ringing_view)
    outgoing.minimize_requested.connect(intents.minimize_ringing)
    incoming.minimize_requested.connect(intents.minimize_ringing)


def connect_device_settings(dialog: DeviceSettingsDialog, devices: DevicesPresenter) -> None:
    """Wire the device settings dialog and its presenter both ways: lists, frames and
    levels in, choices out; OK saves the choices, Cancel drops them, hiding the dialog
    releases the devices."""
    devices.devices_changed.connect(dialog.set_view)
    devices.frame_ready.connect(dialog.set_frame)
    devices.level_changed.connect(dialog.set_level)
    devices.preview_state_changed.connect(dialog.set_preview_state)
    devices.test_sound_changed.connect(dialog.set_test_sound_playing)
    devices.microphone_test_changed.connect(dialog.set_microphone_test)
    dialog.camera_chosen.connect(devices.choose_camera)
    dialog.microphone_chosen.connect(devices.choose_microphone)
    dialog.voice_processing_toggled.connect(devices.set_voice_processing)
    dialog.speaker_chosen.connect(devices.choose_speaker)
    dialog.test_sound_requested.connect(devices.play_test_sound)
    dialog.microphone_test_requested.connect(devices.test_microphone)
    dialog.preview_started.connect(devices.start_preview)
    dialog.preview_stopped.connect(devices.stop_preview)
    dialog.accepted.connect(devices.save)
    dialog.rejected.connect(devices.discard)
    dialog.set_test_sound_available(devices.can_play_test_sound)
    dialog.set_view(devices.view)


def open_device_settings(devices: DevicesPresenter, colors: Colors, parent: MainWindow) -> None:
    """The home page's Devices… button: the dialog, window-modal without a nested loop."""
    from widgets.device_settings_dialog import DeviceSettingsDialog

    dialog = DeviceSettingsDialog(colors, parent)
    dialog.setAttribute(Qt.WidgetAttribute.WA_DeleteOnClose)
    connect_device_settings(dialog, devices)
    dialog.open()
