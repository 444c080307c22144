"""aioice's consent task of a connection closed mid-connect is stopped (media.peer_support).

aioice 0.13's ``connect()`` starts consent checks once its check list completes, even
when ``close()`` has begun in between; that task would sleep and re-check nothing forever.
"""

from __future__ import annotations

import asyncio

import aioice

from media.peer_support import stop_consent_checks


async def test_a_consent_task_started_after_close_is_stopped() -> None:
    connection = aioice.Connection(ice_controlling=True)
    connection.remote_password = "remote-password-123456"
    await connection.close()
    # What connect() does when it resumes after close(): start the consent checks.
    task = asyncio.create_task(connection.query_consent())
    connection._query_consent_task = task
    await asyncio.sleep(0)  # it runs, and sleeps until its first check

    await stop_consent_checks([connection])

    assert task.done()


async def test_a_consent_task_that_never_ran_is_closed_without_a_warning() -> None:
    connection = aioice.Connection(ice_controlling=True)
    connection.remote_password = "remote-password-123456"
    await connection.close()
    task = asyncio.create_task(connection.query_consent())
    connection._query_consent_task = task

    await stop_consent_checks([connection])  # filterwarnings=error: "never awaited" fails

    assert task.cancelled()
