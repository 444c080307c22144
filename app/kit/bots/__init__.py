"""Headless kit clients (bots) for tests and demos: calls (:class:`Bot`) and audio rooms
(:class:`RoomBot`). They drive the public kit API with synthetic devices and no Qt, and
record every kit event they see."""

from __future__ import annotations

from app.kit.bots.audio_room import RoomBot
from app.kit.bots.call import Answer, Bot
from app.kit.bots.recorder import EventRecorder, SeenEvent

__all__ = ["Answer", "Bot", "EventRecorder", "RoomBot", "SeenEvent"]
