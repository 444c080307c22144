"""``parley-server user ...`` and ``parley-server invite``: the admin's commands on the
account database, and where a server keeps its data (``--data-dir``)."""

from __future__ import annotations

import argparse
import getpass
import os
import re
import sys
import time
from collections.abc import Mapping
from pathlib import Path

from signaling.errors import SignalingError
from signaling.protocol_accounts import MAX_PASSWORD_LENGTH, MIN_PASSWORD_LENGTH
from signaling.server.accounts import INVITE_TTL_S, AccountDb
from signaling.wire import MAX_ID_LENGTH, normalize_name

ENV_DATA_DIR = "PARLEY_DATA_DIR"
ACCOUNTS_FILE = "accounts.db"
SECRET_FILE = "secret"
_ID_RE = re.compile(r"[A-Za-z0-9_.@:-]+")
_DURATION_RE = re.compile(r"(\d+)\s*([smhd]?)")
_UNIT_S = {"": 1, "s": 1, "m": 60, "h": 3600, "d": 86400}


def default_data_dir(environ: Mapping[str, str] | None = None) -> Path:
    """``$PARLEY_DATA_DIR``, else ``$XDG_DATA_HOME/parley-server`` (``~/.local/share``)."""
    env = os.environ if environ is None else environ
    if env.get(ENV_DATA_DIR):
        return Path(env[ENV_DATA_DIR])
    base = env.get("XDG_DATA_HOME") or str(Path.home() / ".local" / "share")
    return Path(base) / "parley-server"


def parse_duration(text: str) -> int:
    """Seconds in ``"90"``, ``"30m"``, ``"12h"`` or ``"7d"``; ``ValueError`` otherwise."""
    match = _DURATION_RE.fullmatch(text.strip())
    if match is None or int(match.group(1)) <= 0:
        raise ValueError(f"{text!r} is not a duration such as 30m, 12h or 7d")
    return int(match.group(1)) * _UNIT_S[match.group(2)]


def add_commands(
    sub: argparse._SubParsersAction[argparse.ArgumentParser],
) -> list[argparse.ArgumentParser]:
    """The ``user`` and ``invite`` sub-commands; the parsers that take the last words."""
    user = sub.add_parser("user", help="manage accounts (see `parley-server user -h`)")
    actions = user.add_subparsers(dest="action", required=True)
    add = actions.add_parser(
        "add", help="create an account; the password is read from stdin or asked for"
    )
    add.add_argument("user_id", metavar="ID")
    add.add_argument("--name", help="display name (default: the ID)")
    listing = actions.add_parser("list", help="list the accounts")
    remove = actions.add_parser("remove", help="delete an account and end its sign-ins")
    remove.add_argument("user_id", metavar="ID")
    passwd = actions.add_parser(
        "passwd", help="set a new password (read from stdin or asked for); ends its sign-ins"
    )
    passwd.add_argument("user_id", metavar="ID")
    invite = sub.add_parser("invite", help="print a new invite code (sign-up with it)")
    invite.add_argument(
        "--ttl", default="7d", help="how long it works: 30m, 12h, 7d ... (default 7d)"
    )
    invite.add_argument("--uses", type=int, default=1, help="accounts it may create (1)")
    invite.add_argument("--list", action="store_true", help="list the codes that still work")
    return [add, listing, remove, passwd, invite]


def run_command(args: argparse.Namespace, data_dir: Path) -> int:
    """Run ``user ...`` or ``invite``; the exit status."""
    try:
        accounts = AccountDb(data_dir / ACCOUNTS_FILE)
    except OSError as exc:
        return _fail(f"cannot open {data_dir / ACCOUNTS_FILE}: {exc}")
    try:
        if args.command == "invite":
            return _invite(accounts, args)
        return _user(accounts, args)
    except SignalingError as exc:
        return _fail(exc.message)
    except ValueError as exc:
        return _fail(str(exc))
    finally:
        accounts.close()


def _user(accounts: AccountDb, args: argparse.Namespace) -> int:
    if args.action == "list":
        print(f"parley-server: the accounts in {accounts.path}", file=sys.stderr)
        for user in accounts.users():
            created = time.strftime("%Y-%m-%d", time.localtime(user.created_at))
            print(f"{user.user_id}\t{user.name}\t{created}")
        return 0
    user_id = args.user_id
    if len(user_id) > MAX_ID_LENGTH or not _ID_RE.fullmatch(user_id):
        raise ValueError(f"a user ID is 1-{MAX_ID_LENGTH} characters of A-Z a-z 0-9 _ . @ : -")
    if args.action == "remove":
        accounts.remove_user(user_id)
        print(f"removed {user_id} from {accounts.path}")
    elif args.action == "add":
        name = normalize_name(args.name or user_id)
        accounts.add_user(user_id, name, _read_password())
        print(f"added {user_id} ({name}) to {accounts.path}")
    else:
        accounts.set_password(user_id, _read_password())
        print(f"changed the password of {user_id} in {accounts.path}; its sign-ins are ended")
    return 0


def _invite(accounts: AccountDb, args: argparse.Namespace) -> int:
    if args.list:
        for invite in accounts.invites():
            until = time.strftime("%Y-%m-%d %H:%M", time.localtime(invite.expires_at))
            print(f"{invite.code_prefix}…\tuntil {until}\t{invite.uses_left} use(s) left")
        return 0
    ttl = parse_duration(args.ttl) if args.ttl else INVITE_TTL_S
    print(accounts.create_invite(ttl, args.uses))
    # The code alone on stdout (scripts read it); which server it is for, for people:
    # without --data-dir it is the caller's own data directory, not a service's.
    print(f"parley-server: an invite for the accounts in {accounts.path}", file=sys.stderr)
    return 0


def _read_password() -> str:
    """One line from stdin when it is not a terminal (scripts), else asked twice."""
    if sys.stdin.isatty():
        password = getpass.getpass("Password: ")
        if getpass.getpass("Again: ") != password:
            raise ValueError("the two passwords differ")
    else:
        password = sys.stdin.readline().rstrip("\r\n")
    if not MIN_PASSWORD_LENGTH <= len(password) <= MAX_PASSWORD_LENGTH:
        raise ValueError(f"a password is {MIN_PASSWORD_LENGTH} to {MAX_PASSWORD_LENGTH} characters")
    return password


def _fail(message: str) -> int:
    print(f"parley-server: {message}", file=sys.stderr)
    return 2


__all__ = ["add_commands", "default_data_dir", "parse_duration", "run_command"]
