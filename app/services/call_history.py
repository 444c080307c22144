"""The call history: every call placed or received, kept in a local SQLite database.

:meth:`CallHistory.follow` watches the event bus (and the call kit's phases, for what
the bus does not carry: whom an outgoing call rings and whether it is a video call)
and writes one :class:`~app.call_history_view.CallEntry` when a call is over: answered
(with its duration), missed, declined, busy, unanswered or cancelled. An incoming call
that timed out or that the caller cancelled is *missed*.

Qt-free and stdlib-only: the composition root chooses the file (``:memory:`` in tests).
The database carries its schema version in ``PRAGMA user_version``; a file SQLite cannot
read is moved aside and the history starts afresh, so a broken file never stops the
app. Writes are a few rows per call on the loop thread, in WAL mode without a sync per
commit, so they take well under a millisecond and need no worker thread.
"""

from __future__ import annotations

import contextlib
import json
import logging
import sqlite3
import time
from collections import deque
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import ClassVar, Protocol

from app.bus import EventBus
from app.call_history_view import CallDirection, CallEntry, CallOutcome
from app.services.invitations import Phase, PhaseChanged
from app.types import InvitationUserInfo, User
from signaling.enums import CallType

__all__ = ["DEFAULT_LIMIT", "MEMORY", "SCHEMA_VERSION", "CallHistory", "CallPhases"]

log = logging.getLogger("parley.history")

#: The database path that keeps the history in memory only (tests, or a broken disk).
MEMORY = ":memory:"
#: Entries kept per account; older ones are dropped as new ones arrive.
DEFAULT_LIMIT = 500

# Each step migrates from version ``index`` to ``index + 1``; SCHEMA_VERSION is their count.
_MIGRATIONS: tuple[str, ...] = (
    """
    CREATE TABLE calls (
        id INTEGER PRIMARY KEY AUTOINCREMENT,
        account TEXT NOT NULL DEFAULT '',
        call_id TEXT NOT NULL,
        direction TEXT NOT NULL,
        outcome TEXT NOT NULL,
        peers TEXT NOT NULL,          -- JSON: [[user_id, name], ...]
        is_video INTEGER NOT NULL,
        started_at REAL NOT NULL,     -- Unix seconds, when it began ringing
        duration_s INTEGER NOT NULL DEFAULT 0,
        seen INTEGER NOT NULL DEFAULT 1
    );
    CREATE INDEX calls_by_account ON calls (account, started_at);
    """,
)
SCHEMA_VERSION = len(_MIGRATIONS)

# SQLite's "this is not (or no longer) a database": the only errors that move a file aside.
_CORRUPT = frozenset({sqlite3.SQLITE_CORRUPT, sqlite3.SQLITE_NOTADB})
_COLUMNS = "id, call_id, direction, outcome, peers, is_video, started_at, duration_s, seen, account"


class CallPhases(Protocol):
    """What :meth:`CallHistory.follow` needs of the call kit (``CallInvitationService``)."""

    @property
    def user(self) -> User | None: ...

    def subscribe(self, listener: Callable[[PhaseChanged], None]) -> object: ...


class _NewerSchemaError(Exception):
    """The file was written by a newer Parley: leave it alone."""


@dataclass
class _Call:
    """A call under way, not yet in the database."""

    call_id: str
    direction: CallDirection
    is_video: bool
    started_at: float
    account: str
    group: bool = False
    peers: dict[str, str] = field(default_factory=dict)  # user id → name, in order
    answered_at: float | None = None
    refusals: dict[str, CallOutcome] = field(default_factory=dict)


