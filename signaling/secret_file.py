"""A signing secret kept in a private file: the embedded local server's (shared by one
user's Parley windows) and a ``parley-server``'s own (in its data directory)."""

from __future__ import annotations

import contextlib
import os
import secrets
from pathlib import Path

from signaling.auth import check_secret

# 36 random bytes are exactly 48 url-safe characters.
_SECRET_BYTES = 36


def load_or_create_secret(path: Path) -> str:
    """The secret stored at ``path``, created (0600, 48 random characters, its folder
    0700) if absent; ``ValueError`` when the file holds no usable secret."""
    with contextlib.suppress(FileNotFoundError):
        return read_secret(path)
    path.parent.mkdir(mode=0o700, parents=True, exist_ok=True)
    secret = secrets.token_urlsafe(_SECRET_BYTES)
    temporary = path.with_name(f".{path.name}.{os.getpid()}.{secrets.token_hex(4)}")
    fd = os.open(temporary, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    try:
        with os.fdopen(fd, "w", encoding="ascii") as file:
            file.write(secret + "\n")
        # link() refuses an existing target: two processes starting at once agree on
        # whichever secret was linked first, and nobody ever reads a half-written file.
        try:
            os.link(temporary, path)
        except FileExistsError:
            return read_secret(path)
    finally:
        temporary.unlink(missing_ok=True)
    return secret


def read_secret(path: Path) -> str:
    """The secret stored at ``path`` (``FileNotFoundError`` if there is none); the file
    is made private again if someone loosened it."""
    secret = path.read_text(encoding="ascii").strip()
    try:
        check_secret(secret)
    except ValueError as exc:
        raise ValueError(f"{path} does not hold a usable secret ({exc}); delete it") from None
    if path.stat().st_mode & 0o077:
        path.chmod(0o600)  # someone loosened it; a readable secret lets others sign in as us
    return secret


__all__ = ["load_or_create_secret", "read_secret"]
