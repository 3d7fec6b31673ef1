"""`UiQueue`: functions for the Tk thread, queued from any other thread.

No other thread ever calls Tk. `call_soon` queues the function and wakes Tk's
main loop through a pipe registered with `createfilehandler` (POSIX), so the
loop blocks instead of polling; on Windows it uses Tk's own cross-thread
`after`. The same pipe is Python's signal wake-up fd, so SIGTERM and Ctrl+C
handlers run at once.
"""

from __future__ import annotations

import logging
import os
import queue
import signal
import sys
import tkinter
from collections.abc import Callable

log = logging.getLogger(__name__)


class UiQueue:
    """Functions for the Tk thread, queued from any thread without touching Tk there."""

    def __init__(self, root: tkinter.Tk) -> None:
        self._root = root
        self._queue: queue.SimpleQueue[Callable[[], None]] = queue.SimpleQueue()
        self._closed = False
        self._wake_read = self._wake_write = -1
        if sys.platform != "win32":  # Tk's file handlers exist on POSIX only
            self._wake_read, self._wake_write = os.pipe()
            os.set_blocking(self._wake_write, False)
            root.createfilehandler(self._wake_read, tkinter.READABLE, self._on_wake)
            # Signals (SIGTERM, Ctrl+C) wake Tk too, so their handlers run at once.
            signal.set_wakeup_fd(self._wake_write)

    def call_soon(self, function: Callable[[], None]) -> None:
        if self._closed:
            return
        self._queue.put(function)
        if self._wake_write >= 0:
            try:
                os.write(self._wake_write, b"!")
            except BlockingIOError:
                pass  # the pipe is full of wake-ups already
        else:
            self._root.after(0, self.drain)

    def _on_wake(self, fd: int, mask: int) -> None:
        """Called on the Tk thread when the wake pipe has bytes."""
        os.read(fd, 4096)
        self.drain()

    def drain(self) -> None:
        """Run everything queued. Tk thread."""
        while True:
            try:
                function = self._queue.get_nowait()
            except queue.Empty:
                return
            try:
                function()
            except Exception:
                log.exception("UI call failed")

    def close(self) -> None:
        self._closed = True
        if sys.platform != "win32" and self._wake_read >= 0:
            signal.set_wakeup_fd(-1)
            self._root.deletefilehandler(self._wake_read)
            os.close(self._wake_read)
            os.close(self._wake_write)
