"""`UiQueue`: functions for the Tk thread, queued from any other thread without waiting for it.

No other thread ever calls Tk, and no caller ever waits on the Tk thread:
tkinter hands a call from another thread to the Tk thread and waits for it,
and the Tk thread may itself be busy for seconds (clipboard I/O, a window
being drawn). A hotkey callback that waited there would be dropped by Windows.

So `call_soon` only puts the function in a queue and wakes the Tk loop:
- "pipe" (POSIX): a byte down a pipe registered with `createfilehandler`; the
  loop blocks instead of polling, and the same pipe is Python's signal wake-up
  fd, so SIGTERM and Ctrl+C handlers run at once.
- "waker" (Windows, where Tk has no file handlers): a "ui-waker" thread of its
  own makes the cross-thread `after` call, so it is the only thread that ever
  waits for Tk.
"""

from __future__ import annotations

import logging
import os
import queue
import signal
import sys
import threading
import tkinter
from collections.abc import Callable
from typing import Literal

log = logging.getLogger(__name__)
WakeMethod = Literal["pipe", "waker"]


def default_wake_method() -> WakeMethod:
    return "waker" if sys.platform == "win32" else "pipe"


class UiQueue:
    """Functions for the Tk thread, queued from any thread without touching Tk there."""

    def __init__(self, root: tkinter.Tk, wake: WakeMethod | None = None) -> None:
        """Made on the Tk thread."""
        self._root = root
        self._queue: queue.SimpleQueue[Callable[[], None]] = queue.SimpleQueue()
        self._closed = False
        self.wake = wake or default_wake_method()
        self._wake_read = self._wake_write = -1
        self._wanted = threading.Event()
        if self.wake == "pipe" and sys.platform != "win32":  # Tk's file handlers exist on POSIX only
            self._wake_read, self._wake_write = os.pipe()
            os.set_blocking(self._wake_write, False)
            root.createfilehandler(self._wake_read, tkinter.READABLE, self._on_wake)
            if threading.current_thread() is threading.main_thread():
                signal.set_wakeup_fd(self._wake_write)  # signals (SIGTERM, Ctrl+C) wake Tk too
        else:
            self.wake = "waker"
            threading.Thread(target=self._waker, name="ui-waker", daemon=True).start()

    def call_soon(self, function: Callable[[], None]) -> None:
        """Queue `function` for the Tk thread. Any thread; never waits."""
        if self._closed:
            return
        self._queue.put(function)
        if self.wake == "pipe":
            try:
                os.write(self._wake_write, b"!")
            except (BlockingIOError, OSError):
                pass  # full of wake-ups already, or closed during quit
        else:
            self._wanted.set()

    def _waker(self) -> None:
        """The "ui-waker" thread: asks Tk to drain, and is the one that waits while Tk is busy."""
        while True:
            self._wanted.wait()
            if self._closed:
                return
            self._wanted.clear()
            try:
                self._root.after(0, self.drain)
            except (RuntimeError, tkinter.TclError):
                return  # Tk is gone (quit)

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
        """Tk thread."""
        self._closed = True
        if sys.platform != "win32" and self._wake_read >= 0:
            if threading.current_thread() is threading.main_thread():
                signal.set_wakeup_fd(-1)
            self._root.deletefilehandler(self._wake_read)
            os.close(self._wake_read)
            os.close(self._wake_write)
            self._wake_read = self._wake_write = -1
        self._wanted.set()
