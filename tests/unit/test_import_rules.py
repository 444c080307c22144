"""Imports point one way: widgets → app → {signaling, media}; in app, main → qt → kit.

The path of a file says what it may import (DESIGN.md); there is no per-module allow-list.
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
# What sits above app/kit inside app: the Qt adapters, the composition root, the plugin.
ABOVE_KIT = {"app.qt", "app.main", "app.testing"}

#: Folder (or file) → what its modules must not import; the most specific entry applies.
RULES: dict[str, set[str]] = {
    "signaling/": QT | MEDIA_LIBS | {"media", "app", "widgets"},
    "media/": QT | WIRE_LIBS | {"signaling", "app", "widgets"},
    # Pages render the kit's values and emit intents; they never reach a presenter.
    "widgets/": MEDIA_LIBS | WIRE_LIBS | {"signaling", "media"} | ABOVE_KIT,
    # The kit is Qt-free: services, bots and tests use it headless.
    "app/kit/": QT | {"widgets"} | ABOVE_KIT,
    # The public API is the kit's: importing ``app`` brings no Qt.
    "app/__init__.py": QT | {"widgets"} | ABOVE_KIT,
    # Qt adapters know pages only as QWidgets; the composition root connects them.
    "app/qt/": {"widgets", "app.main", "app.testing"},
    # The pytest plugin builds windows through the composition root, never by hand.
    "app/testing.py": {"widgets"},
    # The composition root: the one part of app that imports widgets.
    "app/main/": {"app.testing"},
    "app/__main__.py": set(),
    # Icons and sounds: data, found by every layer, importing none.
    "resources/": QT | {"app", "widgets", "media", "signaling"},
}


def imported_modules(source: str) -> set[str]:
    """Dotted names a module imports (absolute imports only), ``from a.b import c`` → a.b.c."""
    names: set[str] = set()
    for node in ast.walk(ast.parse(source)):
        if isinstance(node, ast.Import):
            names.update(alias.name for alias in node.names)
        elif isinstance(node, ast.ImportFrom) and node.level == 0 and node.module:
            names.add(node.module)
            names.update(f"{node.module}.{alias.name}" for alias in node.names)
    return names


def forbids(rule: set[str], module: str) -> bool:
    return any(module == name or module.startswith(name + ".") for name in rule)


def rule_for(relative: str) -> set[str] | None:
    matches = [key for key in RULES if relative == key or relative.startswith(key)]
    return RULES[max(matches, key=len)] if matches else None


def python_files() -> list[str]:
    found = []
    for package in ("signaling", "media", "widgets", "app", "resources"):
        found += [p.relative_to(ROOT).as_posix() for p in sorted((ROOT / package).rglob("*.py"))]
    return found


def violations(relative: str) -> list[str]:
    rule = rule_for(relative)
    assert rule is not None, f"{relative} is in no folder with import rules: add it to RULES"
    source = (ROOT / relative).read_text(encoding="utf-8")
    return [
        f"{relative} imports {module}"
        for module in sorted(imported_modules(source))
        if forbids(rule, module)
    ]


@pytest.mark.parametrize("relative", python_files())
def test_imports_point_one_way(relative: str) -> None:
    assert violations(relative) == []


def test_the_check_sees_every_import_form() -> None:
    source = "import PySide6.QtCore\nfrom socketio import AsyncClient\nfrom . import sibling\n"
    assert imported_modules(source) == {"PySide6.QtCore", "socketio", "socketio.AsyncClient"}


def test_a_rule_names_a_package_and_everything_under_it() -> None:
    assert forbids({"app.qt"}, "app.qt.call")
    assert not forbids({"app.qt"}, "app.qtx")
    assert rule_for("app/kit/call/session.py") is RULES["app/kit/"]
    assert rule_for("app/main/wiring.py") is RULES["app/main/"]
