"""Sharing a screen in a call: bots on a real server, a real X server (Xvfb) to share."""

from __future__ import annotations

import av
import numpy as np
import pytest
from aiortc.mediastreams import MediaStreamTrack

from app.kit.call.session import SCREEN_ATTRIBUTE
from app.kit.call.view import call_view
from app.kit.types import KitError
from app.testing import BotFactory, wait_until
from media.peer_types import MediaKind
from media.screen import ScreenTrack
from tests.support.calls import answered_call
from tests.support.x_server import paint_screen, x_display


async def test_the_other_side_sees_the_shared_screen_whole(
    parley_bot: BotFactory, monkeypatch: pytest.MonkeyPatch
) -> None:
    alice, _, a, b = await answered_call(parley_bot)
    with x_display(1280, 800) as display:
        monkeypatch.setenv("DISPLAY", display)
        paint_screen(display, 30, 190, 60)
        assert await alice.kit.controller.audio_video.share_screen(True)
        assert a.sharing_screen
        assert isinstance(a.mesh.local_track(MediaKind.VIDEO), ScreenTrack)
        # Bob learns it is a screen (his tile fits it), and gets it as video.
        await wait_until(lambda: b.members["alice"].attributes.get(SCREEN_ATTRIBUTE) == "1")
        await wait_until(lambda: b.members["alice"].video is not None)
        tile = call_view(b).tiles[1]
        assert tile.sharing_screen
        assert tile.shows_video  # although Alice's camera stays off
        assert not tile.camera_on
        assert call_view(a).sharing_screen
        assert not call_view(a).tiles[0].shows_video  # her own screen is not shown to her
        track = b.members["alice"].video
        assert track is not None
        frame = await green_frame(track)
        assert (frame.width, frame.height) == (1280, 800)
        rgb = frame.to_ndarray(format="rgb24")
        assert float(np.median(rgb[..., 0])) < 90
        assert float(np.median(rgb[..., 1])) > 150
        # Stopping: the attribute goes, and a voice call sends no video again.
        assert await alice.kit.controller.audio_video.share_screen(False)
        await wait_until(lambda: SCREEN_ATTRIBUTE not in b.members["alice"].attributes)
        assert a.mesh.local_track(MediaKind.VIDEO) is None
        assert not call_view(b).tiles[1].sharing_screen


async def green_frame(track: MediaStreamTrack) -> av.VideoFrame:
    """The first mostly green frame (the first may be from before the encoder settled)."""
    for _ in range(100):
        frame = await track.recv()
        assert isinstance(frame, av.VideoFrame)
        if float(np.median(frame.to_ndarray(format="rgb24")[..., 1])) > 150:
            return frame
    raise AssertionError("100 frames and none showed the green screen")


async def test_sharing_stops_and_the_camera_comes_back(
    parley_bot: BotFactory, monkeypatch: pytest.MonkeyPatch
) -> None:
    alice, _, a, _ = await answered_call(parley_bot, video=True)
    camera = a.mesh.local_track(MediaKind.VIDEO)
    assert camera is not None
    with x_display(640, 480) as display:
        monkeypatch.setenv("DISPLAY", display)
        assert await alice.kit.controller.audio_video.share_screen(True)
        assert isinstance(a.mesh.local_track(MediaKind.VIDEO), ScreenTrack)
        assert a.media.camera_on  # the camera's own state is left as it was
        assert await alice.kit.controller.audio_video.share_screen(False)
        assert a.mesh.local_track(MediaKind.VIDEO) is camera


async def test_without_a_screen_to_share_it_says_why_and_changes_nothing(
    parley_bot: BotFactory, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.delenv("DISPLAY", raising=False)
    monkeypatch.setenv("WAYLAND_DISPLAY", "wayland-0")
    alice, _, a, b = await answered_call(parley_bot)
    assert await alice.kit.controller.audio_video.share_screen(True) is False
    error = (await alice.expect("call.on_error")).args[0]
    assert isinstance(error, KitError)
    assert error.code == "screen_unavailable"
    assert "Wayland" in error.message
    assert not a.sharing_screen
    assert a.mesh.local_track(MediaKind.VIDEO) is None
    assert SCREEN_ATTRIBUTE not in b.members["alice"].attributes
