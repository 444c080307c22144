"""A private X server (Xvfb) for tests that need what only a real display has.

Offscreen Qt has no windows a desktop can see; WM_CLASS, for one, exists only on X11.
``-displayfd`` lets Xvfb pick a free display number and report it when it is ready, so
parallel runs never collide and nothing sleeps.
"""

from __future__ import annotations

import ctypes
import os
import re
import select
import shutil
import subprocess
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass

from signaling.server.child_processes import die_with_parent

_READY_TIMEOUT_S = 10.0


@contextmanager
def x_display(width: int = 1280, height: int = 800) -> Iterator[str]:
    """A running Xvfb's ``DISPLAY`` (e.g. ``":7"``), stopped when the block ends."""
    if shutil.which("Xvfb") is None:
        raise RuntimeError("Xvfb is missing: `python3 scripts/dev.py test` installs it (xvfb)")
    for _attempt in range(3):
        server, display = _start_xvfb(f"{width}x{height}x24")
        if display and _answers(display):
            break
        # Seen under load: the display number reported, then no server behind it.
        _stop(server)
    else:
        raise RuntimeError("Xvfb did not start a display that answers (3 tries)")
    try:
        yield display
    finally:
        _stop(server)


def _start_xvfb(screen: str) -> tuple[subprocess.Popen[bytes], str]:
    read_end, write_end = os.pipe()
    try:
        server = subprocess.Popen(
            # -noreset: Xvfb would reset (and forget what a client drew) whenever its last
            # client leaves.
            ["Xvfb", "-displayfd", str(write_end), "-nolisten", "tcp", "-noreset",
             "-screen", "0", screen],
            pass_fds=(write_end,), stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
            preexec_fn=die_with_parent(),
        )  # fmt: skip
    finally:
        os.close(write_end)
    try:
        ready, _, _ = select.select([read_end], [], [], _READY_TIMEOUT_S)
        number = os.read(read_end, 32).decode().strip() if ready else ""
    finally:
        os.close(read_end)
    return server, f":{number}" if number else ""


def _answers(display: str) -> bool:
    probe = subprocess.run(
        ["xwininfo", "-root", "-display", display], capture_output=True, check=False
    )
    return probe.returncode == 0


def _stop(server: subprocess.Popen[bytes]) -> None:
    server.terminate()
    server.wait(timeout=10)


@dataclass(frozen=True)
class XWindow:
    """A top-level window as the X server knows it."""

    window_id: int
    title: str
    wm_class: tuple[str, str]
    viewable: bool


_CHILD = re.compile(r'^\s*(0x[0-9a-f]+) "([^"]*)": \("([^"]*)" "([^"]*)"\)', re.MULTILINE)


def top_level_windows(display: str) -> list[XWindow]:
    """The named top-level windows (``xwininfo``), whether each is on screen."""
    tree = _xwininfo(display, "-root", "-children")
    windows = []
    for found in _CHILD.finditer(tree):
        window_id = int(found[1], 16)
        state = _xwininfo(display, "-id", found[1])
        viewable = "Map State: IsViewable" in state
        windows.append(XWindow(window_id, found[2], (found[3], found[4]), viewable))
    return windows


def _xwininfo(display: str, *args: str) -> str:
    return subprocess.run(
        ["xwininfo", *args, "-display", display], capture_output=True, text=True, check=True
    ).stdout


class _ClientMessage(ctypes.Structure):
    _fields_ = [
        ("type", ctypes.c_int),
        ("serial", ctypes.c_ulong),
        ("send_event", ctypes.c_int),
        ("display", ctypes.c_void_p),
        ("window", ctypes.c_ulong),
        ("message_type", ctypes.c_ulong),
        ("format", ctypes.c_int),
        ("data", ctypes.c_long * 5),
    ]


class _XEvent(ctypes.Union):
    _fields_ = [("xclient", _ClientMessage), ("pad", ctypes.c_long * 24)]


def close_window(display: str, window_id: int) -> None:
    """What a window manager's close button does: ask the window to close
    (``WM_DELETE_WINDOW``), which the application may answer as it likes."""
    x11 = ctypes.CDLL("libX11.so.6")
    x11.XOpenDisplay.restype = ctypes.c_void_p
    x11.XOpenDisplay.argtypes = [ctypes.c_char_p]
    x11.XInternAtom.restype = ctypes.c_ulong
    x11.XInternAtom.argtypes = [ctypes.c_void_p, ctypes.c_char_p, ctypes.c_int]
    x11.XSendEvent.argtypes = [
        ctypes.c_void_p, ctypes.c_ulong, ctypes.c_int, ctypes.c_long, ctypes.POINTER(_XEvent)
    ]  # fmt: skip
    x11.XFlush.argtypes = x11.XCloseDisplay.argtypes = [ctypes.c_void_p]
    connection = x11.XOpenDisplay(display.encode())
    if not connection:
        raise RuntimeError(f"cannot open X display {display}")
    try:
        event = _XEvent()
        event.xclient.type = 33  # ClientMessage
        event.xclient.window = window_id
        event.xclient.message_type = x11.XInternAtom(connection, b"WM_PROTOCOLS", False)
        event.xclient.format = 32
        event.xclient.data[0] = x11.XInternAtom(connection, b"WM_DELETE_WINDOW", False)
        x11.XSendEvent(connection, window_id, False, 0, ctypes.byref(event))
        x11.XFlush(connection)
    finally:
        x11.XCloseDisplay(connection)


def paint_screen(display: str, red: int, green: int, blue: int) -> None:
    """Paint the whole screen one colour (the root window's background), as something
    known for a screen grab to find (a 24-bit TrueColor screen, as Xvfb's here)."""
    x11 = ctypes.CDLL("libX11.so.6")
    x11.XOpenDisplay.restype = ctypes.c_void_p
    x11.XOpenDisplay.argtypes = [ctypes.c_char_p]
    x11.XDefaultRootWindow.restype = ctypes.c_ulong
    x11.XDefaultRootWindow.argtypes = [ctypes.c_void_p]
    x11.XSetWindowBackground.argtypes = [ctypes.c_void_p, ctypes.c_ulong, ctypes.c_ulong]
    x11.XClearWindow.argtypes = [ctypes.c_void_p, ctypes.c_ulong]
    x11.XSync.argtypes = [ctypes.c_void_p, ctypes.c_int]
    x11.XCloseDisplay.argtypes = [ctypes.c_void_p]
    connection = x11.XOpenDisplay(display.encode())
    if not connection:
        raise RuntimeError(f"cannot open X display {display}")
    try:
        root = x11.XDefaultRootWindow(connection)
        x11.XSetWindowBackground(connection, root, (red << 16) | (green << 8) | blue)
        x11.XClearWindow(connection, root)
        x11.XSync(connection, False)
    finally:
        x11.XCloseDisplay(connection)
