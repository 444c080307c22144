"""aioice's consent task of a connection closed mid-connect is stopped (media.peer_support).

aioice 0.13's ``connect()`` starts consent checks once its check list completes, even
when ``close()`` has begun in between; that task would sleep and re-check nothing forever.
"""

from __future__ import annotations

import asyncio
import gc
import warnings

import aioice

from media.peer_support import NoConsentChecks, stop_consent_checks


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


def test_the_closing_consent_checks_leave_no_warning_when_their_task_never_runs() -> None:
    loop = asyncio.new_event_loop()
    connection = aioice.Connection(ice_controlling=True)
    # What dispose_pc sets before close().
    connection.query_consent = NoConsentChecks  # type: ignore[method-assign]
    # connect() resuming in the loop's last turn: the task is created, the loop closes.
    task = loop.create_task(connection.query_consent())
    loop.close()

    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        del task
        gc.collect()

    assert [str(w.message) for w in caught if w.category is RuntimeWarning] == []


async def test_the_closing_consent_checks_finish_at_once_or_are_cancelled() -> None:
    finished = asyncio.create_task(NoConsentChecks())
    cancelled = asyncio.create_task(NoConsentChecks())
    cancelled.cancel()

    await asyncio.gather(finished, cancelled, return_exceptions=True)

    assert finished.result() is None
    assert cancelled.cancelled()
    await NoConsentChecks()  # awaited directly, it returns at once too
