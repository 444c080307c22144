"""Ctrl+C and SIGTERM reach Parley even while the Qt loop idles.

Python runs a signal handler only when the interpreter next runs Python code; a Qt loop
waiting in C++ for its next event may not do so for a long time, so Ctrl+C seemed to be
ignored. :func:`wake_on_signals` has the C-level handler also write a byte to a socket
(``signal.set_wakeup_fd``) whose notifier wakes the Qt loop: the Python handler then runs
at once.
"""

from __future__ import annotations

import contextlib
import signal
import socket
from collections.abc import Callable

from PySide6.QtCore import QObject, QSocketNotifier

__all__ = ["wake_on_signals"]

_SIGNALS = (signal.SIGINT, signal.SIGTERM)


def wake_on_signals(owner: QObject, on_signal: Callable[[], None]) -> Callable[[], None]:
    """Call ``on_signal`` on SIGINT or SIGTERM, promptly; returns a function undoing it.

    ``owner`` keeps the notifier alive. Main thread only (signal handlers live there).
    """
    reader, writer = socket.socketpair()
    reader.setblocking(False)
    writer.setblocking(False)
    previous_fd = signal.set_wakeup_fd(writer.fileno())
    notifier = QSocketNotifier(reader.fileno(), QSocketNotifier.Type.Read, owner)

    def drain() -> None:
        with contextlib.suppress(OSError):
            while reader.recv(64):
                pass

    notifier.activated.connect(drain)
    previous = {sig: signal.signal(sig, lambda *_: on_signal()) for sig in _SIGNALS}

    def undo() -> None:
        for sig, handler in previous.items():
            signal.signal(sig, handler)
        signal.set_wakeup_fd(previous_fd)
        notifier.setEnabled(False)
        notifier.deleteLater()
        reader.close()
        writer.close()

    return undo
