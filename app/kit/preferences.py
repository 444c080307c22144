"""The person's preferences for how Parley behaves (no Qt): the settings window edits
them, the parts that act on them follow.

Kept in a :class:`~app.kit.devices.settings.SettingsStorage` (a ``QSettings`` group in
the app, memory in tests). A stored value that is not what it should be (an older
version, a hand-edited file) falls back to the default for that preference alone.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import asdict, dataclass, fields, replace
from enum import StrEnum
from typing import TYPE_CHECKING, Any

from app.kit.listeners import Listeners, Unsubscribe

if TYPE_CHECKING:  # the devices module brings the media stack: not before the first page
    from app.kit.devices.settings import SettingsStorage

__all__ = ["PreferenceStore", "Preferences", "ThemeChoice"]


class ThemeChoice(StrEnum):
    """The colours: the desktop's (``auto``), light or dark."""

    AUTO = "auto"
    LIGHT = "light"
    DARK = "dark"


@dataclass(frozen=True)
class Preferences:
    """What the settings window shows."""

    theme: ThemeChoice = ThemeChoice.AUTO
    #: A call ringing while the window is away is shown as a desktop notification.
    call_notifications: bool = True
    #: Calls are refused as busy, without a sound; they are kept as missed calls.
    do_not_disturb: bool = False
    #: A call is answered by itself after a short ring (not while in an audio room).
    auto_answer: bool = False
    #: The microphone is on only while Space is held (calls, and seats in audio rooms).
    push_to_talk: bool = False
    #: Closing the window leaves Parley running in the tray (where there is one).
    keep_running: bool = True
    #: Parley starts with its window hidden, in the tray (where there is one).
    start_in_tray: bool = False
    #: Parley starts when the person logs in (an XDG autostart entry).
    start_at_login: bool = False


def _parse(value: object, default: Any) -> Any:
    """``value`` as read back from storage, as the type of ``default``; else ``default``."""
    if isinstance(default, bool):
        if value in (True, "true", "1", 1):
            return True
        if value in (False, "false", "0", 0):
            return False
        return default
    if isinstance(default, ThemeChoice):
        try:
            return ThemeChoice(str(value))
        except ValueError:
            return default
    return default


class PreferenceStore:
    """The current :class:`Preferences`, saved on every change, and who follows them."""

    def __init__(self, storage: SettingsStorage) -> None:
        self._storage = storage
        self._listeners: Listeners[[Preferences]] = Listeners("preferences")
        self.current = self._load(storage.load())

    @staticmethod
    def _load(saved: Mapping[str, object]) -> Preferences:
        defaults = Preferences()
        values: dict[str, Any] = {
            f.name: _parse(saved[f.name], getattr(defaults, f.name))
            for f in fields(Preferences)
            if f.name in saved
        }
        return replace(defaults, **values)

    def update(self, **changes: Any) -> Preferences:
        """Change some preferences (``update(do_not_disturb=True)``), save, tell followers."""
        changed = replace(self.current, **changes)
        if changed == self.current:
            return changed
        self.current = changed
        self._storage.save(
            {key: str(value).lower() if isinstance(value, bool) else str(value)
             for key, value in asdict(changed).items()}
        )  # fmt: skip
        self._listeners.emit(changed)
        return changed

    def subscribe(self, listener: Callable[[Preferences], None]) -> Unsubscribe:
        """Hear of every change (not of the current value: read :attr:`current`)."""
        return self._listeners.subscribe(listener)
