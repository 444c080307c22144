"""Every user-visible string can be translated: ``tr()`` is called on ``self`` only.

``widget.tr("…")`` from a function, or ``self.window.tr("…")``, is looked up at run time
under the *other* object's class, a context the translation tools never saw, so it
stays English whatever the language. Strings outside a class use
``QCoreApplication.translate(context, text)`` with a fixed context.
"""

from __future__ import annotations

import ast
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]


def python_files() -> list[Path]:
    return sorted(p for package in ("app", "widgets") for p in (ROOT / package).rglob("*.py"))


def foreign_tr_calls(source: str) -> list[int]:
    """Lines that call ``tr`` on something other than ``self``."""
    lines = []
    for node in ast.walk(ast.parse(source)):
        if (
            isinstance(node, ast.Call)
            and isinstance(node.func, ast.Attribute)
            and node.func.attr == "tr"
            and not (isinstance(node.func.value, ast.Name) and node.func.value.id == "self")
        ):
            lines.append(node.lineno)
    return lines


@pytest.mark.parametrize("path", python_files(), ids=lambda p: str(p.relative_to(ROOT)))
def test_tr_is_called_on_self_only(path: Path) -> None:
    assert foreign_tr_calls(path.read_text(encoding="utf-8")) == []


def test_the_check_sees_a_foreign_tr_call() -> None:
    source = (
        "def f(widget):\n    return widget.tr('x')\n"
        "class A:\n    def g(self):\n        self.tr('y')\n"
    )
    assert foreign_tr_calls(source) == [2]
