"""The built-in ``echo`` user: answers any call and sends your own audio and video back.

It runs beside the embedded local server, so a person alone can check their camera,
microphone and speakers, and see what a call looks like. It is an ordinary bot whose
"devices" are the caller's own streams, delayed.
"""

from __future__ import annotations

from aiortc.mediastreams import MediaStreamTrack

from app.kit.bots.call import Answer, Bot
from app.kit.media import LocalMedia
from app.kit.types import User
from media.delay import DelayedTrack

ECHO_USER = User("echo", "Echo test")
ECHO_DELAY_S = 1.0


class EchoMedia(LocalMedia):
    """Local media whose microphone and camera are the caller's streams, delayed."""

    def set_microphone(self, on: bool) -> None:
        """The echo has no microphone; what it sends is chosen by :meth:`play`."""

    def set_camera(self, on: bool) -> None:
        """The echo has no camera; what it sends is chosen by :meth:`show`."""

    def play(self, user_id: str, track: MediaStreamTrack) -> None:
        self.audio.replace(DelayedTrack(track, ECHO_DELAY_S))

    def show(self, user_id: str, track: MediaStreamTrack) -> None:
        self.video.replace(DelayedTrack(track, ECHO_DELAY_S))


def echo_bot(server_url: str, token: str) -> Bot:
    """A bot that answers every call as the echo user."""
    return Bot(
        server_url,
        token,
        ECHO_USER,
        on_invited=Answer.ANSWER,
        media_factory=EchoMedia,
        # Nobody else will join an echo call; it ends when the caller hangs up.
        abandon_after_s=3600.0,
    )
