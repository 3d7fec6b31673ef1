"""One agent per person: the first launch listens on a per-user address, a second one talks to it.

The address is a Unix socket in a private (0700) folder (`linux_instance`, for Linux and the other
Unix desktops), or on Windows a named pipe behind a named mutex (`windows_instance`); the module is
chosen here once. A socket file left by a crashed agent is detected (nobody answers) and replaced.
The config dir is part of the address, so agents with separate settings (tests) do not see each other.
"""

from __future__ import annotations

import logging
import sys
import threading
import zlib
from collections.abc import Callable
from multiprocessing.connection import Client, Listener

from phitray.paths import Paths

if sys.platform == "win32":
    from phitray.desktop import windows_instance as platform_lock
else:
    from phitray.desktop import linux_instance as platform_lock

log = logging.getLogger(__name__)
CONNECT_TIMEOUT_SECONDS = 3.0


def instance_address(paths: Paths) -> str:
    # A checksum, not hashlib: hashlib loads OpenSSL's libcrypto, 3.5 MB the daemon would hold for a name.
    return platform_lock.address(f"{zlib.crc32(str(paths.config_dir.resolve()).encode()):08x}")


def send_to_running(address: str, message: str) -> str | None:
    """The running agent's answer to `message`, or None when no agent listens there."""
    try:
        with Client(address, family=platform_lock.FAMILY) as connection:
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
        self._claim: platform_lock.Claim | None = None

    def acquire(self) -> bool:
        """True if this is now the one agent; False if another one answers at the address."""
        self._claim = platform_lock.claim(self.address)
        if self._claim is None:
            return False
        try:
            self._listener = Listener(self.address, family=platform_lock.FAMILY)
            return True
        except OSError:
            if send_to_running(self.address, "ping") is not None:
                self._drop_claim()
                return False
            if platform_lock.remove_leftover(self.address):  # a socket file left behind by an agent that died
                self._listener = Listener(self.address, family=platform_lock.FAMILY)
                return True
            self._drop_claim()
            raise

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

    def _drop_claim(self) -> None:
        if self._claim is not None:
            claim, self._claim = self._claim, None
            claim.release()

    def release(self) -> None:
        self._drop_claim()
        if self._listener is not None:
            listener, self._listener = self._listener, None
            listener.close()
            platform_lock.remove_leftover(self.address)
