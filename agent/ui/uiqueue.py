"""`UiQueue`: functions for the Tk thread, queued from any other thread without waiting for it.

No other thread ever calls Tk, and no caller ever waits on the Tk thread:
tkinter hands a call from another thread to the Tk thread and waits for it,
and the Tk thread may itself be busy for seconds (clipboard I/O, a window
being drawn). A hotkey callback that waited there would be dropped by Windows.

So `call_soon` only puts the function in a queue and wakes the Tk loop:
- "pipe" (POSIX; `desktop.system.open_wake_pipe`): a byte down a pipe registered with `createfilehandler`; the
  loop blocks instead of polling, and the same pipe is Python's signal wake-up
  fd, so SIGTERM and Ctrl+C handlers run at once.
- "waker" (Windows, where Tk has no file handlers): a "ui-waker" thread of its
  own makes the cross-thread `after` call, so it is the only thread that ever
  waits for Tk. Until `mainloop` runs, tkinter waits 1 s for it and raises
  RuntimeError; the waker then asks again, so calls queued during a slow start
  run once the loop does.
"""

from __future__ import annotations

import logging
import queue
import threading
import time
import tkinter
from collections.abc import Callable
from typing import Literal

from phitray.desktop.system import open_wake_pipe
from phitray.logs import milestone

log = logging.getLogger(__name__)
WakeMethod = Literal["pipe", "waker"]
RETRY_SECONDS = 0.05  # between asks while the main loop has not started (each ask itself waits up to 1 s)


class UiQueue:
    """Functions for the Tk thread, queued from any thread without touching Tk there."""

    def __init__(self, root: tkinter.Tk, wake: WakeMethod | None = None) -> None:
        """Made on the Tk thread."""
        self._root = root
        self._queue: queue.SimpleQueue[Callable[[], None]] = queue.SimpleQueue()
        self._closed = False
        self._wanted = threading.Event()
        self._pipe = open_wake_pipe(root, self.drain) if wake != "waker" else None  # None: Tk has no file handlers
        self.wake: WakeMethod = "pipe" if self._pipe is not None else "waker"
        if self._pipe is None:
            threading.Thread(target=self._waker, name="ui-waker", daemon=True).start()

    def call_soon(self, function: Callable[[], None]) -> None:
        """Queue `function` for the Tk thread. Any thread; never waits."""
        if self._closed:
            return
        self._queue.put(function)
        if self._pipe is not None:
            self._pipe.wake()
        else:
            self._wanted.set()

    def _waker(self) -> None:
        """The "ui-waker" thread: asks Tk to drain, and is the one that waits while Tk is busy."""
        waiting = False
        while True:
            self._wanted.wait()
            if self._closed:
                return
            self._wanted.clear()
            try:
                self._root.after(0, self.drain)
            except tkinter.TclError:
                return  # Tk is destroyed
            except RuntimeError:
                # The main loop has not started (or has ended before close()): ask again; the calls stay queued.
                if not waiting:
                    log.info("ui-waker: the Tk main loop is not running yet; calls wait for it")
                    waiting = True
                self._wanted.set()
                time.sleep(RETRY_SECONDS)
                continue
            if waiting:
                milestone("ui-waker-waited")
                waiting = False

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
        if self._pipe is not None:
            self._pipe.close()
        self._wanted.set()
