"""The call history's SQLite database: schema, recovery, reads and writes.

:class:`CallHistoryStore` keeps finished calls per account, newest first, bounded to the
last ``limit`` per account. The file carries its schema version in ``PRAGMA
user_version``; a file SQLite cannot read is moved aside and the history starts afresh,
so a broken file never stops the app; a file from a newer Parley is left alone and this
session's calls stay in memory. Writes are a few rows per call on the loop thread, in
WAL mode without a sync per commit, so they take well under a millisecond. Stdlib only.
"""

from __future__ import annotations

import contextlib
import json
import logging
import sqlite3
import time
from collections.abc import Callable, Sequence
from pathlib import Path

from app.kit.listeners import Listeners, Unsubscribe
from app.kit.types import User
from app.kit.views.history import CallDirection, CallEntry, CallOutcome

__all__ = ["DEFAULT_LIMIT", "MEMORY", "SCHEMA_VERSION", "CallHistoryStore"]

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
    # 1 for a call written down as it began and not completed yet (see CallHistoryStore.begin).
    "ALTER TABLE calls ADD COLUMN unfinished INTEGER NOT NULL DEFAULT 0",
)
SCHEMA_VERSION = len(_MIGRATIONS)

# SQLite's "this is not (or no longer) a database": the only errors that move a file aside.
_CORRUPT = frozenset({sqlite3.SQLITE_CORRUPT, sqlite3.SQLITE_NOTADB})
_COLUMNS = (
    "id, call_id, direction, outcome, peers, is_video, started_at, duration_s, seen, account,"
    " unfinished"
)


class _NewerSchemaError(Exception):
    """The file was written by a newer Parley: leave it alone."""


class CallHistoryStore:
    """The database of past calls, per account, newest first: read, record, forget."""

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
        self._listeners: Listeners[[]] = Listeners("call history changes")
        self._db: sqlite3.Connection | None = None
        # Rows this process began and has not completed: its calls in progress. Any other
        # unfinished row is a call the app stopped during.
        self._live: set[int] = set()
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
        rows = self._run(sql, params)
        return tuple(e for row in rows if (e := _entry(row, self._live)) is not None)

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

    def subscribe(self, callback: Callable[[], None]) -> Unsubscribe:
        """Call ``callback()`` after every change; returns a function that unsubscribes."""
        return self._listeners.subscribe(callback)

    def _changed(self) -> None:
        # A view's failure is logged and must not lose the next call's record.
        self._listeners.emit()

    # --- recording ------------------------------------------------------------------

    def record(self, entry: CallEntry) -> bool:
        """Store a finished call (``entry_id`` is ignored); False (logged) if it failed."""
        return self._insert(entry, unfinished=False)

    def begin(self, entry: CallEntry) -> int | None:
        """Write down a call as it starts, so that it is in the history even if the app
        stops during it; returns its ``entry_id`` for :meth:`complete` (None if the
        database refused). Until completed it reads back with ``in_progress`` set, and
        from any later run of the app with ``interrupted`` set."""
        if not self._insert(entry, unfinished=True):
            return None
        # The row just inserted on this connection (the trim after it inserts nothing).
        rows = self._run("SELECT last_insert_rowid()")
        if not rows or not rows[0][0]:
            return None
        entry_id: int = int(rows[0][0])  # type: ignore[call-overload]
        self._live.add(entry_id)
        self._changed()
        return entry_id

    def complete(self, entry_id: int, entry: CallEntry) -> bool:
        """The call :meth:`begin` wrote down is over: store how it went. Recorded afresh
        if its row is gone (the file was replaced meanwhile); False (logged) if that failed."""
        self._live.discard(entry_id)
        if not self._run("SELECT 1 FROM calls WHERE id = ? AND unfinished = 1", [entry_id]):
            return self.record(entry)
        peers, seen = _stored(entry)
        update = (
            "UPDATE calls SET outcome = ?, peers = ?, is_video = ?, duration_s = ?, seen = ?,"
            " unfinished = 0 WHERE id = ?",
            (entry.outcome.value, peers, int(entry.is_video), entry.duration_s, seen, entry_id),
        )
        if not self._write([update]):
            return False
        self._changed()
        return True

    def _insert(self, entry: CallEntry, *, unfinished: bool) -> bool:
        peers, seen = _stored(entry)
        insert = (
            "INSERT INTO calls (account, call_id, direction, outcome, peers, is_video,"
            " started_at, duration_s, seen, unfinished) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
            (
                entry.account,
                entry.call_id,
                entry.direction.value,
                entry.outcome.value,
                peers,
                int(entry.is_video),
                entry.started_at,
                entry.duration_s,
                seen,
                int(unfinished),
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
        if not unfinished:
            self._changed()
        return True

    def close(self) -> None:
        """Close the file; idempotent."""
        db, self._db = self._db, None
        if db is not None:
            with contextlib.suppress(sqlite3.Error):
                db.close()


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


def _stored(entry: CallEntry) -> tuple[str, int]:
    """The entry's peers as stored (JSON) and its ``seen`` flag (only a missed call can be
    unseen)."""
    peers = json.dumps([[p.id, p.name] for p in entry.peers])
    return peers, int(entry.seen if entry.is_missed else True)


def _entry(row: tuple[object, ...], live: set[int]) -> CallEntry | None:
    """A stored row as an entry; None (logged) for a row this version cannot read.
    ``live`` are the unfinished rows of calls still in progress in this process."""
    entry_id, call_id, direction, outcome, peers, is_video, started, duration, seen, account = row[
        :10
    ]
    unfinished = bool(row[10])
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
            in_progress=unfinished and entry_id in live,
            interrupted=unfinished and entry_id not in live,
        )
    except (TypeError, ValueError) as exc:
        log.warning("call history: skipping unreadable row %s: %s", entry_id, exc)
        return None
