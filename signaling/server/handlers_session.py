"""The session itself: signing out (which revokes the token it signed in with), and
fresh ICE servers."""

from __future__ import annotations

import asyncio
from typing import Any

from signaling.protocol import EmptyRequest, SignOutRequest, dump
from signaling.server.hub import Caller, Hub


async def _disconnect_after_answer(hub: Hub, sid: str) -> None:
    await asyncio.sleep(0)  # the answer is queued when the handler returns; then close
    await hub.sio.disconnect(sid)


def register(hub: Hub) -> None:
    """Install the session handlers on ``hub``."""

    @hub.handle("session.sign_out")
    async def sign_out(hub: Hub, caller: Caller, req: SignOutRequest) -> dict[str, Any]:
        if req.everywhere:
            await hub.sign_out_everywhere(caller.user_id, keep_sid=caller.sid)
        elif caller.token_id:
            await hub.store.revoke_token(caller.token_id, caller.expires_at)
        else:
            # A token without ``jti`` (minted by another service) is known by when it was
            # issued: it goes with any older one of the user.
            await hub.store.revoke_user(caller.user_id, caller.issued_at)
        hub.spawn(_disconnect_after_answer(hub, caller.sid))
        return {}

    @hub.handle("session.ice_servers")
    async def ice_servers(hub: Hub, caller: Caller, req: EmptyRequest) -> dict[str, Any]:
        # Fresh TURN credentials, for a client whose welcome's are close to expiring.
        return {"ice_servers": [dump(s) for s in hub.ice_servers_for(caller.user_id)]}


__all__ = ["register"]
