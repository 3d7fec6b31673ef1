"""Linux and the other Unix desktops: the calls behind `phitray.desktop.system`.

No DPI or monitor calls: Tk's own scaling and screen size stand.
"""

from __future__ import annotations

import contextlib
import logging
import os
import signal
import subprocess
import sys
import threading
import tkinter
from collections.abc import Callable
from pathlib import Path

assert sys.platform != "win32"  # tells type checkers for Windows to stop here

log = logging.getLogger(__name__)


def process_age() -> float | None:
    """Seconds since this process started, from /proc; None where there is none."""
    try:
        ticks = int(Path("/proc/self/stat").read_text().rsplit(")", 1)[1].split()[19])
        uptime = float(Path("/proc/uptime").read_text().split()[0])
        return uptime - ticks / os.sysconf("SC_CLK_TCK")
    except (OSError, ValueError, IndexError):
        return None


def background_work() -> contextlib.AbstractContextManager[None]:
    return contextlib.nullcontext()


def memory_available() -> int | None:
    for line in Path("/proc/meminfo").read_text().splitlines():
        if line.startswith("MemAvailable:"):
            return int(line.split()[1]) * 1024  # "MemAvailable:   23534 kB"
    return None


def open_path(path: Path) -> None:
    open_detached(["xdg-open", str(path)])


PR_SET_DUMPABLE = 4  # <linux/prctl.h>


def refuse_crash_dumps() -> bool:
    """prctl(PR_SET_DUMPABLE, 0), and a core size of 0 for a core_pattern that is a pipe."""
    import ctypes
    import resource

    try:
        resource.setrlimit(resource.RLIMIT_CORE, (0, 0))
    except (OSError, ValueError) as error:
        log.warning("cannot limit core dumps: %s", error)
    try:
        libc = ctypes.CDLL(None, use_errno=True)
        if libc.prctl(PR_SET_DUMPABLE, 0, 0, 0, 0) == 0:
            return True
        log.warning("prctl(PR_SET_DUMPABLE, 0) failed: %s", os.strerror(ctypes.get_errno()))
    except (OSError, AttributeError) as error:  # no C library, or one without prctl (not Linux)
        log.warning("cannot make this process undumpable: %s", error)
    return False


def open_detached(command: list[str]) -> None:
    """Start `command` in a session of its own, with no stdio of ours, and do not wait for it."""
    try:
        subprocess.Popen(command, stdin=subprocess.DEVNULL, stdout=subprocess.DEVNULL,
                         stderr=subprocess.DEVNULL, start_new_session=True)
    except OSError as error:
        log.warning("cannot open %s: %s", command[-1], error)


class TkWakePipe:
    """A pipe registered with Tk's `createfilehandler` (POSIX Tk only): a byte written to it wakes Tk's
    loop, which blocks instead of polling. Made on the Tk thread. On the main thread it is also Python's
    signal wake-up fd, so SIGTERM and Ctrl+C handlers run at once."""

    def __init__(self, root: tkinter.Tk, on_wake: Callable[[], None]) -> None:
        self._root, self._on_wake = root, on_wake
        self._read, self._write = os.pipe()
        os.set_blocking(self._write, False)  # a full pipe already holds a wake-up: the writer never waits
        root.createfilehandler(self._read, tkinter.READABLE, self._readable)
        self._signals = threading.current_thread() is threading.main_thread()
        if self._signals:
            signal.set_wakeup_fd(self._write)

    def wake(self) -> None:
        """Any thread; never waits."""
        try:
            os.write(self._write, b"!")
        except OSError:  # BlockingIOError included
            pass  # full of wake-ups already, or closed during quit

    def _readable(self, fd: int, mask: int) -> None:
        """Called on the Tk thread when the pipe has bytes."""
        os.read(fd, 4096)
        self._on_wake()

    def close(self) -> None:
        """Tk thread."""
        if self._signals:
            signal.set_wakeup_fd(-1)
        self._root.deletefilehandler(self._read)
        read, write, self._read, self._write = self._read, self._write, -1, -1  # a late wake() writes nowhere
        os.close(read)
        os.close(write)


def open_wake_pipe(root: tkinter.Tk, on_wake: Callable[[], None]) -> TkWakePipe:
    return TkWakePipe(root, on_wake)


def declare_dpi_awareness() -> str:
    return ""


def window_dpi(window_id: int) -> int | None:
    return None


def work_area(x: int, y: int) -> tuple[int, int, int, int] | None:
    return None
