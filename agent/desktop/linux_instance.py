"""Linux and the other Unix desktops: the agent's address is a Unix socket in a folder only the person
can open, and each end asks the kernel who the other is.

The folder ($XDG_RUNTIME_DIR, else phitray-<uid> in the temp folder) must belong to the person and be
closed to everyone else (mode 0700): it is checked before every use, so a folder another user made or
opened up first is refused rather than trusted. Each connection's peer comes from SO_PEERCRED, on
both sides: the agent answers only the person's processes, and a launch sends nothing to another
user's listener. A lock file beside the socket is the single-instance lock.
"""

from __future__ import annotations

import fcntl
import logging
import os
import socket
import stat
import struct
import sys
import tempfile
import time
from pathlib import Path

from phitray.desktop.channel import TIMEOUT_SECONDS, Peer
from phitray.errors import DesktopError

assert sys.platform != "win32"  # tells type checkers for Windows to stop here

log = logging.getLogger(__name__)


def address(tag: str) -> str:
    base = os.environ.get("XDG_RUNTIME_DIR") or os.path.join(tempfile.gettempdir(), f"phitray-{os.getuid()}")
    folder = Path(base)
    try:
        folder.mkdir(mode=0o700, parents=True, exist_ok=True)
    except OSError as error:
        raise DesktopError(f"Phi Tray cannot make its folder {folder} ({error.strerror}); "
                           "set XDG_RUNTIME_DIR to a folder of yours.") from None
    check_folder(folder)
    return str(folder / f"phitray-{tag}.sock")


def check_folder(folder: Path) -> None:
    """Refuse a folder another user owns or may open: whoever can write there can stand in for the agent."""
    info = folder.stat()
    mode = stat.S_IMODE(info.st_mode)
    if info.st_uid != os.getuid():
        problem = f"belongs to another user (uid {info.st_uid})"
    elif mode & 0o077:
        problem = f"is open to other users (mode {mode:04o}; chmod 700 {folder} closes it)"
    else:
        return
    raise DesktopError(f"Phi Tray keeps its address in {folder}, which {problem}, so Phi Tray will not use it: "
                       "set XDG_RUNTIME_DIR to a folder only you can open.")


def peer_of(connection: socket.socket) -> Peer:
    """Who is at the other end of `connection`, from the kernel (SO_PEERCRED)."""
    option = getattr(socket, "SO_PEERCRED", None)  # Linux's; where a system has none, nobody is trusted
    if option is None:
        return Peer(None, "", same_user=False)
    pid, uid, _gid = struct.unpack("3i", connection.getsockopt(socket.SOL_SOCKET, option, struct.calcsize("3i")))
    try:
        program = Path(f"/proc/{pid}/comm").read_text(encoding="utf-8", errors="replace").strip()
    except OSError:
        program = ""
    return Peer(pid or None, program, same_user=uid == os.getuid())


class UnixStream:
    """One connection on the socket, either end."""

    def __init__(self, connection: socket.socket) -> None:
        self._connection = connection
        self.peer = peer_of(connection)

    def send(self, data: bytes) -> None:
        self._connection.settimeout(TIMEOUT_SECONDS)
        self._connection.sendall(data)

    def receive(self, limit: int, deadline: float) -> bytes:
        self._connection.settimeout(max(0.001, deadline - time.monotonic()))
        return self._connection.recv(limit)

    def close(self) -> None:
        self._connection.close()


class UnixListener:
    """The bound socket: held by the running agent."""

    def __init__(self, listening: socket.socket, path: str) -> None:
        self._listening, self._path = listening, path

    def accept(self) -> UnixStream | None:
        """The next connection; None once the listener is closed. The "instance" thread."""
        try:
            connection, _ = self._listening.accept()
        except OSError:
            return None
        return UnixStream(connection)

    def close(self) -> None:
        """Any thread; wakes an accept() waiting on the "instance" thread."""
        try:
            self._listening.shutdown(socket.SHUT_RDWR)  # close() alone leaves accept() waiting on Linux
        except OSError:
            pass
        self._listening.close()
        Path(self._path).unlink(missing_ok=True)


def listen(path: str) -> UnixListener | None:
    """Bind the agent's socket; None when something else is there already."""
    check_folder(Path(path).parent)
    listening = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
    try:
        listening.bind(path)
    except OSError:  # EADDRINUSE: a listener, or the file a dead one left
        listening.close()
        return None
    listening.listen(8)
    return UnixListener(listening, path)


def connect(path: str) -> UnixStream | None:
    """A connection to whatever listens at `path`; None when nothing does."""
    check_folder(Path(path).parent)
    connection = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
    connection.settimeout(TIMEOUT_SECONDS)
    try:
        connection.connect(path)
    except (FileNotFoundError, ConnectionRefusedError):
        connection.close()
        return None
    except OSError as error:
        connection.close()
        log.debug("no agent at %s: %s", path, error)
        return None
    return UnixStream(connection)


class LockFile:
    """An exclusive flock on `<socket>.lock`, held while this agent runs: only its holder may replace a
    socket file a dead agent left, so two agents starting at once cannot both take it over."""

    def __init__(self, descriptor: int) -> None:
        self._descriptor = descriptor

    def release(self) -> None:
        os.close(self._descriptor)  # the kernel drops the lock with the last descriptor


def claim(path: str) -> LockFile | None:
    """The lock, or None when another process of the person holds it."""
    check_folder(Path(path).parent)
    descriptor = os.open(f"{path}.lock", os.O_RDWR | os.O_CREAT | os.O_CLOEXEC, 0o600)
    try:
        fcntl.flock(descriptor, fcntl.LOCK_EX | fcntl.LOCK_NB)
    except BlockingIOError:
        os.close(descriptor)
        return None
    return LockFile(descriptor)


def remove_leftover(path: str) -> bool:
    """Remove the socket file a dead agent left, so the lock's holder can bind: reached once nothing
    answered there."""
    Path(path).unlink(missing_ok=True)
    return True


def wait_for_exit(pid: int, timeout: float) -> bool:
    """True once process `pid` has ended (a zombie its parent has not reaped counts as ended), False after
    `timeout` seconds."""
    deadline = time.monotonic() + timeout
    while True:
        try:
            os.kill(pid, 0)
            if Path(f"/proc/{pid}/stat").read_text().rpartition(")")[2].split()[0] == "Z":
                return True
        except (ProcessLookupError, FileNotFoundError):
            return True
        except PermissionError:  # alive, and another user's
            pass
        except (OSError, IndexError):  # no /proc (other Unix desktops): kill's answer stands
            pass
        if time.monotonic() > deadline:
            return False
        time.sleep(0.05)
