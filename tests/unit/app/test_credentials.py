"""Where a server's sign-in is kept: the desktop's keyring when it answers, else a file
only this user can read, with a warning; and the server addresses people type."""

from __future__ import annotations

import stat
from collections.abc import Iterator
from pathlib import Path

import keyring
import keyring.backend
import keyring.errors
import pytest

from app.kit.account import SignInError
from app.kit.credentials import FileStore, KeyringStore, open_credentials, sign_in_key
from app.kit.sign_in_request import normalize_server_url


class MemoryKeyring(keyring.backend.KeyringBackend):
    """A keyring backend in memory: the desktop's Secret Service stands behind this API."""

    priority = 10

    def __init__(self) -> None:
        self.entries: dict[tuple[str, str], str] = {}

    def get_password(self, service: str, username: str) -> str | None:
        return self.entries.get((service, username))

    def set_password(self, service: str, username: str, password: str) -> None:
        self.entries[(service, username)] = password

    def delete_password(self, service: str, username: str) -> None:
        if self.entries.pop((service, username), None) is None:
            raise keyring.errors.PasswordDeleteError(username)


class LockedKeyring(MemoryKeyring):
    def get_password(self, service: str, username: str) -> str | None:
        raise keyring.errors.KeyringLocked("the login keyring is locked")


@pytest.fixture
def restore_keyring() -> Iterator[None]:
    before = keyring.get_keyring()
    yield
    keyring.set_keyring(before)


@pytest.mark.usefixtures("restore_keyring")
def test_an_unlocked_keyring_is_used_and_nothing_is_written_to_disk(tmp_path: Path) -> None:
    backend = MemoryKeyring()
    keyring.set_keyring(backend)
    credentials = open_credentials(tmp_path)
    assert isinstance(credentials.store, KeyringStore)
    assert credentials.warning == ""
    key = sign_in_key("https://parley.example/", "alice")
    credentials.store.set(key, "refresh-1")
    assert backend.entries == {("parley", "refresh https://parley.example alice"): "refresh-1"}
    credentials.store.delete(key)
    credentials.store.delete(key)  # already gone: fine
    assert credentials.store.get(key) is None
    assert list(tmp_path.iterdir()) == []


@pytest.mark.usefixtures("restore_keyring")
@pytest.mark.parametrize("backend", [LockedKeyring(), None], ids=["locked", "none"])
def test_without_a_usable_keyring_a_private_file_and_a_warning(
    tmp_path: Path, backend: MemoryKeyring | None
) -> None:
    if backend is not None:
        keyring.set_keyring(backend)
    else:
        from keyring.backends import fail

        keyring.set_keyring(fail.Keyring())  # type: ignore[no-untyped-call]
    credentials = open_credentials(tmp_path / "parley")
    assert isinstance(credentials.store, FileStore)
    assert str(tmp_path / "parley" / "sign-ins.json") in credentials.warning
    credentials.store.set("k", "v")
    path = tmp_path / "parley" / "sign-ins.json"
    assert stat.S_IMODE(path.stat().st_mode) == 0o600
    assert stat.S_IMODE(path.parent.stat().st_mode) == 0o700
    assert FileStore(path).get("k") == "v"


def test_a_damaged_file_starts_afresh(tmp_path: Path) -> None:
    path = tmp_path / "sign-ins.json"
    path.write_text("{not json")
    store = FileStore(path)
    assert store.get("k") is None
    store.set("k", "v")
    assert store.get("k") == "v"


@pytest.mark.parametrize(
    ("typed", "url"),
    [
        ("parley.example.org", "https://parley.example.org"),
        (" parley.example.org:8719/ ", "https://parley.example.org:8719"),
        ("http://192.168.1.5:8719", "http://192.168.1.5:8719"),
        ("https://[::1]:8719", "https://[::1]:8719"),
    ],
)
def test_server_addresses_as_people_type_them(typed: str, url: str) -> None:
    assert normalize_server_url(typed) == url


@pytest.mark.parametrize(
    "typed", ["", "ftp://host", "https://host/path", "https://host:port", "https://"]
)
def test_what_is_not_a_server_address(typed: str) -> None:
    with pytest.raises(SignInError):
        normalize_server_url(typed)
