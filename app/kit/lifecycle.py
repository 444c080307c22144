"""The kits follow the account: calls start on sign-in, everything stops on sign-out.

:class:`AccountKits` starts the call-invitation service on the account's own connection
as soon as the user is signed in, hangs up and leaves any room while still connected
when the user signs out, and stops the call service when the account is replaced
elsewhere or its server is gone for good. Qt-free: the desktop app and its tests wire
it the same way (:mod:`app.main`).
"""

from __future__ import annotations

import logging
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field

from app.kit.account import Account, AccountEvent, LinkChanged, LinkState, SignedIn
from app.kit.audio_room.kit import AudioRoomKit
from app.kit.call.service import CallConfigFactory, CallInvitationService
from app.kit.config import CallInvitationConfig
from app.kit.connect import SignInTarget
from app.kit.media import LocalMedia, MediaFactory, MediaOptions
from app.kit.tasks import TaskKeeper
from app.kit.types import User

__all__ = ["AccountKits", "CallKitSettings"]

log = logging.getLogger("parley.lifecycle")


@dataclass(frozen=True)
class CallKitSettings:
    """How the call kit starts: devices, invitation timeouts, each call's config."""

    media: MediaOptions = field(default_factory=MediaOptions)
    invitation: CallInvitationConfig | None = None
    #: Each call's config from ``(is_video, is_group)``; the kit's presets by default.
    call_config: CallConfigFactory | None = None
    media_factory: MediaFactory = LocalMedia


class AccountKits:
    """Starts and stops the kits as the account signs in and out."""

    def __init__(
        self,
        account: Account,
        server: SignInTarget,
        calls: CallInvitationService,
        rooms: AudioRoomKit,
        tasks: TaskKeeper,
        settings: CallKitSettings | None = None,
    ) -> None:
        self.account = account
        self.calls = calls
        self.rooms = rooms
        self._server = server
        self._tasks = tasks
        self.settings = settings or CallKitSettings()
        #: Called once the call service runs after each sign-in (``--call``).
        self.when_started: list[Callable[[], Awaitable[None]]] = []
        self._unsubscribe = [
            account.subscribe(self._on_account_event),
            account.before_sign_out(self._before_sign_out),
        ]

    def _on_account_event(self, event: AccountEvent) -> None:
        if isinstance(event, SignedIn):
            self._tasks.spawn(self._start(event.me.user_id, event.me.name), "start the call kit")
        elif isinstance(event, LinkChanged) and event.state in (
            LinkState.SIGNED_IN_ELSEWHERE,
            LinkState.OFFLINE,
        ):
            self._tasks.spawn(self.calls.uninit(), "stop the call kit")

    async def _start(self, user_id: str, name: str) -> None:
        client = self.account.client
        if client is None:
            return  # signed out again meanwhile
        info = self._server.server_info(user_id, name)
        settings = self.settings
        await self.calls.init(
            User(user_id, name),
            info,
            client=client,
            media=settings.media,
            config=settings.invitation,
            call_config=settings.call_config,
            media_factory=settings.media_factory,
        )
        for started in self.when_started:
            await started()

    async def _before_sign_out(self) -> None:
        # While still connected: the others see a hang-up and a leave, not a drop.
        await self.calls.uninit()
        await self.rooms.leave(confirm=False)

    def close(self) -> None:
        """Stop following the account."""
        for unsubscribe in self._unsubscribe:
            unsubscribe()
        self._unsubscribe.clear()
