"""The call kit's entry points: :class:`CallInvitationService` and :class:`CallController`.

``init`` on sign-in (user, server, events), ``uninit`` on sign-out; ``send``, ``cancel``,
``accept`` and ``reject`` invitations; the controller hangs up (with the optional
confirmation), minimizes and restores, switches devices and removes users in the
current call. Qt-free: the desktop pages follow :meth:`CallInvitationService.subscribe`
and install the bus's default actions (dialogs, navigation, the overlay).
"""

from __future__ import annotations

import dataclasses
import logging
from collections.abc import Callable, Sequence
from dataclasses import dataclass

from app.kit.bus import EventBus
from app.kit.call.invitations import (
    InvitationService,
    Phase,
    PhaseChanged,
    Refused,
    Unreachable,
)
from app.kit.call.session import CallSession
from app.kit.config import CallConfig, CallInvitationConfig
from app.kit.connect import ServerInfo, connect
from app.kit.events import CallEvents, CallInvitationEvents
from app.kit.listeners import Listeners
from app.kit.media import LocalMedia, MediaFactory, MediaOptions
from app.kit.minimize import MinimizeController
from app.kit.types import KitError, KitException, User
from signaling.client import SignalingClient

log = logging.getLogger("parley.kit")

CallConfigFactory = Callable[[bool, bool], CallConfig]
"""The config of a new call from ``(is_video, is_group)``; the default picks the preset."""


def preset_for(is_video: bool, is_group: bool) -> CallConfig:
    """The call kit's preset for a call of this kind."""
    if is_group:
        return CallConfig.group_video() if is_video else CallConfig.group_voice()
    return CallConfig.one_on_one_video() if is_video else CallConfig.one_on_one_voice()


@dataclass(frozen=True)
class JoiningDevices:
    """What the caller chose on the ringing page, for the call it becomes (None: as
    the call's config says)."""

    microphone: bool | None = None
    camera: bool | None = None
    speaker: bool | None = None

    def applied_to(self, config: CallConfig, *, is_video: bool) -> CallConfig:
        """``config`` with these choices (a voice call has no camera to carry)."""
        camera = self.camera if is_video else None
        return dataclasses.replace(
            config,
            turn_on_microphone_when_joining=_chosen(
                self.microphone, config.turn_on_microphone_when_joining
            ),
            turn_on_camera_when_joining=_chosen(camera, config.turn_on_camera_when_joining),
            use_speaker_when_joining=_chosen(self.speaker, config.use_speaker_when_joining),
        )


def _chosen(choice: bool | None, configured: bool) -> bool:
    return configured if choice is None else choice


