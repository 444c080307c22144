"""One Parley per profile: a second start hands its link to the running one and ends.

Two Parleys on one profile would share one settings file, one call history and one
kept sign-in, and both would ring for every call. The first start holds a lock file in
the profile's folder (``QLockFile``: a lock left by a crashed Parley is noticed by its
process ID and taken over) and listens on a local socket; a later start finds the lock
held, connects, sends one line — ``{"link": "parley://…"}`` or ``{}`` — and the running
Parley comes to the front and opens the link.
"""

from __future__ import annotations

import hashlib
import json
from pathlib import Path

from PySide6.QtCore import QLockFile, QObject, QStandardPaths, Signal, Slot
from PySide6.QtNetwork import QLocalServer, QLocalSocket

__all__ = ["SingleInstance"]

#: A message is one short JSON line; anything longer is not from Parley.
_MAX_MESSAGE = 4096
_CONNECT_MS = 2000
_REPLY_MS = 2000
_ACK = b"ok\n"


def _socket_path(profile_dir: Path) -> str:
    # In the user's runtime folder (XDG_RUNTIME_DIR: private, cleared at log-out), named by
    # the profile's path so each profile has its own and the name stays short.
    runtime = QStandardPaths.writableLocation(QStandardPaths.StandardLocation.RuntimeLocation)
    digest = hashlib.sha256(str(profile_dir.resolve()).encode()).hexdigest()[:16]
    return str(Path(runtime) / f"parley-{digest}.sock")


class SingleInstance(QObject):
    """The profile's one running Parley, or the way to reach it."""

    #: Another start asked this one to come forward and open a link ("" for none).
    opened = Signal(str)

    def __init__(self, profile_dir: Path, parent: QObject | None = None) -> None:
        super().__init__(parent)
        profile_dir.mkdir(parents=True, exist_ok=True)
        self._lock = QLockFile(str(profile_dir / "parley.lock"))
        self._lock.setStaleLockTime(0)  # stale only when its process is gone, never by age
        self._path = _socket_path(profile_dir)
        self._server: QLocalServer | None = None

    def claim(self) -> bool:
        """Become the profile's Parley; False when another one runs."""
        if not self._lock.tryLock(0):
            return False
        QLocalServer.removeServer(self._path)  # a socket file left by a crash
        server = QLocalServer(self)
        server.setSocketOptions(QLocalServer.SocketOption.UserAccessOption)
        if not server.listen(self._path):
            # Still the one instance (the lock says so); later starts just cannot reach it.
            server.deleteLater()
            return True
        server.newConnection.connect(self._on_new_connection)
        self._server = server
        return True

    def holder(self) -> int:
        """The process ID holding the profile, 0 when unknown."""
        info = self._lock.getLockInfo()  # (pid, host, app); pid 0 when unreadable
        return int(info[0]) if isinstance(info, tuple) and info else 0

    def forward(self, link: str) -> bool:
        """Ask the running Parley to come forward and open ``link``; True once it said so."""
        socket = QLocalSocket()
        socket.connectToServer(self._path)
        if not socket.waitForConnected(_CONNECT_MS):
            return False
        message = json.dumps({"link": link} if link else {}).encode() + b"\n"
        socket.write(message)
        socket.flush()
        replied = socket.waitForReadyRead(_REPLY_MS) and bytes(socket.readLine().data()) == _ACK
        socket.disconnectFromServer()
        return replied

    def release(self) -> None:
        """Stop listening and let the next start be the profile's Parley."""
        if self._server is not None:
            self._server.close()
            self._server = None
        if self._lock.isLocked():
            self._lock.unlock()

    @Slot()
    def _on_new_connection(self) -> None:
        assert self._server is not None
        while (socket := self._server.nextPendingConnection()) is not None:
            socket.readyRead.connect(lambda s=socket: self._on_ready(s))
            socket.disconnected.connect(socket.deleteLater)

    def _on_ready(self, socket: QLocalSocket) -> None:
        if not socket.canReadLine():
            if socket.bytesAvailable() > _MAX_MESSAGE:
                socket.abort()
            return
        line = bytes(socket.readLine(_MAX_MESSAGE).data())
        try:
            message = json.loads(line)
            link = message.get("link", "") if isinstance(message, dict) else None
        except ValueError:
            link = None
        if not isinstance(link, str):
            socket.abort()  # not Parley talking
            return
        socket.write(_ACK)
        socket.flush()
        self.opened.emit(link)
