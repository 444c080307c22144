"""The call kit wired to the window: presenter, navigation, pages and default actions.

Part of the composition (``app/compose``): built by :class:`app.main.Application` and by
the UI tests, so both run the same wiring.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import TYPE_CHECKING

import qasync

from app.kit.account import LinkState, Session
from app.kit.config import CallInvitationConfig
from app.kit.local_server import ServerHandle
from app.kit.types import CallEndEvent, HangUpConfirmationEvent, KitError, User
from app.qt.account import SessionBridge, TaskKeeper
from media.errors import DeviceExceptionType
from signaling.client import SignalingClient
from widgets.call_page import CallPage
from widgets.confirm_dialog import ConfirmDialog
from widgets.incoming_call import IncomingCallBanner, IncomingCallPage
from widgets.main_window import MainWindow
from widgets.menu_bar import MenuPopper
from widgets.minimize_overlay import MinimizeOverlay
from widgets.outgoing_call_page import OutgoingCallPage
from widgets.theme import Colors

if TYPE_CHECKING:
    from app.kit.call.invitations import Phase
    from app.kit.call.service import (
        CallConfigFactory,
        CallInvitationService,
        MediaFactory,
        ServerInfo,
    )
    from app.kit.config import CallConfig
    from app.kit.history.recorder import CallHistory
    from app.kit.media import MediaOptions
    from media.sounds import SoundPlayer

__all__ = ["CallUi"]


class CallUi:
    """The call kit wired to the window: presenter, navigation, pages and default actions.

    Built by :class:`Application` and by the UI tests, so both run the same wiring.
    """

    def __init__(
        self,
        window: MainWindow,
        bridge: SessionBridge,
        session: Session,
        server: ServerHandle,
        kit: CallInvitationService,
        tasks: TaskKeeper,
        colors: Colors,
        *,
        sounds: SoundPlayer | None = None,
        media: MediaOptions | None = None,
        invitation_config: CallInvitationConfig | None = None,
        call_config: CallConfigFactory | None = None,
        media_factory: MediaFactory | None = None,
        history: CallHistory | None = None,
        outcome_linger_ms: int = 1500,
    ) -> None:
        """``call_config`` gives each call its config from ``(is_video, is_group)`` (the
        seed's per-call config, e.g. a preset with ``hang_up_confirmation`` set); the
        kit's presets by default. ``media_factory`` opens each call's devices (the device
        settings' choices at that moment); ``history`` fills the home page's Recent calls.
        """
        self.window, self.kit, self.colors = window, kit, colors
        self._bridge, self._session, self._server, self._tasks = bridge, session, server, tasks
        from app.kit.media import LocalMedia, MediaOptions
        from app.qt.call import CallPresenter
        from app.qt.navigation import Navigator

        self._media = media or MediaOptions()
        self._invitation_config = invitation_config
        self._call_config = call_config
        self._media_factory: MediaFactory = media_factory or LocalMedia
        self.history = history
        self._unfollow_history: Callable[[], None] | None = None
        self.call_on_sign_in: list[str] = []
        """User IDs to call (video) once the call service has started (``--call``)."""
        self.presenter = CallPresenter(kit, tasks, sounds, name_of=self._name_of, parent=window)
        self.outgoing_page = OutgoingCallPage(colors)
        self.incoming_page = IncomingCallPage(colors)
        self.banner = IncomingCallBanner(colors, window)
        self.overlay = MinimizeOverlay(colors, window)
        self.navigator = Navigator(
            window,
            window.stack,
            self.outgoing_page,
            self.incoming_page,
            self.banner,
            self.overlay,
            outcome_linger_ms=outcome_linger_ms,
            parent=window,
        )
        self.call_page: CallPage | None = None
        self.menu_popper: MenuPopper | None = None
        """How call pages pop their menus; ``None``: ``QMenu.popup`` (tests record them)."""
        self._connect()
        self._install_defaults()
        bridge.before_sign_out = kit.uninit

    def _connect(self) -> None:
        p, nav = self.presenter, self.navigator
        p.phase_changed.connect(self._on_phase_changed)
        p.outgoing_view_changed.connect(self.outgoing_page.set_view)
        p.incoming_view_changed.connect(self.banner.set_view)
        p.incoming_view_changed.connect(self.incoming_page.set_view)
        p.call_started.connect(self._on_call_started)
        p.call_view_changed.connect(self._on_call_view)
        p.frame_ready.connect(self._on_frame)
        p.messages_changed.connect(self._on_messages)
        p.audio_outputs_listed.connect(self._on_audio_outputs)
        p.minimized_changed.connect(nav.on_minimized_changed)
        p.outcome_without_ringing.connect(nav.show_outcome)
        self.window.home_page.call_requested.connect(p.call)
        page = self.outgoing_page
        page.cancel_requested.connect(p.cancel)
        page.minimize_requested.connect(self._minimize_ringing)
        page.microphone_toggled.connect(p.set_microphone)
        page.camera_toggled.connect(p.set_camera)
        page.speaker_toggled.connect(p.set_speaker)
        for accept, decline in (
            (self.banner.accept_requested, self.banner.decline_requested),
            (self.incoming_page.accept_requested, self.incoming_page.decline_requested),
        ):
            accept.connect(p.accept)
            decline.connect(p.decline)
        self.banner.open_requested.connect(nav.open_incoming_page)
        self.incoming_page.minimize_requested.connect(self._minimize_ringing)
        self.overlay.restore_requested.connect(self._on_overlay_restore)
        self.overlay.microphone_toggled.connect(p.set_microphone)
        self.overlay.leave_requested.connect(self._on_overlay_leave)
        self._bridge.signed_in.connect(self._on_signed_in)
        if self.history is not None:
            self._connect_history(self.history)
        self._bridge.link_changed.connect(self._on_link_changed)

    def _connect_history(self, history: CallHistory) -> None:
        """Record this kit's calls; the home page's Recent calls follow the history, and
        Call back places a call."""
        self._unfollow_history = history.follow(self.kit.bus, self.kit, name_of=self._name_of)
        panel = self.window.home_page.history_list

        def show() -> None:
            panel.set_view(history.entries(), history.unseen_missed_count())

        history.subscribe(show)
        show()
        panel.call_back_requested.connect(self.presenter.call)
        panel.clear_requested.connect(history.clear)
        panel.looked_at.connect(history.mark_seen)
        self._bridge.signed_in.connect(lambda me: history.set_account(me.user_id))

    def _install_defaults(self) -> None:
        bus = self.kit.bus
        bus.call.set_end_default(lambda e: e.on_call_end, self.end_call)
        bus.call.set_confirm_default(lambda e: e.on_hang_up_confirmation, self._confirm_hang_up)
        bus.call.set_default(lambda e: e.on_error, self._show_error)
        bus.invitation.set_default(lambda e: e.on_error, self._show_error)
        bus.call.set_default(
            lambda e: e.audio_video.on_remote_camera_exception_occurred,
            lambda user, kind: self.show_message(
                self.window.tr("{name}'s camera: {problem}").format(
                    name=user.name, problem=_problem(kind)
                )
            ),
        )
        bus.call.set_default(
            lambda e: e.audio_video.on_remote_microphone_exception_occurred,
            lambda user, kind: self.show_message(
                self.window.tr("{name}'s microphone: {problem}").format(
                    name=user.name, problem=_problem(kind)
                )
            ),
        )

    def _name_of(self, user_id: str) -> str | None:
        return next((u.name for u in self._session.users if u.user_id == user_id), None)

    # --- the kit's life follows the session -------------------------------------------

    def _on_signed_in(self, me: object) -> None:
        client = self._session.client
        user = self._session.me
        if client is None or user is None:
            return
        server = self._server
        from app.kit.call.service import ServerInfo

        info = ServerInfo(server.url, lambda: server.mint_token(user.user_id, user.name))
        self._tasks.spawn(
            self._start_kit(User(user.user_id, user.name), info, client),
            "start the call service",
        )

    async def _start_kit(self, user: User, info: ServerInfo, client: SignalingClient) -> None:
        await self.kit.init(
            user,
            info,
            client=client,
            media=self._media,
            config=self._invitation_config,
            call_config=self._config_for_call,
            media_factory=self._media_factory,
        )
        ids, self.call_on_sign_in = self.call_on_sign_in, []
        if ids:
            self.presenter.call(ids, True)

    def _config_for_call(self, is_video: bool, is_group: bool) -> CallConfig:
        from app.kit.call.service import preset_for

        config = (self._call_config or preset_for)(is_video, is_group)
        # What the caller chose on the ringing page carries into the call it becomes.
        return self.presenter.joining_config(config, is_video=is_video)

    def _on_link_changed(self, state: LinkState, detail: str) -> None:
        if state in (LinkState.SIGNED_IN_ELSEWHERE, LinkState.OFFLINE):
            self._tasks.spawn(self.kit.uninit(), "stop the call service")

    # --- pages ------------------------------------------------------------------------

    def _on_phase_changed(self, phase: Phase) -> None:
        self.navigator.on_phase_changed(phase)
        if self.presenter.cancelled_by_user:
            self.navigator.leave_outgoing_now()

    def _on_call_started(self, config: object) -> None:
        page = CallPage(config, self.colors)  # type: ignore[arg-type]
        p = self.presenter
        page.microphone_toggled.connect(p.set_microphone)
        page.camera_toggled.connect(p.set_camera)
        page.switch_camera_requested.connect(p.switch_camera)
        page.speaker_toggled.connect(p.set_speaker)
        page.audio_output_menu_requested.connect(p.list_audio_outputs)
        page.audio_output_chosen.connect(p.switch_audio_output)
        page.hang_up_requested.connect(p.hang_up)
        page.minimize_requested.connect(p.minimize)
        page.remove_member_requested.connect(p.remove_member)
        page.send_message_requested.connect(p.send_message)
        page.resend_message_requested.connect(p.resend_message)
        page.chat_visibility_changed.connect(p.set_chat_visible)
        if self.menu_popper is not None:
            page.menu_popper = self.menu_popper
        self.call_page = page
        self.navigator.set_call_page(page)

    def _on_call_view(self, view: object) -> None:
        if self.call_page is not None:
            self.call_page.set_view(view)  # type: ignore[arg-type]
        self.overlay.set_view(view)  # type: ignore[arg-type]

    def _on_messages(self, messages: object) -> None:
        if self.call_page is not None:
            self.call_page.set_messages(messages)  # type: ignore[arg-type]

    def _on_audio_outputs(self, outputs: object) -> None:
        if self.call_page is not None:
            self.call_page.show_audio_output_menu(outputs)  # type: ignore[arg-type]

    def _on_frame(self, user_id: str, frame: object) -> None:
        # Paint only where it is seen: the call page, or the overlay when minimized.
        if self.overlay.isVisible():
            self.overlay.set_frame(user_id, frame)  # type: ignore[arg-type]
        elif self.call_page is not None:
            self.call_page.set_frame(user_id, frame)  # type: ignore[arg-type]

    def _minimize_ringing(self) -> None:
        ringing_out = self.presenter.phase.value == "outgoing"
        view = self.outgoing_page.view if ringing_out else None
        ringing = view or self.incoming_page.view
        if ringing is not None:
            self.overlay.set_ringing_view(ringing)
        self.navigator.minimize_ringing()

    def _on_overlay_restore(self) -> None:
        if self.presenter.session is not None:
            self.presenter.restore()
        else:
            self.navigator.restore_ringing()

    def _on_overlay_leave(self) -> None:
        phase = self.presenter.phase.value
        if phase == "outgoing":
            self.presenter.cancel()
        elif phase == "incoming":
            self.presenter.decline()
        else:
            self.presenter.hang_up()

    # --- default actions --------------------------------------------------------------

    def end_call(self, event: CallEndEvent) -> None:
        """``on_call_end``'s default: back to the previous page, or hide the overlay."""
        self.navigator.end_call(event)
        self.call_page = None
        self.kit.controller.minimize.hide()

    async def _confirm_hang_up(self, event: HangUpConfirmationEvent) -> bool:
        dialog = event.dialog
        if dialog is None:
            return True
        parent = self.call_page or self.window
        # asyncWrap runs the modal loop outside any task, so the loop keeps working.
        answer = await qasync.asyncWrap(lambda: ConfirmDialog.ask(dialog, self.colors, parent))
        return bool(answer)

    def _show_error(self, error: KitError) -> None:
        self.show_message(error.message or error.code)

    def show_message(self, text: str) -> None:
        """A toast on the call page when it is shown, else the status line."""
        page = self.call_page
        if page is not None and self.navigator.current is page:
            page.show_error(text)
        else:
            self.window.show_error(text)

    async def close(self) -> None:
        """Hang up and stop (the app's shutdown)."""
        await self.kit.uninit()
        await self.presenter.close()
        if self._unfollow_history is not None:
            self._unfollow_history()  # after the kit: the call it ended is written down


def _problem(kind: DeviceExceptionType | None) -> str:
    return (kind or DeviceExceptionType.UNKNOWN).value.replace("_", " ")