class CallInvitationService:
    """Sign-in to sign-out life of the call kit for one user."""

    def __init__(self, bus: EventBus | None = None) -> None:
        self.bus = bus or EventBus()
        self.controller = CallController(self)
        self.user: User | None = None
        self.client: SignalingClient | None = None
        self.invitations: InvitationService | None = None
        self._media_options = MediaOptions()
        self._call_config: CallConfigFactory = preset_for
        self._abandon_after_s = 60.0
        self._media_factory: MediaFactory = LocalMedia
        self._listeners: Listeners[[PhaseChanged]] = Listeners("call phases")
        self._unreachable: Listeners[[Unreachable]] = Listeners("unreachable invitees")
        self._refused: Listeners[[Refused]] = Listeners("calls refused")
        self._do_not_disturb = False
        #: The ringing page's device choices for the call being rung (see
        #: :meth:`choose_joining_devices`).
        self.joining_devices = JoiningDevices()

    @property
    def session(self) -> CallSession | None:
        """The call in progress, if any."""
        return self.invitations.session if self.invitations else None

    async def init(
        self,
        user: User,
        server: ServerInfo,
        *,
        events: CallEvents | None = None,
        invitation_events: CallInvitationEvents | None = None,
        config: CallInvitationConfig | None = None,
        call_config: CallConfigFactory | None = None,
        media: MediaOptions | None = None,
        client: SignalingClient | None = None,
        abandon_after_s: float = 60.0,
        media_factory: MediaFactory = LocalMedia,
    ) -> None:
        """Sign in and start receiving invitations; raises :class:`KitException` on failure.

        ``client`` reuses a connection the application already opened. A call nobody
        else joins within ``abandon_after_s`` ends as ``ABANDONED``.
        """
        if self.invitations is not None:
            await self.uninit()
        if events is not None:
            self.bus.call.events = events
        if invitation_events is not None:
            self.bus.invitation.events = invitation_events
        self._media_options = media or MediaOptions()
        self._call_config = call_config or preset_for
        self._abandon_after_s = abandon_after_s
        self._media_factory = media_factory
        if client is None:
            client = await connect(server, self._report)
        self.user, self.client = user, client
        self.invitations = InvitationService(
            client, self.bus, user, self._new_session, config or CallInvitationConfig()
        )
        self.invitations.subscribe(self._on_phase)
        self.invitations.subscribe(self._listeners.emit)
        self.invitations.subscribe_unreachable(self._unreachable.emit)
        self.invitations.subscribe_refused(self._refused.emit)
        self.invitations.do_not_disturb = self._do_not_disturb

    async def uninit(self) -> None:
        """Hang up, stop ringing and sign out; idempotent."""
        invitations, self.invitations = self.invitations, None
        if invitations is not None:
            await invitations.close()
        # Actions still under way (a decline, a hang-up) finish while still connected.
        await self.bus.drain()
        client, self.client = self.client, None
        if client is not None:
            await client.close()
        await self.bus.drain()

    def _on_phase(self, change: PhaseChanged) -> None:
        # The ringing page's choices are for the call that ringing becomes, and no other
        # (the session was built with them before IN_CALL is announced).
        if change.phase is not Phase.OUTGOING:
            self.joining_devices = JoiningDevices()

    async def _report(self, error: KitError) -> None:
        await self.bus.invitation.publish(lambda e: e.on_error, error)

    def subscribe(self, listener: Callable[[PhaseChanged], None]) -> Callable[[], None]:
        """Follow the phase (idle, outgoing, incoming, in call) — what page to show —
        across sign-ins; returns the function that unsubscribes."""
        return self._listeners.subscribe(listener)

    def subscribe_unreachable(self, listener: Callable[[Unreachable], None]) -> Callable[[], None]:
        """Hear of invitees who were not online when we called them (Recent calls keeps
        such calls), across sign-ins; returns the function that unsubscribes."""
        return self._unreachable.subscribe(listener)

    def subscribe_refused(self, listener: Callable[[Refused], None]) -> Callable[[], None]:
        """Hear of calls refused without ringing while do not disturb is on, across
        sign-ins; returns the function that unsubscribes."""
        return self._refused.subscribe(listener)

    @property
    def do_not_disturb(self) -> bool:
        """Calls are refused as busy without ringing (kept across sign-ins)."""
        return self._do_not_disturb

    @do_not_disturb.setter
    def do_not_disturb(self, on: bool) -> None:
        self._do_not_disturb = on
        if self.invitations is not None:
            self.invitations.do_not_disturb = on

    def choose_joining_devices(self, **choices: bool) -> None:
        """The ringing page's toggles (``microphone``, ``camera``, ``speaker``): the call
        the ringing becomes joins with them; a camera turned off here never opens."""
        self.joining_devices = dataclasses.replace(self.joining_devices, **choices)

    def _new_session(self, call_id: str, is_video: bool, is_group: bool) -> CallSession:
        if self.client is None or self.user is None:
            raise KitException(KitError("not_signed_in", "call init() first"))
        choices, self.joining_devices = self.joining_devices, JoiningDevices()
        config = choices.applied_to(self._call_config(is_video, is_group), is_video=is_video)
        return CallSession(
            self.client,
            self.bus,
            self.user,
            call_id,
            config,
            is_video=is_video,
            media=self._media_options,
            media_factory=self._media_factory,
            abandon_after_s=self._abandon_after_s,
        )

    def _require(self) -> InvitationService:
        if self.invitations is None:
            raise KitException(KitError("not_signed_in", "call init() first"))
        return self.invitations

    async def send(
        self,
        invitees: Sequence[str],
        is_video: bool,
        *,
        call_id: str | None = None,
        custom_data: str = "",
    ) -> str | None:
        """Invite users (voice or video); during a call, into that call."""
        return await self._require().send(
            invitees, is_video, call_id=call_id, custom_data=custom_data
        )

    async def cancel(self, custom_data: str = "") -> None:
        await self._require().cancel(custom_data)

    async def accept(self, custom_data: str = "") -> CallSession | None:
        return await self._require().accept(custom_data)

    async def reject(self, custom_data: str = "") -> None:
        await self._require().reject(custom_data)

    async def cancel_invitee(self, user_id: str, custom_data: str = "") -> bool:
        """Stop ringing one invitee of the call in progress; False if none rings."""
        return await self._require().cancel_invitee(user_id, custom_data)

    # --- the ringing pages' buttons: the seed's "button pressed" event, then the act ---

    def _ringing(self, phase: Phase) -> bool:
        return self.invitations is not None and self.invitations.phase is phase

    async def press_accept(self) -> CallSession | None:
        """The incoming page's Accept: ``on_incoming_call_accept_button_pressed`` (while a
        call rings here), then :meth:`accept`. The desktop page and the bots use it."""
        if self._ringing(Phase.INCOMING):
            await self.bus.invitation.publish(lambda e: e.on_incoming_call_accept_button_pressed)
        return await self.accept()

    async def press_decline(self) -> None:
        """The incoming page's Decline: ``on_incoming_call_decline_button_pressed``, then
        :meth:`reject`."""
        if self._ringing(Phase.INCOMING):
            await self.bus.invitation.publish(lambda e: e.on_incoming_call_decline_button_pressed)
        await self.reject()

    async def press_cancel(self) -> None:
        """The outgoing page's Cancel: ``on_outgoing_call_cancel_button_pressed``, then
        :meth:`cancel`."""
        if self._ringing(Phase.OUTGOING):
            await self.bus.invitation.publish(lambda e: e.on_outgoing_call_cancel_button_pressed)
        await self.cancel()


