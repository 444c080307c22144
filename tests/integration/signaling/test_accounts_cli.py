"""``parley-server user ...`` and ``parley-server invite``: the admin's commands, on the
database a running server signs people in with."""

from __future__ import annotations

from pathlib import Path

import pytest

from signaling.accounts_client import AccountsClient
from signaling.errors import ErrorCode, SignalingError
from signaling.server.accounts import AccountDb
from signaling.server.app import start_server
from signaling.server.cli_accounts import parse_duration
from signaling.server.hub import ServerConfig
from tests.support.server_process import run_cli
from tests.support.signaling import TEST_SECRET

pytestmark = pytest.mark.timeout(60)


def cli(data: Path, *args: str, stdin: str | None = None) -> tuple[int, str, str]:
    done = run_cli(*args, "--data-dir", str(data), stdin=stdin)
    return done.returncode, done.stdout, done.stderr


def test_an_admin_adds_lists_changes_and_removes_users(tmp_path: Path) -> None:
    assert (
        cli(tmp_path, "user", "add", "alice", "--name", "Alice A", stdin="first-password\n")[0] == 0
    )
    added = cli(tmp_path, "user", "add", "bob", stdin="bobs-password\n")
    assert added[0] == 0
    # Which database it went to is said: without --data-dir it is the caller's own.
    assert added[1].strip() == f"added bob (bob) to {tmp_path / 'accounts.db'}"
    status, out, _ = cli(tmp_path, "user", "list")
    assert status == 0
    assert [line.split("\t")[:2] for line in out.splitlines()] == [
        ["alice", "Alice A"],
        ["bob", "bob"],
    ]
    db = AccountDb(tmp_path / "accounts.db")
    try:
        assert db.check_password("alice", "first-password") is not None
        refresh = db.issue_refresh_token("alice")
        status, out, _ = cli(tmp_path, "user", "passwd", "alice", stdin="second-password\n")
        assert status == 0
        assert "sign-ins are ended" in out
        assert db.check_password("alice", "first-password") is None
        assert db.check_password("alice", "second-password") is not None
        with pytest.raises(SignalingError):
            db.spend_refresh_token(refresh)
        assert cli(tmp_path, "user", "remove", "bob")[0] == 0
        assert [u.user_id for u in db.users()] == ["alice"]
    finally:
        db.close()


@pytest.mark.parametrize(
    ("args", "stdin", "message"),
    [
        (("user", "add", "alice"), "short\n", "a password is 8 to 1024 characters"),
        (("user", "add", "al ice"), "long enough\n", "a user ID is 1-64 characters"),
        (("user", "add", "taken"), "long enough\n", "the user ID 'taken' is taken"),
        (("user", "remove", "nobody"), None, "no user 'nobody'"),
        (("user", "passwd", "nobody"), "long enough\n", "no user 'nobody'"),
        (("invite", "--ttl", "soon"), None, "is not a duration"),
        (("invite", "--uses", "0"), None, "at least one use"),
    ],
)
def test_mistakes_are_one_clear_line_and_change_nothing(
    tmp_path: Path, args: tuple[str, ...], stdin: str | None, message: str
) -> None:
    assert cli(tmp_path, "user", "add", "taken", stdin="long enough\n")[0] == 0
    status, _, err = cli(tmp_path, *args, stdin=stdin)
    assert status == 2
    assert message in err
    assert len(err.strip().splitlines()) == 1
    assert cli(tmp_path, "user", "list")[1].split("\t")[0] == "taken"
    assert cli(tmp_path, "invite", "--list")[1] == ""


async def test_an_invite_printed_by_the_admin_signs_up_on_the_running_server(
    tmp_path: Path,
) -> None:
    status, code, _ = cli(tmp_path, "invite", "--ttl", "2h", "--uses", "2")
    assert status == 0
    listed = cli(tmp_path, "invite", "--list")[1]
    assert "2 use(s) left" in listed
    assert code.strip() not in listed  # only a prefix of its digest is shown
    db = AccountDb(tmp_path / "accounts.db")
    server = await start_server(ServerConfig(secret=TEST_SECRET), accounts=db)
    try:
        client = AccountsClient(server.url)
        pair = await client.sign_up("newcomer", "New Comer", "long enough", code.strip())
        assert pair.user.name == "New Comer"
        assert "1 use(s) left" in cli(tmp_path, "invite", "--list")[1]
        # Removed by the admin while signed in: the refresh token stops working.
        assert cli(tmp_path, "user", "remove", "newcomer")[0] == 0
        with pytest.raises(SignalingError) as ended:
            await client.refresh(pair.refresh_token)
        assert ended.value.code is ErrorCode.UNAUTHORIZED
    finally:
        await server.stop()
        db.close()


@pytest.mark.parametrize(
    ("text", "seconds"), [("90", 90), ("30m", 1800), ("12h", 43200), ("7d", 604800)]
)
def test_durations(text: str, seconds: int) -> None:
    assert parse_duration(text) == seconds


@pytest.mark.parametrize("text", ["", "0", "-5m", "5w", "m"])
def test_bad_durations(text: str) -> None:
    with pytest.raises(ValueError, match="is not a duration"):
        parse_duration(text)
