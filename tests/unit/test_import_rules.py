"""Imports point one way: widgets → app → {signaling, media}; signaling and media know no Qt.

Reads the source with ``ast``, so a forbidden import fails here even if no test runs it.
"""

from __future__ import annotations

import ast
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
QT = {"PySide6", "shiboken6", "qasync"}
MEDIA_LIBS = {"aiortc", "aioice", "av", "cv2", "sounddevice"}
WIRE_LIBS = {"socketio", "engineio", "aiohttp"}

FORBIDDEN: dict[str, set[str]] = {
    "signaling": QT | MEDIA_LIBS | {"media", "app", "widgets"},
    "media": QT | WIRE_LIBS | {"signaling", "app", "widgets"},
    "app": {"widgets"},
    "widgets": MEDIA_LIBS | WIRE_LIBS | {"signaling", "media"},
}
# DESIGN.md: within app/, Qt is allowed only in the bus bridge, navigation and main.
APP_QT_ALLOWED = {
    "app/main.py",
    "app/compose/__init__.py",
    "app/compose/call_ui.py",
    "app/compose/room_ui.py",
    "app/qt_bridge.py",
    "app/navigation.py",
    "app/testing.py",
    # The call presenter: turns the Qt-free kit's changes into Qt signals (a bus bridge
    # for calls) and reads video on the Qt thread; it holds no widget.
    "app/qt_call.py",
    # The call presenter's parts (ringing views, video reader, chat feed, audio output):
    # small QObjects with their own signals, split out of app/qt_call.py; no widget.
    "app/qt_ringing.py",
    "app/qt_video.py",
    "app/qt_call_chat.py",
    "app/qt_audio_output.py",
    # The room presenter: the audio room kit's changes as Qt signals; it holds no widget.
    "app/qt_room.py",
    # The device settings presenter: lists, preview and levels as Qt signals; no widget.
    "app/qt_devices.py",
}
# The composition root and its composition package build every layer, the pages included
# (STYLE.md: one root; app/compose holds the wiring main.py would otherwise outgrow).
COMPOSITION_ROOT = "app/main.py"
COMPOSITION = "app/compose/"


def imported_roots(source: str) -> set[str]:
    """Top-level package names a module imports (absolute imports only)."""
    roots: set[str] = set()
    for node in ast.walk(ast.parse(source)):
        if isinstance(node, ast.Import):
            roots.update(alias.name.split(".")[0] for alias in node.names)
        elif isinstance(node, ast.ImportFrom) and node.level == 0 and node.module:
            roots.add(node.module.split(".")[0])
    return roots


def violations(package: str) -> list[str]:
    found = []
    for path in sorted((ROOT / package).rglob("*.py")):
        relative = path.relative_to(ROOT).as_posix()
        roots = imported_roots(path.read_text(encoding="utf-8"))
        forbidden = set(FORBIDDEN[package])
        if relative == COMPOSITION_ROOT or relative.startswith(COMPOSITION):
            forbidden.discard("widgets")
        if package == "app" and relative not in APP_QT_ALLOWED:
            forbidden |= QT
        found += [f"{relative} imports {name}" for name in sorted(roots & forbidden)]
    return found


@pytest.mark.parametrize("package", sorted(FORBIDDEN))
def test_layer_imports_point_one_way(package: str) -> None:
    assert violations(package) == []


def test_the_check_sees_every_import_form() -> None:
    source = "import PySide6.QtCore\nfrom socketio import AsyncClient\nfrom . import sibling\n"
    assert imported_roots(source) == {"PySide6", "socketio"}