class CallHistory:
    """Past calls of the signed-in users of this machine, newest first."""

    def __init__(
        self,
        path: str | Path = MEMORY,
        *,
        limit: int = DEFAULT_LIMIT,
        clock: Callable[[], float] = time.time,
    ) -> None:
        if limit < 1:
            raise ValueError("limit must be at least 1")
        self.path = str(path)
        self.limit = limit
        self._clock = clock
        self._account: str | None = None
        self._listeners: list[Callable[[], None]] = []
        self._calls: dict[str, _Call] = {}
        self._current: str | None = None  # the call_id of the call in progress
        self._settled: deque[str] = deque(maxlen=32)  # call_ids written down lately
        self._phases: CallPhases | None = None
        self._unfollow: list[Callable[[], object]] = []
        self._db: sqlite3.Connection | None = None
        self.is_persistent = False
        self._open()

    # --- the database ---------------------------------------------------------------

    def _open(self) -> None:
        try:
            self._db = self._connect(self.path)
            self.is_persistent = self.path != MEMORY
            return
        except sqlite3.DatabaseError as exc:
            if _is_corrupt(exc) and self.path != MEMORY:
                log.warning("call history %s is unreadable (%s); starting afresh", self.path, exc)
                self._move_aside()
                with contextlib.suppress(sqlite3.Error, OSError):
                    self._db = self._connect(self.path)
                    self.is_persistent = True
                    return
            log.error("cannot open the call history %s (%s); keeping it in memory", self.path, exc)
        except _NewerSchemaError as exc:
            log.error("call history %s: %s; keeping this session's calls in memory", self.path, exc)
        except OSError as exc:
            log.error("cannot open the call history %s (%s); keeping it in memory", self.path, exc)
        self._db = self._connect(MEMORY)
        self.is_persistent = False

    def _connect(self, path: str) -> sqlite3.Connection:
        if path != MEMORY:
            Path(path).parent.mkdir(parents=True, exist_ok=True)
        # Autocommit mode: transactions are explicit (_transaction).
        db = sqlite3.connect(path, isolation_level=None)
        try:
            # Another Parley window may be writing (two users on one machine): wait a bit.
            db.execute("PRAGMA busy_timeout = 2000")
            check = db.execute("PRAGMA quick_check").fetchone()
            if check is None or check[0] != "ok":
                raise sqlite3.DatabaseError(f"integrity check failed: {check}")
            if path != MEMORY:
                db.execute("PRAGMA journal_mode = WAL")
                db.execute("PRAGMA synchronous = NORMAL")
            self._migrate(db)
        except BaseException:
            db.close()
            raise
        return db

    @staticmethod
    def _migrate(db: sqlite3.Connection) -> None:
        version = int(db.execute("PRAGMA user_version").fetchone()[0])
        if version > SCHEMA_VERSION:
            raise _NewerSchemaError(f"schema version {version} is newer than {SCHEMA_VERSION}")
        for step in range(version, SCHEMA_VERSION):
            statements = [(sql, ()) for sql in _MIGRATIONS[step].split(";") if sql.strip()]
            _transaction(db, [*statements, (f"PRAGMA user_version = {step + 1}", ())])

    def _move_aside(self) -> None:
        stamp = time.strftime("%Y%m%d-%H%M%S")
        for suffix in ("", "-wal", "-shm"):
            source = Path(self.path + suffix)
            if source.exists():
                target = source.with_name(f"{source.name}.corrupt-{stamp}")
                try:
                    source.replace(target)
                except OSError as exc:
                    log.error("cannot move %s aside: %s", source, exc)
                else:
                    log.warning("moved the unreadable %s to %s", source, target)

    def _run(self, sql: str, params: Sequence[object] = ()) -> list[tuple[object, ...]]:
        """The rows of one query; none (logged) if the database failed."""
        rows = self._execute([(sql, params)], transaction=False)
        return rows if rows is not None else []

    def _write(self, statements: Sequence[tuple[str, Sequence[object]]]) -> bool:
        """Run statements in one transaction; False (logged) if the database refused."""
        return self._execute(statements, transaction=True) is not None

    def _execute(
        self, statements: Sequence[tuple[str, Sequence[object]]], *, transaction: bool
    ) -> list[tuple[object, ...]] | None:
        # Never raises: a file that broke while in use is moved aside and replaced once.
        for attempt in (1, 2):
            db = self._db
            if db is None:
                return None
            try:
                if transaction:
                    _transaction(db, statements)
                    return []
                sql, params = statements[0]
                return db.execute(sql, params).fetchall()
            except sqlite3.DatabaseError as exc:
                if attempt == 2 or not _is_corrupt(exc):
                    log.error("call history: %s failed: %s", statements[0][0].split()[0], exc)
                    return None
                log.warning("call history broke while in use (%s); starting afresh", exc)
                db.close()
                self._open()
        return None

    # --- reading --------------------------------------------------------------------

    @property
    def account(self) -> str | None:
        """Whose calls :meth:`entries` and the counts show; None shows everyone's."""
        return self._account

    def set_account(self, user_id: str | None) -> None:
        """Show the history of ``user_id`` (on sign-in), or of nobody in particular."""
        if user_id != self._account:
            self._account = user_id
            self._changed()

    def _where(self, extra: str = "") -> tuple[str, list[object]]:
        clauses: list[str] = []
        params: list[object] = []
        if self._account is not None:
            clauses.append("account = ?")
            params.append(self._account)
        if extra:
            clauses.append(extra)
        return (f" WHERE {' AND '.join(clauses)}" if clauses else ""), params

    def entries(self, limit: int | None = None) -> tuple[CallEntry, ...]:
        """The account's calls, newest first (at most ``limit``)."""
        where, params = self._where()
        sql = f"SELECT {_COLUMNS} FROM calls{where} ORDER BY started_at DESC, id DESC"
        if limit is not None:
            sql += " LIMIT ?"
            params.append(limit)
        return tuple(e for row in self._run(sql, params) if (e := _entry(row)) is not None)

    def missed_count_since(self, since: float) -> int:
        """How many calls were missed from ``since`` (Unix seconds) on."""
        where, params = self._where("outcome = ? AND started_at >= ?")
        rows = self._run(f"SELECT COUNT(*) FROM calls{where}", [*params, "missed", since])
        return int(rows[0][0]) if rows else 0  # type: ignore[call-overload]

    def unseen_missed_count(self) -> int:
        """Missed calls not yet looked at (the badge); :meth:`mark_seen` clears it."""
        where, params = self._where("outcome = ? AND seen = 0")
        rows = self._run(f"SELECT COUNT(*) FROM calls{where}", [*params, "missed"])
        return int(rows[0][0]) if rows else 0  # type: ignore[call-overload]

    def mark_seen(self) -> None:
        """The user looked at the history: no missed call is new any more."""
        if not self.unseen_missed_count():
            return
        where, params = self._where("seen = 0")
        if self._write([(f"UPDATE calls SET seen = 1{where}", params)]):
            self._changed()

    def clear(self) -> None:
        """Forget the account's calls (all calls when no account is set)."""
        where, params = self._where()
        if self._write([(f"DELETE FROM calls{where}", params)]):
            self._changed()

    def subscribe(self, callback: Callable[[], None]) -> Callable[[], None]:
        """Call ``callback()`` after every change; returns a function that unsubscribes."""
        self._listeners.append(callback)
        return lambda: self._listeners.remove(callback) if callback in self._listeners else None

    def _changed(self) -> None:
        for callback in tuple(self._listeners):
            try:
                callback()
            except Exception:  # a view's failure must not lose the next call's record
                log.exception("call history listener %r failed", callback)

    # --- recording ------------------------------------------------------------------

    def record(self, entry: CallEntry) -> bool:
        """Store a finished call (``entry_id`` is ignored); False (logged) if it failed."""
        peers = json.dumps([[p.id, p.name] for p in entry.peers])
        seen = entry.seen if entry.is_missed else True  # only a missed call can be unseen
        insert = (
            "INSERT INTO calls (account, call_id, direction, outcome, peers, is_video,"
            " started_at, duration_s, seen) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)",
            (
                entry.account,
                entry.call_id,
                entry.direction.value,
                entry.outcome.value,
                peers,
                int(entry.is_video),
                entry.started_at,
                entry.duration_s,
                int(seen),
            ),
        )
        # The bound is per account, so one busy user of the machine cannot evict another.
        trim = (
            "DELETE FROM calls WHERE account = ? AND id NOT IN"
            " (SELECT id FROM calls WHERE account = ? ORDER BY id DESC LIMIT ?)",
            (entry.account, entry.account, self.limit),
        )
        if not self._write([insert, trim]):
            return False
        self._changed()
        return True

    def follow(self, bus: EventBus, calls: CallPhases | None = None) -> Callable[[], None]:
        """Record the calls the bus reports; returns a function that stops following.

        ``calls`` (the call kit) tells whom an outgoing call rings, whether it is a
        video call and when a call is answered. Without it incoming calls are recorded
        in full, but outgoing ones only once answered, declined or timed out, and as
        voice calls unless the timeout said otherwise.
        """
        self._unfollow.append(bus.add_listener(self._on_bus))
        if calls is not None:
            self._phases = calls
            unsubscribe = calls.subscribe(self._on_phase)
            # CallInvitationService keeps its listeners for good: then _on_phase goes deaf.
            self._unfollow.append(unsubscribe if callable(unsubscribe) else self._forget_phases)
        return self._stop_following

    def _forget_phases(self) -> None:
        self._phases = None

    def _stop_following(self) -> None:
        for stop in self._unfollow:
            stop()
        self._unfollow.clear()
        self._phases = None

    def _me(self) -> str:
        user = self._phases.user if self._phases is not None else None
        return user.id if user is not None else (self._account or "")

    def _on_phase(self, change: PhaseChanged) -> None:
        if self._phases is None:
            return
        ringing = change.ringing
        if change.phase is Phase.OUTGOING and ringing is not None:
            call = self._begin(ringing.call_id, CallDirection.OUTGOING, ringing.is_video)
            for callee in ringing.callees:
                call.peers.setdefault(callee.id, callee.name)
        elif change.phase is Phase.IN_CALL and change.session is not None:
            session = change.session
            known = self._calls.get(session.call_id)
            if known is None:  # a group call we placed: we are in it while it rings
                is_video = session.config.turn_on_camera_when_joining
                if ringing is not None and ringing.call_id == session.call_id:
                    is_video = ringing.is_video
                known = self._begin(session.call_id, CallDirection.OUTGOING, is_video)
                known.group = True
            elif known.direction is CallDirection.INCOMING and known.answered_at is None:
                known.answered_at = self._clock()
            self._current = known.call_id

    def _begin(self, call_id: str, direction: CallDirection, is_video: bool) -> _Call:
        existing = self._calls.get(call_id)
        if existing is not None:
            return existing
        # A call that rang before and was never settled (answered without the kit, or
        # refused without a button): settle it now, before it is lost.
        for stale in [c for c in self._calls.values() if c.call_id != self._current]:
            self._settle(stale, _fallback(stale))
        call = _Call(call_id, direction, is_video, self._clock(), self._me())
        self._calls[call_id] = call
        return call

    def _on_bus(self, path: str, args: tuple[object, ...]) -> None:
        handler = self._HANDLERS.get(path)
        if handler is not None:
            handler(self, *args)

    def _incoming_received(self, *args: object) -> None:
        call_id, caller, call_type, callees = args[:4]
        if not (isinstance(call_id, str) and isinstance(caller, User)):
            return
        call = self._begin(call_id, CallDirection.INCOMING, call_type is CallType.VIDEO)
        me = self._me()
        for user in (caller, *(callees if isinstance(callees, Sequence) else ())):
            if isinstance(user, User) and user.id != me:
                call.peers.setdefault(user.id, user.name)
        call.group = len(call.peers) > 1

    def _incoming_missed(self, *args: object) -> None:
        call = self._calls.get(args[0]) if args and isinstance(args[0], str) else None
        if call is not None and call.answered_at is None:
            self._settle(call, CallOutcome.MISSED)

    def _incoming_accepted(self, *args: object) -> None:
        if self._phases is not None:
            return  # the kit's IN_CALL says when the call really began (accepting can fail)
        call = self._ringing(CallDirection.INCOMING)
        if call is not None:
            call.answered_at = self._clock()
            self._current = call.call_id

    def _incoming_declined(self, *args: object) -> None:
        call = self._ringing(CallDirection.INCOMING)
        if call is not None:
            self._settle(call, CallOutcome.DECLINED)

    def _outgoing_cancelled(self, *args: object) -> None:
        call = self._ringing(CallDirection.OUTGOING)
        if call is not None:
            self._settle(call, CallOutcome.CANCELLED)

    def _ringing(self, direction: CallDirection) -> _Call | None:
        """The latest call of ``direction`` still ringing (the buttons name none)."""
        ringing = [
            c for c in self._calls.values() if c.direction is direction and c.answered_at is None
        ]
        return ringing[-1] if ringing else None

    def _outgoing_call(self, call_id: object) -> _Call | None:
        if not isinstance(call_id, str):
            return None
        call = self._calls.get(call_id)
        if call is None:
            # Without the kit's phases an outgoing call shows first in its answers; with
            # them it is known from the start. A late answer to a settled call (a group
            # callee timing out after the call ended) must not become a call of its own.
            if self._phases is not None or call_id in self._settled:
                return None
            call = self._begin(call_id, CallDirection.OUTGOING, is_video=False)
        return call if call.direction is CallDirection.OUTGOING else None

    def _outgoing_accepted(self, *args: object) -> None:
        call_id, callee = args[:2]
        call = self._outgoing_call(call_id)
        if call is None or not isinstance(callee, User):
            return
        call.peers[callee.id] = callee.name
        if call.answered_at is None:
            call.answered_at = self._clock()
        self._current = call.call_id

    def _outgoing_refused(self, outcome: CallOutcome, call_id: object, callee: object) -> None:
        call = self._outgoing_call(call_id)
        if call is None or not isinstance(callee, User):
            return
        call.peers[callee.id] = callee.name
        call.refusals[callee.id] = outcome
        if not call.group and call.answered_at is None:
            self._settle(call, outcome)

    def _outgoing_declined(self, *args: object) -> None:
        self._outgoing_refused(CallOutcome.DECLINED, *args[:2])

    def _outgoing_busy(self, *args: object) -> None:
        self._outgoing_refused(CallOutcome.BUSY, *args[:2])

    def _outgoing_timeout(self, *args: object) -> None:
        call_id, callees, is_video = args[:3]
        call = self._outgoing_call(call_id)
        if call is None:
            return
        if isinstance(is_video, bool):
            call.is_video = is_video
        for callee in callees if isinstance(callees, Sequence) else ():
            if isinstance(callee, User):
                call.peers.setdefault(callee.id, callee.name)
                call.refusals.setdefault(callee.id, CallOutcome.NO_ANSWER)
        if not call.group and call.answered_at is None:
            self._settle(call, CallOutcome.NO_ANSWER)

    def _invitees_changed(self, *args: object) -> None:
        # Names no call: it is the group call in progress, whose callees may be known
        # from nothing else when none of them answers.
        call = self._calls.get(self._current) if self._current is not None else None
        if call is None or call.direction is not CallDirection.OUTGOING or not args:
            return
        for info in args[0] if isinstance(args[0], Sequence) else ():
            if isinstance(info, InvitationUserInfo) and info.user_id != self._me():
                call.peers.setdefault(info.user_id, info.user_id)

    def _call_ended(self, *args: object) -> None:
        call = self._calls.get(self._current) if self._current is not None else None
        if call is not None:
            self._settle(call, _fallback(call))

    _HANDLERS: ClassVar[dict[str, Callable[..., None]]] = {
        "invitation.on_incoming_call_received": _incoming_received,
        "invitation.on_incoming_call_canceled": _incoming_missed,
        "invitation.on_incoming_call_timeout": _incoming_missed,
        "invitation.on_incoming_call_accept_button_pressed": _incoming_accepted,
        "invitation.on_incoming_call_decline_button_pressed": _incoming_declined,
        "invitation.on_outgoing_call_cancel_button_pressed": _outgoing_cancelled,
        "invitation.on_outgoing_call_accepted": _outgoing_accepted,
        "invitation.on_outgoing_call_declined": _outgoing_declined,
        "invitation.on_outgoing_call_rejected_cause_busy": _outgoing_busy,
        "invitation.on_outgoing_call_timeout": _outgoing_timeout,
        "invitation.on_invitation_user_state_changed": _invitees_changed,
        "call.on_call_end": _call_ended,
    }

    def _settle(self, call: _Call, outcome: CallOutcome) -> None:
        """The call is over: write it down and forget it."""
        self._calls.pop(call.call_id, None)
        self._settled.append(call.call_id)
        if self._current == call.call_id:
            self._current = None
        duration = 0
        if outcome is CallOutcome.ANSWERED and call.answered_at is not None:
            duration = max(0, round(self._clock() - call.answered_at))
        try:
            entry = CallEntry(
                entry_id=0,
                call_id=call.call_id,
                direction=call.direction,
                outcome=outcome,
                peers=tuple(User(uid, name) for uid, name in call.peers.items()),
                is_video=call.is_video,
                started_at=call.started_at,
                duration_s=duration,
                seen=outcome is not CallOutcome.MISSED,
                account=call.account,
            )
        except (TypeError, ValueError):
            log.exception("call history: cannot record call %s", call.call_id)
            return
        self.record(entry)

    # --- life -----------------------------------------------------------------------

    def close(self) -> None:
        """Stop following, write down calls still under way, close the file; idempotent."""
        self._stop_following()
        for call in list(self._calls.values()):
            self._settle(call, _fallback(call))
        db, self._db = self._db, None
        if db is not None:
            with contextlib.suppress(sqlite3.Error):
                db.close()


