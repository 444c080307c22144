"""User accounts, invite codes and refresh tokens in one SQLite file.

Passwords are hashed with argon2id (argon2-cffi's RFC 9106 low-memory profile: 64 MiB,
3 passes); hashing is deliberately slow, so the server runs it in worker threads
(``signaling.server.http_accounts``). Invite codes and refresh tokens are random and
stored only as SHA-256 digests: a copy of the database signs nobody in.

A refresh token is spent when used: refreshing answers a new one of the same *family*
(one sign-in on one device). Spending one twice means it was copied, so the whole family
is ended and the device must sign in again (RFC 9700 §4.14.2, refresh token rotation).

The methods are synchronous and thread-safe: the ``parley-server user`` commands call
them directly, the running server from its worker threads. Several processes may use
one file (SQLite's WAL journal and a busy timeout).
"""

from __future__ import annotations

import hashlib
import secrets
import sqlite3
import threading
import time
from dataclasses import dataclass
from pathlib import Path

from argon2 import PasswordHasher
from argon2.exceptions import InvalidHashError, VerificationError, VerifyMismatchError

from signaling.errors import ErrorCode, SignalingError

REFRESH_TTL_S = 30 * 24 * 3600
INVITE_TTL_S = 7 * 24 * 3600
# 32 random bytes: 43 url-safe characters, out of reach of guessing.
_TOKEN_BYTES = 32
_SCHEMA = """
CREATE TABLE IF NOT EXISTS users (
    user_id TEXT PRIMARY KEY,
    name TEXT NOT NULL,
    password_hash TEXT NOT NULL,
    created_at REAL NOT NULL
);
CREATE TABLE IF NOT EXISTS invites (
    code_digest TEXT PRIMARY KEY,
    expires_at REAL NOT NULL,
    uses_left INTEGER NOT NULL,
    created_at REAL NOT NULL
);
CREATE TABLE IF NOT EXISTS refresh_tokens (
    token_digest TEXT PRIMARY KEY,
    family TEXT NOT NULL,
    user_id TEXT NOT NULL REFERENCES users(user_id) ON DELETE CASCADE,
    expires_at REAL NOT NULL,
    spent INTEGER NOT NULL DEFAULT 0
);
CREATE INDEX IF NOT EXISTS refresh_by_user ON refresh_tokens(user_id);
CREATE INDEX IF NOT EXISTS refresh_by_family ON refresh_tokens(family);
"""


@dataclass(frozen=True)
class UserRecord:
    """An account as listed: who, shown as what, since when (Unix seconds)."""

    user_id: str
    name: str
    created_at: float


@dataclass(frozen=True)
class InviteRecord:
    """An invite code that still works: when it stops, how many accounts it may create."""

    code_prefix: str
    expires_at: float
    uses_left: int


def _digest(token: str) -> str:
    return hashlib.sha256(token.encode()).hexdigest()


def default_hasher() -> PasswordHasher:
    """argon2id with RFC 9106's low-memory profile (argon2-cffi's default)."""
    return PasswordHasher()


