"""Preferences: saved on change, told to followers, and a bad stored value costs only
that one preference its setting."""

from __future__ import annotations

from app.kit.devices.settings import MemoryStorage
from app.kit.preferences import Preferences, PreferenceStore, ThemeChoice


def test_a_change_is_saved_and_told_and_read_back() -> None:
    storage = MemoryStorage()
    store = PreferenceStore(storage)
    assert store.current == Preferences()
    told: list[Preferences] = []
    store.subscribe(told.append)
    store.update(do_not_disturb=True, theme=ThemeChoice.DARK)
    assert told == [Preferences(do_not_disturb=True, theme=ThemeChoice.DARK)]
    assert storage.data["do_not_disturb"] == "true"
    assert storage.data["theme"] == "dark"
    again = PreferenceStore(storage)
    assert again.current == Preferences(do_not_disturb=True, theme=ThemeChoice.DARK)
    store.update(do_not_disturb=True)  # no change: nobody is told
    assert len(told) == 1


def test_a_bad_stored_value_falls_back_for_that_preference_alone() -> None:
    storage = MemoryStorage(
        {"theme": "purple", "auto_answer": "maybe", "keep_running": "false", "extra": "x"}
    )
    current = PreferenceStore(storage).current
    assert current == Preferences(keep_running=False)
