"""Headless kit clients ("bots"): sign in, call, answer, decline, ignore, hang up.

A bot runs the same services as the desktop app — :class:`InvitationService`,
:class:`CallSession`, :class:`LocalMedia` with synthetic camera and microphone — without
Qt, so tests and demos drive real calls. It records every kit event it saw.

A bot is a user in front of the call pages: answering, declining and cancelling press
the ringing page's buttons, so the invitation kit's ``…_button_pressed`` events fire
first, exactly as when the desktop page's buttons are clicked.
"""

from __future__ import annotations

import asyncio
from collections.abc import Sequence
from dataclasses import dataclass, field
from enum import StrEnum

from app.kit.call.invitations import Phase, PhaseChanged
from app.kit.call.service import CallInvitationService, MediaFactory, ServerInfo
from app.kit.call.session import CallSession
from app.kit.config import CallInvitationConfig
from app.kit.media import LocalMedia, MediaOptions
from app.kit.types import User


class Answer(StrEnum):
    """What a bot does when called."""

    ANSWER = "answer"
    DECLINE = "decline"
    IGNORE = "ignore"


@dataclass(frozen=True)
class SeenEvent:
    """One kit event a bot saw: ``path`` like ``call.user.on_enter``, and its arguments."""

    path: str
    args: tuple[object, ...] = field(compare=False)


class Bot:
    """One headless user of a Parley server, driving the public kit API."""

    def __init__(
        self,
        server_url: str,
        token: str,
        user: User,
        *,
        on_invited: Answer = Answer.IGNORE,
        media: MediaOptions | None = None,
        abandon_after_s: float = 60.0,
        media_factory: MediaFactory = LocalMedia,
        invitation_config: CallInvitationConfig | None = None,
    ) -> None:
        self.user = user
        self.invitation_config = invitation_config
        self.abandon_after_s = abandon_after_s
        self.media_factory = media_factory
        self.on_invited = on_invited
        self.server = ServerInfo(server_url, token)
        self.media_options = media or MediaOptions(synthetic=True)
        self.kit = CallInvitationService()
        self.bus = self.kit.bus
        self.seen: list[SeenEvent] = []
        self._waiters: list[tuple[str, asyncio.Future[SeenEvent]]] = []
        self.bus.add_listener(self._record)
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

    def saw(self, path: str) -> list[SeenEvent]:
        """Every event seen at ``path`` (``call.user.on_enter``), oldest first."""
        return [e for e in self.seen if e.path == path]

    async def expect(self, path: str, timeout: float = 10.0) -> SeenEvent:
        """The first event at ``path`` already seen, or the next one."""
        for event in self.seen:
            if event.path == path:
                return event
        future: asyncio.Future[SeenEvent] = asyncio.get_running_loop().create_future()
        entry = (path, future)
        self._waiters.append(entry)
        try:
            return await asyncio.wait_for(future, timeout)
        finally:
            if entry in self._waiters:
                self._waiters.remove(entry)

    def _record(self, path: str, args: tuple[object, ...]) -> None:
        event = SeenEvent(path, args)
        self.seen.append(event)
        for wanted, future in list(self._waiters):
            if wanted == path and not future.done():
                future.set_result(event)

    async def close(self) -> None:
        """Hang up, sign out and release everything; idempotent."""
        await self.kit.uninit()
