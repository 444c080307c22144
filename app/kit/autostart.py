"""Starting Parley when the person logs in: an XDG autostart entry
(``$XDG_CONFIG_HOME/autostart/parley.desktop``), the freedesktop way GNOME, KDE, Xfce and
the others read at log-in. Written when the preference is turned on, removed when off.
"""

from __future__ import annotations

import os
import sys
from pathlib import Path

__all__ = ["autostart_file", "launch_command", "set_autostart"]

_ENTRY = """[Desktop Entry]
Type=Application
Name=Parley
Comment=Desktop calls and audio rooms
Exec={command}
Icon=parley
Terminal=false
X-GNOME-Autostart-enabled=true
"""


def autostart_file(environ: dict[str, str] | None = None) -> Path:
    """Where the autostart entry lives for this user."""
    env = os.environ if environ is None else environ
    config_home = env.get("XDG_CONFIG_HOME") or str(Path.home() / ".config")
    return Path(config_home) / "autostart" / "parley.desktop"


def launch_command() -> str:
    """How this Parley is started: its ``parley`` program beside the interpreter (the
    installer's ``/usr/bin/parley``, a virtual environment's ``bin/parley``)."""
    beside = Path(sys.executable).parent / "parley"
    if beside.is_file():
        return str(beside)
    return f"{sys.executable} -m parley_desktop"


def set_autostart(on: bool, command: str | None = None, path: Path | None = None) -> None:
    """Write (``on``) or remove the autostart entry; raises ``OSError`` if it cannot."""
    target = path or autostart_file()
    if on:
        target.parent.mkdir(parents=True, exist_ok=True)
        target.write_text(_ENTRY.format(command=command or launch_command()), encoding="utf-8")
    else:
        target.unlink(missing_ok=True)
