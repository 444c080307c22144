"""Members of an audio room: who enters and leaves, their devices and attributes.

Part of :class:`~app.services.audio_room_session.AudioRoomSession` (``session.roster``):
it keeps :attr:`AudioRoomState.members` in step with the server and publishes the
``user`` events of the kit.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from app.kit.audio_room.state import Member
from signaling.protocol import DeviceStateChangedEvent, MemberInfo
from signaling.protocol_audio import UserAttributesChangedEvent

if TYPE_CHECKING:
    from app.kit.audio_room.session import AudioRoomSession

__all__ = ["Roster"]


class Roster:
    """Member bookkeeping and the ``user.*`` events of one session."""

    def __init__(self, session: AudioRoomSession) -> None:
        self._session = session

    async def _publish_count(self) -> None:
        session = self._session
        await session.bus.audio_room.publish(
            lambda e: e.user.on_count_or_property_changed, session.state.users()
        )

    async def resync(self, members: list[MemberInfo]) -> None:
        """The members of a join (or re-join) snapshot: who left meanwhile goes."""
        session = self._session
        present = {info.user_id for info in members}
        for user_id in [uid for uid in session.state.members if uid not in present]:
            if user_id != session.me.id:
                await self.left(user_id)
        for info in members:
            if info.user_id == session.me.id:
                session.state.set_member(Member.from_info(info))
            else:
                await self.entered(Member.from_info(info), announce_count=False)
        await self._publish_count()

    async def entered(self, member: Member, *, announce_count: bool = True) -> None:
        session = self._session
        if member.user.id == session.me.id:
            return
        fresh = session.state.set_member(member)
        await session.sync_audio()
        session.changed("members")
        if fresh:
            await session.bus.audio_room.publish(lambda e: e.user.on_enter, member.user)
            if announce_count:
                await self._publish_count()

    async def left(self, user_id: str) -> None:
        session = self._session
        member = session.state.members.pop(user_id, None)
        session.state.applications.pop(user_id, None)
        if member is None:
            return
        await session.audio.remove(user_id)
        session.changed("members")
        await session.bus.audio_room.publish(lambda e: e.user.on_leave, member.user)
        await self._publish_count()

    def device_changed(self, event: DeviceStateChangedEvent) -> None:
        session = self._session
        if event.user_id != session.me.id and session.state.update_member(
            event.user_id, microphone=event.microphone
        ):
            session.changed("devices")

    async def attributes_changed(self, event: UserAttributesChangedEvent) -> None:
        session = self._session
        if session.state.update_member(event.user_id, attributes=dict(event.attributes)):
            await self._publish_count()
            session.changed("members")
