"""One window per library: a second ``glimpse-desktop`` on a library that is open already
hands its paths (folders to add, a photo to show) to the first window, which comes forward,
and exits; another library opens a window of its own.

The first instance listens on a local socket (a Unix socket, a named pipe on Windows) named
after the library file's real path, hashed, and the user: two people on one computer, or two
libraries, never meet. A socket a crashed instance left behind answers no connection: it is
removed and listened on again.
"""

from __future__ import annotations

import getpass
import hashlib
import json
import os
from collections.abc import Callable, Sequence

from PySide6.QtCore import QObject, Signal
from PySide6.QtNetwork import QLocalServer, QLocalSocket

# A running window answers at once; a slower answer is a window that hangs or a stale pipe.
_CONNECT_MS = 1500
_REPLY_MS = 5000
_REPLY = b"ok\n"


def server_name(library: str | os.PathLike[str]) -> str:
    """The socket's name for ``library`` (short: a Unix socket path has ~100 bytes)."""
    try:
        user = getpass.getuser()
    except Exception:  # no user name in this environment: the uid, or nothing
        user = str(getattr(os, "getuid", lambda: "")())
    key = f"{user}\0{os.path.realpath(os.path.abspath(os.fspath(library)))}"
    return "glimpse-" + hashlib.sha256(key.encode("utf-8", "surrogateescape")).hexdigest()[:24]


def hand_over(library: str | os.PathLike[str], paths: Sequence[str]) -> bool:
    """Give ``paths`` (made absolute here: the first window has another working folder) to
    the window that has ``library`` open; False when there is none that answers."""
    socket = QLocalSocket()
    socket.connectToServer(server_name(library))
    if not socket.waitForConnected(_CONNECT_MS):
        return False
    message = json.dumps({"paths": [os.path.abspath(p) for p in paths]}).encode() + b"\n"
    socket.write(message)
    if not socket.waitForBytesWritten(_REPLY_MS):
        return False
    answer = b""
    while not answer.endswith(b"\n") and socket.waitForReadyRead(_REPLY_MS):
        answer += bytes(socket.readAll().data())
    socket.disconnectFromServer()
    return answer == _REPLY


class InstanceServer(QObject):
    """Listens for later launches on the same library; ``arrived`` carries their paths."""

    arrived = Signal(list)

    def __init__(self, library: str | os.PathLike[str], parent: QObject | None = None) -> None:
        super().__init__(parent)
        self.name = server_name(library)
        self.server = QLocalServer(self)
        self.server.setSocketOptions(QLocalServer.SocketOption.UserAccessOption)
        self.server.newConnection.connect(self._connected)

    def listen(self) -> bool:
        """Start listening; a socket left by a crashed instance is removed first. False
        when another instance took the name meanwhile (it started at the same moment)."""
        if self.server.listen(self.name):
            return True
        probe = QLocalSocket()
        probe.connectToServer(self.name)
        if probe.waitForConnected(_CONNECT_MS):
            probe.abort()
            return False                      # alive: it started at the same moment
        # Nothing answers on the name: a socket file a crashed instance left.
        QLocalServer.removeServer(self.name)
        return self.server.listen(self.name)

    def close(self) -> None:
        self.server.close()

    def _connected(self) -> None:
        while self.server.hasPendingConnections():
            socket = self.server.nextPendingConnection()
            if socket is None:
                break
            buffer = bytearray()
            socket.readyRead.connect(lambda s=socket, b=buffer: self._read(s, b))
            socket.disconnected.connect(socket.deleteLater)

    def _read(self, socket: QLocalSocket, buffer: bytearray) -> None:
        buffer += bytes(socket.readAll().data())
        if not buffer.endswith(b"\n"):
            return
        try:
            message = json.loads(bytes(buffer))
            paths = [str(p) for p in message.get("paths", [])]
        except (ValueError, AttributeError):
            socket.disconnectFromServer()     # not one of ours
            return
        socket.write(_REPLY)
        socket.flush()
        self.arrived.emit(paths)


def bring_forward(window: object, paths: list[str],
                  open_paths: Callable[[list[str]], None]) -> None:
    """Show the window in front (un-minimised) and open what the later launch was given."""
    from PySide6.QtCore import Qt
    from PySide6.QtWidgets import QWidget

    if isinstance(window, QWidget):
        if window.isMinimized():
            window.setWindowState(window.windowState() & ~Qt.WindowState.WindowMinimized)
        window.show()
        window.raise_()
        window.activateWindow()
    if paths:
        open_paths(paths)
