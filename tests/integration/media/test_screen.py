"""Sharing a screen: a real X server (Xvfb) grabbed by ``media.screen.ScreenTrack``."""

from __future__ import annotations

import numpy as np
import pytest
from aiortc.mediastreams import MediaStreamError

from media.screen import ScreenTrack, fitted_size, screen_capture_problem
from tests.support.x_server import paint_screen, x_display


def test_where_the_screen_cannot_be_shared_it_says_why_in_words() -> None:
    assert screen_capture_problem({"DISPLAY": ":3"}) is None
    wayland = screen_capture_problem({"WAYLAND_DISPLAY": "wayland-0"})
    assert wayland is not None
    assert "X11" in wayland
    assert "Wayland" in wayland
    nothing = screen_capture_problem({})
    assert nothing is not None
    assert "DISPLAY" in nothing
    with pytest.raises(RuntimeError, match="no desktop session"):
        ScreenTrack(display="")


def test_a_big_screen_is_scaled_down_to_fit_keeping_its_shape() -> None:
    assert fitted_size(1280, 800, (1920, 1080)) == (1280, 800)  # never up
    assert fitted_size(3840, 2160, (1920, 1080)) == (1920, 1080)
    assert fitted_size(2560, 1440, (1280, 1280)) == (1280, 720)
    assert fitted_size(1001, 751, (2000, 2000)) == (1000, 750)  # even sides


async def test_the_track_sends_what_is_on_the_screen() -> None:
    with x_display(1280, 800) as display:
        paint_screen(display, 200, 30, 30)
        track = ScreenTrack(display=display, fps=20)
        assert track.size == (1280, 800)
        try:
            first = await track.recv()
            second = await track.recv()
            assert (first.width, first.height) == (1280, 800)
            assert first.pts is not None
            assert second.pts is not None
            assert second.pts > first.pts
            rgb = first.to_ndarray(format="rgb24")
            red, green, blue = (float(np.median(rgb[..., i])) for i in range(3))
            assert red > 150, (red, green, blue)
            assert max(green, blue) < 60, (red, green, blue)
            # The screen changes: the next frames show it.
            paint_screen(display, 20, 40, 210)
            frame = await track.recv()
            frame = await track.recv()
            rgb = frame.to_ndarray(format="rgb24")
            assert float(np.median(rgb[..., 2])) > 150
            assert float(np.median(rgb[..., 0])) < 60
        finally:
            track.stop()
        with pytest.raises(MediaStreamError):
            await track.recv()


async def test_a_screen_larger_than_the_limit_is_sent_smaller() -> None:
    with x_display(1280, 800) as display:
        track = ScreenTrack(display=display, max_size=(640, 640))
        try:
            frame = await track.recv()
            assert (frame.width, frame.height) == (640, 400)
        finally:
            track.stop()


def test_a_monitor_that_does_not_exist_is_refused() -> None:
    with x_display(640, 480) as display, pytest.raises(RuntimeError, match="no monitor 3"):
        ScreenTrack(display=display, monitor=3)
