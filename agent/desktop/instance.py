"""One agent per person: the first launch listens on a per-user address, a second one talks to it.

The address is a Unix socket in a private (0700) folder, or on Windows a named
pipe, whose first instance is created exclusively (FILE_FLAG_FIRST_PIPE_INSTANCE
in multiprocessing), so the same code is the single-instance lock on both. A
socket file left by a crashed agent is detected (nobody answers) and replaced.
The config dir is part of the address, so agents with separate settings
(tests) do not see each other.
"""

from __future__ import annotations

import getpass
import logging
import os
import sys
import tempfile
import threading
import zlib
from collections.abc import Callable
from multiprocessing.connection import Client, Listener
from pathlib import Path

from phitray.paths import Paths

log = logging.getLogger(__name__)
CONNECT_TIMEOUT_SECONDS = 3.0


def instance_address(paths: Paths) -> str:
    # A checksum, not hashlib: hashlib loads OpenSSL's libcrypto, 3.5 MB the daemon would hold for a name.
    tag = f"{zlib.crc32(str(paths.config_dir.resolve()).encode()):08x}"
    if sys.platform == "win32":
        return rf"\\.\pipe\phitray-{getpass.getuser()}-{tag}"
    base = os.environ.get("XDG_RUNTIME_DIR") or os.path.join(tempfile.gettempdir(), f"phitray-{os.getuid()}")
    folder = Path(base)
    folder.mkdir(mode=0o700, parents=True, exist_ok=True)
    if folder.stat().st_uid != os.getuid():
        raise PermissionError(f"{folder} belongs to another user; set XDG_RUNTIME_DIR.")
    return str(folder / f"phitray-{tag}.sock")


def _family(address: str) -> str:
    return "AF_PIPE" if address.startswith("\\\\.\\pipe\\") else "AF_UNIX"


def send_to_running(address: str, message: str) -> str | None:
    """The running agent's answer to `message`, or None when no agent listens there."""
    try:
        with Client(address, family=_family(address)) as connection:
            connection.send(message)
            if connection.poll(CONNECT_TIMEOUT_SECONDS):
                return str(connection.recv())
            return ""
    except (FileNotFoundError, ConnectionRefusedError, ConnectionResetError, EOFError, BrokenPipeError):
        return None
    except OSError as error:  # Windows: ERROR_FILE_NOT_FOUND / ERROR_PIPE_BUSY come as OSError
        log.debug("no agent at %s: %s", address, error)
        return None


class InstanceLock:
    """Held by the running agent; `serve` answers messages from later launches on a thread."""

    def __init__(self, address: str) -> None:
        self.address = address
        self._listener: Listener | None = None
        self._thread: threading.Thread | None = None
        self._mutex: int | None = None

    def acquire(self) -> bool:
        """True if this is now the one agent; False if another one answers at the address."""
        family = _family(self.address)
        if sys.platform == "win32" and not self._acquire_mutex():
            return False
        try:
            self._listener = Listener(self.address, family=family)
            return True
        except OSError:
            if send_to_running(self.address, "ping") is not None:
                return False
            if family == "AF_UNIX":  # a socket file left behind by an agent that died
                Path(self.address).unlink(missing_ok=True)
                self._listener = Listener(self.address, family=family)
                return True
            raise

    def _acquire_mutex(self) -> bool:
        """Windows: a named mutex is the lock (a pipe's first-instance flag is not enforced everywhere, e.g. Wine)."""
        if sys.platform != "win32":
            return True
        import ctypes

        kernel32 = ctypes.WinDLL("kernel32", use_last_error=True)
        kernel32.CreateMutexW.restype = ctypes.c_void_p
        name = "Local\\" + self.address.rsplit("\\", 1)[-1]
        handle = kernel32.CreateMutexW(None, False, name)
        if not handle:
            raise OSError(ctypes.get_last_error(), "CreateMutexW failed")
        if ctypes.get_last_error() == 183:  # ERROR_ALREADY_EXISTS: another agent holds it
            kernel32.CloseHandle(ctypes.c_void_p(handle))
            return False
        self._mutex = handle
        return True

    def serve(self, handle: Callable[[str], str]) -> None:
        """Answer each message with `handle(message)`, which runs on the "instance" thread."""
        self._thread = threading.Thread(target=self._accept, args=(handle,), name="instance", daemon=True)
        self._thread.start()

    def _accept(self, handle: Callable[[str], str]) -> None:
        """The instance thread: one short connection at a time."""
        listener = self._listener  # release() clears the attribute while this thread may be in accept()
        assert listener is not None
        while True:
            try:
                connection = listener.accept()
            except (OSError, EOFError):
                return  # closed
            try:
                with connection:
                    if connection.poll(CONNECT_TIMEOUT_SECONDS):
                        connection.send(handle(str(connection.recv())))
            except Exception:  # a broken client must not stop the lock
                log.exception("instance message failed")

    def release(self) -> None:
        if self._mutex is not None and sys.platform == "win32":
            import ctypes

            ctypes.WinDLL("kernel32").CloseHandle(ctypes.c_void_p(self._mutex))
            self._mutex = None
        if self._listener is not None:
            listener, self._listener = self._listener, None
            listener.close()
            if _family(self.address) == "AF_UNIX":
                Path(self.address).unlink(missing_ok=True)
