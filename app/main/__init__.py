"""The composition root: ``parley`` builds the application, wires it, runs it, shuts it down.

Everything is built and connected here and nowhere else, and this package is the one
part of ``app`` that imports ``widgets``: the Qt application and its qasync loop, the
window and its pages, the account and its Qt bridge, the server (started, reused or
remote), the event bus, both kits with their presenters, the navigation, the bus's
default actions, the call history, the device settings and the echo user. Pages and
presenters meet only here (:mod:`app.main.wiring`): a page's intents are connected to a
presenter's slots, a presenter's typed signals to a page's setters. The UI tests and the
pytest plugin's window build the same :class:`Application`, so they run the same wiring.

- :mod:`app.main.options` — :class:`Options` and the ``parley`` command line;
- :mod:`app.main.application` — :class:`Application`: build, start, shut down;
- :mod:`app.main.wiring` — where pages meet presenters.

The sign-in page comes first: only Qt and the light parts of the app are imported before
the window is shown; the network stack (python-socketio, aiohttp, pydantic, PyJWT) and
the call stack (aiortc, PyAV, OpenCV) come after, with the server. A sign-in requested
meanwhile waits for the server (see :class:`~app.qt.account.AccountBridge`).
``PARLEY_REPORT_STARTUP=1`` prints ``parley: first page shown <perf_counter>`` once the
first page is on screen (``benchmarks/app_start.py`` reads it).
"""

from __future__ import annotations

import asyncio
import logging
import signal
import sys
from collections.abc import Sequence

from PySide6.QtCore import QCoreApplication, QSettings
from PySide6.QtGui import QGuiApplication, QIcon
from PySide6.QtWidgets import QApplication

from app.main.application import Application, data_dir, make_client_factory, profile_dir
from app.main.options import Options, parse_args
from app.main.wiring import connect_device_settings
from app.qt.loop import QtEventLoop
from app.qt.single_instance import SingleInstance
from resources import APP_ICON

__all__ = [
    "Application",
    "Options",
    "connect_device_settings",
    "data_dir",
    "main",
    "make_client_factory",
    "parse_args",
    "profile_dir",
]

ORGANIZATION = "Parley"
APPLICATION = "Parley"
#: The program's name: its command, its desktop file (parley.desktop), its X11 WM_CLASS.
PROGRAM = "parley"


def main(argv: Sequence[str] | None = None) -> int:
    """Entry point of the ``parley`` console script."""
    options, log_level, qt_args = parse_args(sys.argv[1:] if argv is None else argv)
    logging.basicConfig(level=log_level.upper(), format="%(asctime)s %(name)s %(message)s")
    QCoreApplication.setOrganizationName(ORGANIZATION)
    QCoreApplication.setApplicationName(APPLICATION)
    # Qt names the window's WM_CLASS after argv[0], which is "__main__.py" under
    # `python -m app` and the installer's launcher; docks match windows to parley.desktop
    # by that name (X11) and by the desktop file name (Wayland's app id).
    qt_app = QApplication.instance() or QApplication([PROGRAM, *qt_args])
    assert isinstance(qt_app, QApplication)
    qt_app.setApplicationDisplayName(APPLICATION)
    QGuiApplication.setDesktopFileName(PROGRAM)
    qt_app.setWindowIcon(QIcon(str(APP_ICON)))
    # Closing the window starts an async shutdown; Qt must not quit the loop under it.
    qt_app.setQuitOnLastWindowClosed(False)
    if options.profile:
        folder = options.data_dir = profile_dir(options.profile)
        options.settings = QSettings(str(folder / "settings.ini"), QSettings.Format.IniFormat)
    instance = SingleInstance(options.data_dir or data_dir())
    if not instance.claim():
        return _hand_over(instance, options)
    loop = QtEventLoop(qt_app)
    application = Application(qt_app, options)
    instance.opened.connect(application.open_link)
    try:
        status = int(loop.run_until_complete(_run_to_the_end(application)))
        loop.run_until_complete(loop.shutdown_asyncgens())
    except KeyboardInterrupt:
        status = 130
    finally:
        instance.release()
        signal.signal(signal.SIGINT, signal.SIG_DFL)
        loop.close()
    return status


def _hand_over(instance: SingleInstance, options: Options) -> int:
    """This profile's Parley runs already: it comes forward (and opens the link)."""
    profile = f"profile {options.profile!r}" if options.profile else "this profile"
    if instance.forward(options.link):
        print(f"parley: Parley is already running for {profile}: brought it to the front")
        if not options.profile:
            print("parley: for a second person on this computer, start: parley --profile NAME")
        return 0
    pid = instance.holder()
    print(
        f"parley: another Parley (process {pid or 'unknown'}) holds {profile} but does not "
        "answer; wait for it to finish starting, or end it",
        file=sys.stderr,
    )
    return 1


async def _run_to_the_end(application: Application) -> int:
    status = await application.run()
    await _finish_other_tasks()
    return status


async def _finish_other_tasks() -> None:
    # Library tasks still running at exit (engine.io pings, aiohttp handlers of closed
    # connections) are cancelled and awaited here, on the running loop, as asyncio.run()
    # does, rather than left for the loop's close.
    current = asyncio.current_task()
    others = [task for task in asyncio.all_tasks() if task is not current]
    for task in others:
        task.cancel()
    if others:
        await asyncio.gather(*others, return_exceptions=True)