def _fallback(call: _Call) -> CallOutcome:
    """The outcome of a call no event settled: what the user would call it."""
    if call.answered_at is not None:
        return CallOutcome.ANSWERED
    if call.direction is CallDirection.INCOMING:
        return CallOutcome.MISSED
    refusals = set(call.refusals.values())
    if call.group and len(refusals) == 1 and len(call.refusals) == len(call.peers):
        return refusals.pop()  # every callee declined, or every one was busy
    return CallOutcome.NO_ANSWER if call.group else CallOutcome.CANCELLED


def _transaction(
    db: sqlite3.Connection, statements: Sequence[tuple[str, Sequence[object]]]
) -> None:
    db.execute("BEGIN IMMEDIATE")
    try:
        for sql, params in statements:
            db.execute(sql, params)
        db.execute("COMMIT")
    except BaseException:
        with contextlib.suppress(sqlite3.Error):  # the first error is the one to report
            db.execute("ROLLBACK")
        raise


def _is_corrupt(exc: sqlite3.DatabaseError) -> bool:
    return getattr(exc, "sqlite_errorcode", None) in _CORRUPT or "integrity check" in str(exc)


def _entry(row: tuple[object, ...]) -> CallEntry | None:
    """A stored row as an entry; None (logged) for a row this version cannot read."""
    entry_id, call_id, direction, outcome, peers, is_video, started, duration, seen, account = row
    try:
        users = tuple(User(str(uid), str(name)) for uid, name in json.loads(str(peers)))
        return CallEntry(
            entry_id=int(entry_id),  # type: ignore[call-overload]
            call_id=str(call_id),
            direction=CallDirection(str(direction)),
            outcome=CallOutcome(str(outcome)),
            peers=users,
            is_video=bool(is_video),
            started_at=float(started),  # type: ignore[arg-type]
            duration_s=int(duration),  # type: ignore[call-overload]
            seen=bool(seen),
            account=str(account),
        )
    except (TypeError, ValueError) as exc:
        log.warning("call history: skipping unreadable row %s: %s", entry_id, exc)
        return None