class CallController:
    """Acts on the current call (``ZegoUIKitPrebuiltCallController``)."""

    def __init__(self, service: CallInvitationService) -> None:
        self._service = service
        self.minimize = MinimizeController(lambda: self.session)
        self.audio_video = AudioVideoController(self)
        self.user = UserController(self)

    @property
    def session(self) -> CallSession | None:
        return self._service.session

    async def hang_up(self, *, show_confirmation: bool = True) -> bool:
        """Leave the call; False if the confirmation vetoed it or no call is running."""
        session = self.session
        if session is None:
            return False
        return await session.hang_up(confirm=show_confirmation)


class AudioVideoController:
    """Microphone, camera and audio output of the current call."""

    def __init__(self, controller: CallController) -> None:
        self._controller = controller

    async def turn_microphone_on(self, on: bool) -> None:
        if (session := self._controller.session) is not None:
            await session.set_microphone(on)

    async def turn_camera_on(self, on: bool) -> None:
        if (session := self._controller.session) is not None:
            await session.set_camera(on)

    async def share_screen(self, on: bool) -> bool:
        """Send the screen instead of the camera, or stop (a Parley addition to the kit);
        False when there is no call or no screen to share (``on_error`` says why)."""
        if (session := self._controller.session) is None:
            return False
        return await session.share_screen(on)

    async def switch_camera(self, index: int) -> None:
        """Use another camera (on the desktop: a device index, not front/back).

        The first (default) camera counts as the front one: switching from it or to it
        fires ``on_front_facing_camera_state_changed``; switching between two others
        changes nothing "front", so nothing fires.
        """
        if (session := self._controller.session) is not None:
            was_front = session.media.options.camera_index == 0
            session.media.switch_camera(index)
            if (index == 0) != was_front:
                await session.bus.call.publish(
                    lambda e: e.audio_video.on_front_facing_camera_state_changed, index == 0
                )

    async def switch_audio_output(self, device: int | str | None) -> None:
        """Play to another output device, without dropping the call's audio."""
        if (session := self._controller.session) is not None:
            await session.set_audio_output(device)


class UserController:
    """Members of the current call."""

    def __init__(self, controller: CallController) -> None:
        self._controller = controller

    async def remove(self, user_ids: Sequence[str]) -> None:
        """Remove users from the call; each ends with ``KICK_OUT`` and your id."""
        if (session := self._controller.session) is not None:
            for user_id in user_ids:
                await session.remove_user(user_id)
