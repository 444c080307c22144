"""The console scripts of an installed Parley: each finds Parley's packages, then runs."""

from __future__ import annotations

from parley_desktop import activate

__all__ = ["parley", "parley_server"]


def parley() -> int:
    """The ``parley`` program: the desktop app."""
    activate()
    from app.main import main

    return main()


def parley_server() -> int:
    """The ``parley-server`` program: the signaling server and its admin commands."""
    activate()
    from signaling.server.cli import main

    return main()
