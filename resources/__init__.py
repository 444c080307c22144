"""Parley's icons and sounds, as package data.

They travel with the Python packages (in the wheel and in the installer), so code finds
them through :mod:`importlib.resources` wherever Parley is installed, never by a path
relative to the source tree.
"""

from __future__ import annotations

from importlib.resources import files
from pathlib import Path

__all__ = ["APP_ICON", "ICONS", "SOUNDS"]


def _folder(name: str) -> Path:
    # Qt and the WAV reader take file names, so a folder must be a real one. Parley is
    # always installed as files (pip unpacks wheels, the installer copies them); a zipped
    # install would need importlib.resources.as_file and is not supported.
    found = files(__name__) / name
    if not isinstance(found, Path) or not found.is_dir():
        raise RuntimeError(f"Parley's {name} are not installed as files ({found})")
    return found


#: The monochrome SVG icons (``resources/README.md`` lists what each is for).
ICONS = _folder("icons")
#: Ringtone, ringback and call-end sounds (16-bit mono WAV).
SOUNDS = _folder("sounds")
#: The application's own icon (window, notifications, desktop file).
APP_ICON = ICONS / "parley-app.svg"
