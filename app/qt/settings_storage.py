"""Choices kept between runs in a ``QSettings`` group: the kit's ``SettingsStorage``
for the app (device choices, preferences)."""

from __future__ import annotations

from collections.abc import Mapping

from PySide6.QtCore import QSettings

__all__ = ["QSettingsStorage"]


class QSettingsStorage:
    """Keeps choices in a ``QSettings`` group (``devices`` by default)."""

    def __init__(self, settings: QSettings, group: str = "devices") -> None:
        self._settings = settings
        self._group = group

    def load(self) -> Mapping[str, object]:
        s = self._settings
        s.beginGroup(self._group)
        try:
            return {key: s.value(key) for key in s.childKeys()}
        finally:
            s.endGroup()

    def save(self, data: Mapping[str, str]) -> None:
        s = self._settings
        s.beginGroup(self._group)
        try:
            s.remove("")  # the whole group: keys no longer written must not linger
            for key, value in data.items():
                s.setValue(key, value)
        finally:
            s.endGroup()
        s.sync()
