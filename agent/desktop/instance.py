"""One agent per person: the first launch holds a lock and listens on a per-user address; a later one
talks to it over the channel (`channel`: JSON lines, never pickle).

The platform's module, chosen here once, makes the address and says who is at the other end:
`linux_instance` (a Unix socket in a 0700 folder, SO_PEERCRED; Linux and the other Unix desktops) or
`windows_instance` (a named pipe only the person's SID may open, behind a named mutex). A socket file
left by a crashed agent is detected (nobody answers) and replaced. The config dir is part of the
address, so agents with separate settings (tests) do not see each other.

A program squatting the address never gets a launch to run its code: the launch reads its answer as
text and, when that is not Phi Tray's, refuses it in one sentence naming the program (DesktopError).
"""

from __future__ import annotations

import logging
import sys
import threading
import time
import zlib
from collections.abc import Callable

from phitray.desktop.channel import Claim, Listener, encode, exchange, read_message
from phitray.errors import DesktopError
from phitray.paths import Paths

if sys.platform == "win32":
    from phitray.desktop import windows_instance as transport
else:
    from phitray.desktop import linux_instance as transport

log = logging.getLogger(__name__)
# How long a launch that found the lock held waits for its holder to answer: an agent answers from the
# moment it holds the lock, so only one that is starting this instant makes it wait at all.
HOLDER_WAIT_SECONDS = 2.0


def instance_address(paths: Paths) -> str:
    """The address of this person's agent for these settings. DesktopError where the platform refuses
    the place it would be (a socket folder another user owns or may open)."""
    # A checksum, not hashlib: hashlib loads OpenSSL's libcrypto, 3.5 MB the daemon would hold for a name.
    return transport.address(f"{zlib.crc32(str(paths.config_dir.resolve()).encode()):08x}")


def send_to_running(address: str, message: str) -> str | None:
    """The running agent's answer to `message`, or None when no agent listens there. DesktopError when
    what answers there is not the person's Phi Tray."""
    stream = transport.connect(address)
    if stream is None:
        return None
    try:
        return exchange(stream, address, message)
    finally:
        stream.close()


def stop_running(address: str, timeout: float) -> bool | None:
    """Ask the running agent to quit and wait until its process has ended (its own shutdown waits for its
    children first): True once it has, False if it still runs after `timeout` seconds, None when no
    agent listens there. DesktopError as send_to_running."""
    stream = transport.connect(address)
    if stream is None:
        return None
    try:
        exchange(stream, address, "quit")
        pid = stream.peer.pid  # from the operating system, not from the agent's words
    finally:
        stream.close()
    if pid is not None:
        return transport.wait_for_exit(pid, timeout)
    deadline = time.monotonic() + timeout  # where the system does not name the process: until it stops answering
    while send_to_running(address, "ping") is not None:
        if time.monotonic() > deadline:
            return False
        time.sleep(0.1)
    return True


def answer_starting(message: str) -> str:
    """What the lock answers before the agent hands it its own answers: the agent is there, not ready."""
    return "starting"


class InstanceLock:
    """Held by the running agent; answers later launches from `acquire` on, on the "instance" thread."""

    def __init__(self, address: str) -> None:
        self.address = address
        self._claim: Claim | None = None
        self._listener: Listener | None = None
        self._thread: threading.Thread | None = None
        self._handle: Callable[[str], str] = answer_starting

    def acquire(self) -> bool:
        """True if this is now the one agent; False if the person's agent answers at the address.
        DesktopError when another program holds the address or the lock (it says which, where the
        system tells, and what to do)."""
        claim = transport.claim(self.address)
        if claim is None:
            return self._holder_answers()
        try:
            listener = transport.listen(self.address)
            if listener is None:
                if send_to_running(self.address, "ping") is not None:
                    claim.release()
                    return False  # an agent of an older version, which held no lock
                if transport.remove_leftover(self.address):  # a socket file left behind by an agent that died
                    listener = transport.listen(self.address)
            if listener is None:
                raise DesktopError(f"Phi Tray cannot listen at {self.address}, and nothing answers there: "
                                   "restart the computer if this persists.")
        except BaseException:
            claim.release()
            raise
        self._claim, self._listener = claim, listener
        self._thread = threading.Thread(target=self._accept, args=(listener,), name="instance", daemon=True)
        self._thread.start()
        return True

    def _holder_answers(self) -> bool:
        """The lock is held by another process of the person's: False once it answers as Phi Tray."""
        deadline = time.monotonic() + HOLDER_WAIT_SECONDS
        while send_to_running(self.address, "ping") is None:
            if time.monotonic() > deadline:
                raise DesktopError(
                    f"Another program holds Phi Tray's lock for {self.address} but nothing answers there: end any "
                    "other Phi Tray (or a program that stands in for it) and start Phi Tray again.")
            time.sleep(0.1)
        return False

    def serve(self, handle: Callable[[str], str]) -> None:
        """Answer each message with `handle(message)`, which runs on the "instance" thread."""
        self._handle = handle

    def _accept(self, listener: Listener) -> None:
        """The "instance" thread: one short connection at a time, until release()."""
        while True:
            stream = listener.accept()
            if stream is None:
                return  # closed
            try:
                if not stream.peer.same_user:
                    log.warning("instance: refused a connection from another user's %s", stream.peer.describe())
                    continue
                stream.send(encode("answer", self._handle(read_message(stream, "ask"))))
            except (OSError, ValueError) as error:  # a client that is not a Phi Tray launch
                log.warning("instance: %s %s", stream.peer.describe(), error)
            except Exception:  # a fault of the handler must not stop the lock
                log.exception("instance message failed")
            finally:
                stream.close()

    def release(self) -> None:
        if self._listener is not None:
            listener, self._listener = self._listener, None
            listener.close()
        if self._claim is not None:
            claim, self._claim = self._claim, None
            claim.release()
