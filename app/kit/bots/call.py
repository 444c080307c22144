"""Headless kit clients ("bots"): sign in, call, answer, decline, ignore, hang up.

A bot runs the same services as the desktop app — :class:`InvitationService`,
:class:`CallSession`, :class:`LocalMedia` with synthetic camera and microphone — without
Qt, so tests and demos drive real calls. It records every kit event it saw.

A bot is a user in front of the call pages: answering, declining and cancelling press
the ringing page's buttons, so the invitation kit's ``…_button_pressed`` events fire
first, exactly as when the desktop page's buttons are clicked.
"""

from __future__ import annotations

from collections.abc import Sequence
from enum import StrEnum

from app.kit.bots.recorder import EventRecorder, Recorded
from app.kit.bus import EventBus
from app.kit.call.invitations import Phase, PhaseChanged
from app.kit.call.service import CallInvitationService
from app.kit.call.session import CallSession
from app.kit.config import CallInvitationConfig
from app.kit.connect import ServerInfo
from app.kit.events import CallEvents, CallInvitationEvents
from app.kit.media import LocalMedia, MediaFactory, MediaOptions
from app.kit.types import User
from signaling.client import TokenSource


class Answer(StrEnum):
    """What a bot does when called."""

    ANSWER = "answer"
    DECLINE = "decline"
    IGNORE = "ignore"


class Bot(Recorded):
    """One headless user of a Parley server, driving the public kit API."""

    def __init__(
        self,
        server_url: str,
        token: TokenSource,
        user: User,
        *,
        ca_file: str | None = None,
        on_invited: Answer = Answer.IGNORE,
        media: MediaOptions | None = None,
        abandon_after_s: float = 60.0,
        media_factory: MediaFactory = LocalMedia,
        invitation_config: CallInvitationConfig | None = None,
        events: CallEvents | None = None,
        invitation_events: CallInvitationEvents | None = None,
    ) -> None:
        """``token`` is a token or a function returning a fresh one (an account's
        :meth:`~signaling.accounts_client.AccessTokens.access_token`); ``ca_file``
        verifies an https server's certificate. ``events`` and ``invitation_events`` are
        the bot's own hooks (a hook that replaces a default, like ``on_call_end``, runs
        instead of it)."""
        self.user = user
        self.invitation_config = invitation_config
        self.abandon_after_s = abandon_after_s
        self.media_factory = media_factory
        self.on_invited = on_invited
        self.server = ServerInfo(server_url, token, ca_file)
        self.media_options = media or MediaOptions(synthetic=True)
        self.kit = CallInvitationService(EventBus(events, invitation_events))
        self.bus = self.kit.bus
        self.recorder = EventRecorder(self.bus)
        self.kit.subscribe(self._phase)

    async def sign_in(self) -> None:
        """Connect and start the invitation service."""
        await self.kit.init(
            self.user,
            self.server,
            media=self.media_options,
            abandon_after_s=self.abandon_after_s,
            media_factory=self.media_factory,
            config=self.invitation_config,
        )

    def _phase(self, change: PhaseChanged) -> None:
        if change.phase is Phase.INCOMING:
            if self.on_invited is Answer.ANSWER:
                self.bus.spawn(self._answer())
            elif self.on_invited is Answer.DECLINE:
                self.bus.spawn(self.decline())

    async def _answer(self) -> None:
        await self.answer()

    # --- actions --------------------------------------------------------------------

    @property
    def session(self) -> CallSession | None:
        """The call in progress, if any."""
        return self.kit.session

    async def call(
        self, user_ids: Sequence[str], *, video: bool = True, call_id: str | None = None
    ) -> str | None:
        return await self.kit.send(user_ids, video, call_id=call_id)

    async def answer(self) -> CallSession | None:
        """Press the incoming call's accept button (when a call rings here) and join."""
        return await self.kit.press_accept()

    async def decline(self) -> None:
        """Press the incoming call's decline button (when a call rings here)."""
        await self.kit.press_decline()

    async def cancel(self) -> None:
        """Press the outgoing call's cancel button (when a one-to-one call rings out)."""
        await self.kit.press_cancel()

    async def hang_up(self) -> bool:
        return await self.kit.controller.hang_up()

    # --- observation ----------------------------------------------------------------

    async def drop_connection(self, *, reconnect: bool = False) -> None:
        """Lose the connection abruptly, as a crash (or, with ``reconnect``, a network
        drop the bot recovers from): no hang-up, no goodbye to the server. The server
        keeps the bot's place for its ``rejoin_grace_s`` before the others see it leave."""
        if self.kit.client is not None:
            await self.kit.client.drop(reconnect=reconnect)

    async def close(self) -> None:
        """Hang up, sign out and release everything; idempotent."""
        await self.kit.uninit()
