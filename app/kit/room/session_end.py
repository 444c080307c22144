"""How a call or room session stops its background work once it has ended.

Shared by :class:`~app.services.call_session.CallSession` and
:class:`~app.services.audio_room_session.AudioRoomSession`: an end already under way
(kicked, remote hang-up, signed in elsewhere) runs in one of the session's own tasks and
is still publishing its end event (``on_call_end`` / ``on_ended``, whose hook may take a
moment); cancelling that task would lose the event, so a close lets it finish first.
"""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import Iterable
from typing import Any

__all__ = ["END_GRACE_S", "cancel_after_end"]

#: How long a close waits for an end already under way to publish its event.
END_GRACE_S = 5.0


async def cancel_after_end(
    end_published: asyncio.Event, tasks: Iterable[asyncio.Task[Any] | None]
) -> None:
    """Wait (up to :data:`END_GRACE_S`) until ``end_published`` is set, then cancel
    ``tasks`` (all but the current one) and wait until they have stopped."""
    if not end_published.is_set():
        with contextlib.suppress(TimeoutError):
            await asyncio.wait_for(end_published.wait(), END_GRACE_S)
    current = asyncio.current_task()
    running = [task for task in tasks if task is not None and task is not current]
    for task in running:
        task.cancel()
    await asyncio.gather(*running, return_exceptions=True)
