"""Qt test support: the plugin's menu recorder with a way to choose an entry.

Waiting in UI coroutines is :func:`app.testing.wait_until`: ``qtbot.waitUntil`` would
run a nested Qt loop, which steps other asyncio tasks while the test's own task is
executing, and asyncio refuses that ("Cannot enter into task ...").
"""

from __future__ import annotations

from PySide6.QtWidgets import QMenu

from app.testing import MenuRecorder as BaseMenuRecorder


class MenuRecorder(BaseMenuRecorder):
    """The plugin's menu recorder (a page's ``menu_popper``), with a way to choose."""

    def choose(self, value: str) -> None:
        """Trigger the last menu's entry whose data is ``value``."""
        assert self.menus, "no menu was opened"
        if not entry(self.menus[-1], value):
            entries = [a.data() for a in self.menus[-1].actions()]
            raise AssertionError(f"no {value!r} in the menu: {entries}")


def entry(menu: QMenu, value: str) -> bool:
    """Trigger the entry of ``menu`` whose data is ``value``; False when there is none."""
    for action in menu.actions():
        if action.data() == value:
            action.trigger()
            return True
    return False