class AccountDb:
    """The accounts of one server (or of several sharing the file)."""

    def __init__(self, path: str | Path, hasher: PasswordHasher | None = None) -> None:
        self.path = Path(path)
        self.path.parent.mkdir(mode=0o700, parents=True, exist_ok=True)
        self._hasher = hasher or default_hasher()
        self._lock = threading.Lock()
        self._db = sqlite3.connect(
            self.path, timeout=10.0, check_same_thread=False, isolation_level=None
        )
        # Users' password hashes: nobody else on the machine reads them.
        self.path.chmod(0o600)
        with self._lock:
            self._db.execute("PRAGMA journal_mode=WAL")
            self._db.execute("PRAGMA foreign_keys=ON")
            self._db.executescript(_SCHEMA)
        self._dummy_hash: str | None = None

    def close(self) -> None:
        with self._lock:
            self._db.close()

    # --- users --------------------------------------------------------------------

    def add_user(self, user_id: str, name: str, password: str) -> UserRecord:
        """Create an account; ``user_exists`` if the ID is taken."""
        password_hash = self._hasher.hash(password)  # slow: outside the lock
        record = UserRecord(user_id, name, time.time())
        with self._lock:
            self._insert_user(record, password_hash)
        return record

    def _insert_user(self, record: UserRecord, password_hash: str) -> None:
        """The INSERT of a new account (the caller holds the lock); ``user_exists``."""
        try:
            self._db.execute(
                "INSERT INTO users VALUES (?, ?, ?, ?)",
                (record.user_id, record.name, password_hash, record.created_at),
            )
        except sqlite3.IntegrityError:
            raise SignalingError(
                ErrorCode.USER_EXISTS, f"the user ID {record.user_id!r} is taken"
            ) from None

    def sign_up_with_invite(self, code: str, user_id: str, name: str, password: str) -> UserRecord:
        """Create an account with an invite code, spending one of its uses only if the
        account is created (both in one transaction)."""
        password_hash = self._hasher.hash(password)
        record = UserRecord(user_id, name, time.time())
        with self._lock:
            self._db.execute("BEGIN IMMEDIATE")
            try:
                spent = self._db.execute(
                    "UPDATE invites SET uses_left = uses_left - 1 WHERE code_digest = ? "
                    "AND uses_left > 0 AND expires_at > ?",
                    (_digest(code), record.created_at),
                ).rowcount
                if spent != 1:
                    raise SignalingError(
                        ErrorCode.INVITE_INVALID,
                        "this invite code is unknown, used up or expired; ask for a new one",
                    )
                self._insert_user(record, password_hash)
                self._db.execute("DELETE FROM invites WHERE uses_left <= 0")
            except BaseException:
                self._db.execute("ROLLBACK")
                raise
            self._db.execute("COMMIT")
        return record

    def set_password(self, user_id: str, password: str) -> None:
        """Change a password and end every sign-in of the user (their refresh tokens)."""
        password_hash = self._hasher.hash(password)
        with self._lock:
            changed = self._db.execute(
                "UPDATE users SET password_hash = ? WHERE user_id = ?", (password_hash, user_id)
            ).rowcount
            if not changed:
                raise SignalingError(ErrorCode.USER_NOT_FOUND, f"no user {user_id!r}")
            self._db.execute("DELETE FROM refresh_tokens WHERE user_id = ?", (user_id,))

    def remove_user(self, user_id: str) -> None:
        """Delete an account and its sign-ins; ``user_not_found`` if there is none."""
        with self._lock:
            self._db.execute("DELETE FROM refresh_tokens WHERE user_id = ?", (user_id,))
            if not self._db.execute("DELETE FROM users WHERE user_id = ?", (user_id,)).rowcount:
                raise SignalingError(ErrorCode.USER_NOT_FOUND, f"no user {user_id!r}")

    def users(self) -> list[UserRecord]:
        """Every account, by user ID."""
        with self._lock:
            rows = self._db.execute(
                "SELECT user_id, name, created_at FROM users ORDER BY user_id"
            ).fetchall()
        return [UserRecord(*row) for row in rows]

    def user(self, user_id: str) -> UserRecord | None:
        with self._lock:
            row = self._db.execute(
                "SELECT user_id, name, created_at FROM users WHERE user_id = ?", (user_id,)
            ).fetchone()
        return UserRecord(*row) if row else None

    def check_password(self, user_id: str, password: str) -> UserRecord | None:
        """The account if ``password`` is its password, else None. An unknown user costs
        as much time as a wrong password, so timing does not tell which IDs exist."""
        with self._lock:
            row = self._db.execute(
                "SELECT name, password_hash, created_at FROM users WHERE user_id = ?",
                (user_id,),
            ).fetchone()
        if row is None:
            if self._dummy_hash is None:
                self._dummy_hash = self._hasher.hash(secrets.token_urlsafe(16))
            _ = self._verify(self._dummy_hash, password)
            return None
        name, password_hash, created_at = row
        if not self._verify(password_hash, password):
            return None
        if self._hasher.check_needs_rehash(password_hash):
            # Hashed with older (cheaper) parameters: upgrade while we hold the password.
            with self._lock:
                self._db.execute(
                    "UPDATE users SET password_hash = ? WHERE user_id = ?",
                    (self._hasher.hash(password), user_id),
                )
        return UserRecord(user_id, name, created_at)

    def _verify(self, password_hash: str, password: str) -> bool:
        try:
            return self._hasher.verify(password_hash, password)
        except (VerifyMismatchError, VerificationError, InvalidHashError):
            return False

    # --- invite codes -------------------------------------------------------------

    def create_invite(self, ttl_s: float = INVITE_TTL_S, uses: int = 1) -> str:
        """A new invite code, good for ``uses`` accounts within ``ttl_s`` seconds. Only
        its digest is stored: the code is shown this once."""
        if ttl_s <= 0 or uses < 1:
            raise ValueError("an invite needs a positive lifetime and at least one use")
        code = secrets.token_urlsafe(_TOKEN_BYTES)
        now = time.time()
        with self._lock:
            self._db.execute(
                "INSERT INTO invites VALUES (?, ?, ?, ?)", (_digest(code), now + ttl_s, uses, now)
            )
        return code

    def invites(self) -> list[InviteRecord]:
        """Invite codes that still work (each named by its digest's first characters)."""
        with self._lock:
            rows = self._db.execute(
                "SELECT code_digest, expires_at, uses_left FROM invites "
                "WHERE uses_left > 0 AND expires_at > ? ORDER BY expires_at",
                (time.time(),),
            ).fetchall()
        return [InviteRecord(digest[:8], expires, uses) for digest, expires, uses in rows]

    # --- refresh tokens -----------------------------------------------------------

    def issue_refresh_token(
        self, user_id: str, ttl_s: float = REFRESH_TTL_S, family: str | None = None
    ) -> str:
        """A new refresh token for ``user_id``: a new sign-in, or the next of ``family``."""
        token = secrets.token_urlsafe(_TOKEN_BYTES)
        with self._lock:
            self._db.execute(
                "INSERT INTO refresh_tokens VALUES (?, ?, ?, ?, 0)",
                (_digest(token), family or secrets.token_hex(16), user_id, time.time() + ttl_s),
            )
        return token

    def spend_refresh_token(
        self, token: str, ttl_s: float = REFRESH_TTL_S
    ) -> tuple[UserRecord, str]:
        """The account ``token`` signs in and the token that replaces it. Raises
        ``unauthorized`` (unknown or signed out), ``token_expired``, or ``token_revoked``
        when it was spent before (the whole sign-in is ended)."""
        digest = _digest(token)
        now = time.time()
        with self._lock:
            self._db.execute("BEGIN IMMEDIATE")
            try:
                row = self._db.execute(
                    "SELECT r.family, r.user_id, r.expires_at, r.spent, u.name, u.created_at "
                    "FROM refresh_tokens r JOIN users u ON u.user_id = r.user_id "
                    "WHERE r.token_digest = ?",
                    (digest,),
                ).fetchone()
                if row is None:
                    raise SignalingError(
                        ErrorCode.UNAUTHORIZED, "this sign-in has ended; sign in again"
                    )
                family, user_id, expires_at, spent, name, created_at = row
                if spent:
                    self._db.execute("DELETE FROM refresh_tokens WHERE family = ?", (family,))
                    self._db.execute("COMMIT")
                    raise SignalingError(
                        ErrorCode.TOKEN_REVOKED,
                        "this refresh token was used before (a copy?); the sign-in is ended",
                    )
                if expires_at <= now:
                    raise SignalingError(ErrorCode.TOKEN_EXPIRED, "this sign-in has expired")
                self._db.execute(
                    "UPDATE refresh_tokens SET spent = 1 WHERE token_digest = ?", (digest,)
                )
                new = secrets.token_urlsafe(_TOKEN_BYTES)
                self._db.execute(
                    "INSERT INTO refresh_tokens VALUES (?, ?, ?, ?, 0)",
                    (_digest(new), family, user_id, now + ttl_s),
                )
                # Spent tokens are kept to recognise a replay; expired ones are not needed.
                self._db.execute("DELETE FROM refresh_tokens WHERE expires_at <= ?", (now,))
            except BaseException:
                if self._db.in_transaction:
                    self._db.execute("ROLLBACK")
                raise
            self._db.execute("COMMIT")
        return UserRecord(user_id, name, created_at), new

    def end_sign_in(self, token: str, *, everywhere: bool = False) -> str | None:
        """End the sign-in ``token`` belongs to (``everywhere``: every sign-in of its
        user); the user ID, or None when the token is unknown."""
        with self._lock:
            row = self._db.execute(
                "SELECT family, user_id FROM refresh_tokens WHERE token_digest = ?",
                (_digest(token),),
            ).fetchone()
            if row is None:
                return None
            family, user_id = row
            if everywhere:
                self._db.execute("DELETE FROM refresh_tokens WHERE user_id = ?", (user_id,))
            else:
                self._db.execute("DELETE FROM refresh_tokens WHERE family = ?", (family,))
        return str(user_id)

    def end_all_sign_ins(self, user_id: str) -> None:
        """End every sign-in of ``user_id`` (their refresh tokens)."""
        with self._lock:
            self._db.execute("DELETE FROM refresh_tokens WHERE user_id = ?", (user_id,))


__all__ = ["AccountDb", "InviteRecord", "UserRecord", "default_hasher"]
