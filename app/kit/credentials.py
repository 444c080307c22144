"""Where the app keeps a server's refresh token between runs (no Qt).

The desktop's keyring (Secret Service, macOS Keychain, Windows Credential Locker,
through ``keyring``) when one is there and unlocked; otherwise a file only this user
can read (0600) in Parley's config folder, and a warning the window shows, because a copy
of that file signs in as you until you sign out. A password is never stored, nor a
server's secret: only the refresh token, which signing out ends on the server.

Keyring calls may block (an unlock prompt, D-Bus): the async functions run them in a
worker thread.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import logging
import os
from dataclasses import dataclass
from pathlib import Path
from typing import Protocol

log = logging.getLogger("parley.credentials")

SERVICE = "parley"
FILE_NAME = "sign-ins.json"


class SecretStore(Protocol):
    """Keeps small secrets by key."""

    def get(self, key: str) -> str | None: ...

    def set(self, key: str, value: str) -> None: ...

    def delete(self, key: str) -> None: ...


class KeyringStore:
    """The desktop's keyring."""

    def get(self, key: str) -> str | None:
        import keyring

        return keyring.get_password(SERVICE, key)

    def set(self, key: str, value: str) -> None:
        import keyring

        keyring.set_password(SERVICE, key, value)

    def delete(self, key: str) -> None:
        import keyring
        import keyring.errors

        with contextlib.suppress(keyring.errors.PasswordDeleteError):
            keyring.delete_password(SERVICE, key)


class FileStore:
    """A JSON file readable by this user alone (the keyring's stand-in)."""

    def __init__(self, path: Path) -> None:
        self.path = path

    def get(self, key: str) -> str | None:
        value = self._read().get(key)
        return value if isinstance(value, str) else None

    def set(self, key: str, value: str) -> None:
        entries = self._read()
        entries[key] = value
        self._write(entries)

    def delete(self, key: str) -> None:
        entries = self._read()
        if entries.pop(key, None) is not None:
            self._write(entries)

    def _read(self) -> dict[str, object]:
        try:
            data = json.loads(self.path.read_text(encoding="utf-8"))
        except FileNotFoundError:
            return {}
        except (OSError, ValueError):
            log.warning("%s is unreadable; starting it afresh", self.path)
            return {}
        return data if isinstance(data, dict) else {}

    def _write(self, entries: dict[str, object]) -> None:
        self.path.parent.mkdir(mode=0o700, parents=True, exist_ok=True)
        temporary = self.path.with_name(f".{self.path.name}.{os.getpid()}")
        fd = os.open(temporary, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
        with os.fdopen(fd, "w", encoding="utf-8") as file:
            json.dump(entries, file)
        os.replace(temporary, self.path)  # never half-written


@dataclass(frozen=True)
class Credentials:
    """The store in use, and what the user should know about it ("" when all is well)."""

    store: SecretStore
    warning: str = ""


def open_credentials(config_dir: Path) -> Credentials:
    """The keyring if it answers, else the private file with a warning (blocking:
    see :func:`open_credentials_async`)."""
    keyring_store = KeyringStore()
    try:
        import keyring
        from keyring.backends import fail

        if isinstance(keyring.get_keyring(), fail.Keyring):
            raise RuntimeError("no keyring service is running")
        keyring_store.get("probe")  # locked, or no D-Bus session: raises here
    except Exception as exc:
        path = config_dir / FILE_NAME
        log.info("no usable keyring (%s); sign-ins are kept in %s", exc, path)
        return Credentials(
            FileStore(path),
            f"No unlocked keyring: your sign-in is kept in {path}, a file only you can read.",
        )
    return Credentials(keyring_store)


async def open_credentials_async(config_dir: Path) -> Credentials:
    """:func:`open_credentials` in a worker thread (a keyring may prompt or block)."""
    return await asyncio.to_thread(open_credentials, config_dir)


def sign_in_key(url: str, user_id: str) -> str:
    """The key of one user's sign-in on one server."""
    return f"refresh {url.rstrip('/')} {user_id}"


__all__ = [
    "Credentials",
    "FileStore",
    "KeyringStore",
    "SecretStore",
    "open_credentials",
    "open_credentials_async",
    "sign_in_key",
]
