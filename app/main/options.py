"""How one Parley is put together (:class:`Options`), and the ``parley`` command line."""

from __future__ import annotations

import argparse
import re
from collections.abc import Awaitable, Callable, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING

from PySide6.QtCore import QSettings
from PySide6.QtWidgets import QMenu

from app.kit.local_server import ServerHandle
from widgets.theme import Theme

if TYPE_CHECKING:
    from PySide6.QtCore import QPoint

    from app.kit.call.service import CallConfigFactory
    from app.kit.config import CallInvitationConfig
    from app.kit.credentials import Credentials
    from app.kit.media import MediaOptions
    from app.kit.notifications import CallNotifier

__all__ = ["MenuPopper", "Options", "parse_args"]

MenuPopper = Callable[[QMenu, "QPoint"], None]
PROFILE_NAME = re.compile(r"[A-Za-z0-9_-]{1,32}")


@dataclass
class Options:
    """How one Parley is put together; :func:`parse_args` makes them for ``parley``.

    Tests give their own: a server already running, synthetic devices, settings and data
    in a temporary folder, no sounds, short timeouts.
    """

    theme: Theme = Theme.AUTO
    #: Sign in at once as this user (and ``name``), then call ``call`` (user IDs).
    user_id: str = ""
    name: str = ""
    call: list[str] = field(default_factory=list)
    #: A remote server's URL (``--server``); the local server otherwise.
    server_url: str | None = None
    #: A CA file (PEM) for a remote server's certificate (``--ca-file``).
    ca_file: str | None = None
    #: A server already open, or how to open one (tests): instead of the local server.
    server: ServerHandle | Callable[[], Awaitable[ServerHandle]] | None = None
    #: How a call ringing while the window is away is announced: the desktop's
    #: notifications by default (tests: none, or one on a private session bus).
    notifier: CallNotifier | None = None
    #: Where sign-ins to servers are kept (tests: a file in a temporary folder); the
    #: desktop's keyring, else a private file, by default.
    credentials: Credentials | None = None
    #: The settings store (device choices, the last sign-in); the user's own by default.
    settings: QSettings | None = None
    #: Where the call history lives; ``$PARLEY_DATA_DIR`` or the platform's app data.
    data_dir: Path | None = None
    #: What the devices' choices apply to (``MediaOptions(synthetic=True)`` in tests).
    media: MediaOptions | None = None
    sounds: bool = True
    invitation: CallInvitationConfig | None = None
    call_config: CallConfigFactory | None = None
    #: How long "Declined", "Busy" or "No answer" stays on the outgoing page.
    outcome_linger_ms: int = 1500
    #: How pages pop their menus (``QMenu.popup`` when None; tests record them).
    menu_popper: MenuPopper | None = None
    #: Run the ``echo`` user when this window hosts the local server.
    echo: bool = True
    #: Quit on SIGINT/SIGTERM (the app); tests leave signals to pytest.
    handle_signals: bool = True
    #: A ``parley://`` link to open once signed in (the desktop passes it on the command line).
    link: str = ""
    #: A named profile (``--profile``): its own settings, history and one running Parley.
    profile: str = ""


def parse_args(argv: Sequence[str]) -> tuple[Options, str, list[str]]:
    """Parley's options, the logging level, and whatever is left for Qt (``-platform``)."""
    parser = argparse.ArgumentParser(
        prog="parley",
        usage="%(prog)s [options] [parley://call/ID | parley://room/ID]",
        description="Parley: desktop calls and audio rooms. A parley:// link opens in the "
        "running Parley (the person to call, or the room to join, filled in).",
    )
    parser.add_argument("--user-id", help="sign in at once as this user ID")
    parser.add_argument("--name", help="display name for --user-id (default: the user ID)")
    parser.add_argument(
        "--server",
        metavar="URL",
        help="sign in to this parley-server with your account there (the sign-in page "
        "offers it under 'A server'); with $PARLEY_SECRET the app mints its own tokens for "
        "it instead",
    )
    parser.add_argument(
        "--ca-file",
        metavar="PEM",
        help="verify an https --server's certificate with this CA instead of the system's "
        "(a self-hosted server; default: $PARLEY_CA_FILE)",
    )
    parser.add_argument(
        "--theme", choices=[t.value for t in Theme], default=Theme.AUTO.value, help="colours"
    )
    parser.add_argument(
        "--call",
        metavar="IDS",
        help="with --user-id: place a video call to these user IDs once signed in "
        "(e.g. --call echo to check your devices)",
    )
    parser.add_argument(
        "--profile",
        metavar="NAME",
        help="use a separate profile (settings, Recent calls, sign-in): e.g. a second person "
        "on this computer; one Parley runs per profile",
    )
    parser.add_argument("--log-level", default="WARNING", help="logging level")
    # A link is told by its scheme, not its position: Qt's own options (-platform NAME)
    # take values that a positional argument would swallow.
    links = [arg for arg in argv if arg.lower().startswith("parley:")]
    args, qt_args = parser.parse_known_args([arg for arg in argv if arg not in links])
    if len(links) > 1:
        parser.error("one parley:// link at a time")
    if links:
        from app.kit.links import LinkError, parse_link

        try:
            parse_link(links[0])
        except LinkError as error:
            parser.error(str(error))
    if args.profile is not None and not PROFILE_NAME.fullmatch(args.profile):
        parser.error("a profile name is 1–32 letters, digits, '-' or '_'")
    calls: list[str] = []
    if args.call:
        from app.kit.identity import parse_user_ids

        calls = parse_user_ids(args.call)
    options = Options(
        theme=Theme(args.theme),
        user_id=args.user_id or "",
        name=args.name or "",
        call=calls,
        server_url=args.server,
        ca_file=args.ca_file,
        link=links[0] if links else "",
        profile=args.profile or "",
    )
    return options, args.log_level, qt_args
