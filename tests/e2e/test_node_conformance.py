"""A non-Python client (Node's official socket.io-client) signs in and takes a call from Python.

Proof that docs/protocol.md is enough to write a web or mobile client.
"""

from __future__ import annotations

import asyncio
import json
import shutil
from pathlib import Path
from typing import Any

import pytest

from signaling.auth import mint_token
from signaling.enums import CallType
from signaling.protocol import InvitationAcceptedEvent
from signaling.server.app import RunningServer
from signaling.server.child_processes import die_with_parent
from tests.support.signaling import TEST_SECRET, ClientFactory

CLIENT_DIR = Path(__file__).resolve().parents[1] / "conformance"

pytestmark = pytest.mark.node


async def test_node_client_receives_and_accepts_an_invitation(
    server: RunningServer, make_client: ClientFactory
) -> None:
    node = shutil.which("node")
    assert node, "Node.js is required (scripts/dev.py test installs it)"
    assert (CLIENT_DIR / "node_modules" / "socket.io-client").is_dir(), (
        "run npm ci in tests/conformance"
    )
    alice = await make_client("alice", "Alice")
    token = mint_token(TEST_SECRET, "nodey", "Node Client")
    process = await asyncio.create_subprocess_exec(
        node,
        str(CLIENT_DIR / "client.js"),
        server.url,
        token,
        stdout=asyncio.subprocess.PIPE,
        stderr=asyncio.subprocess.PIPE,
        preexec_fn=die_with_parent(),
    )
    assert process.stdout is not None
    seen: dict[str, Any] = {}

    async def read_until(what: str) -> Any:
        while what not in seen:
            line = await asyncio.wait_for(process.stdout.readline(), 15)  # type: ignore[union-attr]
            assert line, f"node client ended before {what!r}: {seen}"
            record = json.loads(line)
            seen[record["what"]] = record["data"]
        return seen[what]

    try:
        ready = await read_until("ready")
        assert ready["user"] == {"user_id": "nodey", "name": "Node Client"}
        assert set(ready["online"]) == {"alice", "nodey"}
        accepted = asyncio.ensure_future(alice.wait_for(InvitationAcceptedEvent, timeout=15))
        sent = await alice.send_invitation(["nodey"], CallType.VIDEO, custom_data='{"hello": 1}')
        invitation = await read_until("invitation")
        assert invitation["caller"] == {"user_id": "alice", "name": "Alice"}
        assert invitation["call_type"] == "video"
        assert invitation["custom_data"] == '{"hello": 1}'
        bad = await read_until("bad-accept")
        assert bad["ok"] is False
        assert bad["error"]["code"] == "bad_request"
        answer = await read_until("accepted")
        assert answer == {"ok": True, "call_id": sent.call_id, "call_type": "video"}
        event = await accepted
        assert (event.callee.user_id, event.custom_data) == ("nodey", "from node")
        joined = await read_until("joined")
        assert joined["ok"] is True
        assert joined["room"]["room_id"] == sent.call_id
        assert await asyncio.wait_for(process.wait(), 10) == 0
    finally:
        if process.returncode is None:
            process.kill()
            await process.wait()
