"""Small calls into the operating system that the rest of the agent must not branch on.

Each platform's calls live in a module of their own, chosen here once: `windows_system`,
`macos_system`, and `linux_system` for Linux and the other Unix desktops.
"""

from __future__ import annotations

import os
import sys
import time
from collections.abc import Callable
from pathlib import Path
from typing import TYPE_CHECKING, ContextManager, Protocol

if TYPE_CHECKING:
    import tkinter

if sys.platform == "win32":
    from phitray.desktop import windows_system as platform_calls
elif sys.platform == "darwin":
    from phitray.desktop import macos_system as platform_calls
else:
    from phitray.desktop import linux_system as platform_calls

IMPORTED_AT = time.perf_counter()
Rectangle = tuple[int, int, int, int]  # left, top, right, bottom in virtual-screen pixels; right/bottom exclusive


def seconds_since_launch() -> float:
    """Time since this process started (Linux: from /proc), else since this module was imported."""
    age = platform_calls.process_age()
    return age if age is not None else time.perf_counter() - IMPORTED_AT


def open_path(path: Path) -> None:
    """Open a folder or file in the desktop's default program, without waiting for it."""
    platform_calls.open_path(path)


def fill_missing_standard_streams() -> None:
    """Give this process a stdout and a stderr where it has none: os.devnull.

    pythonw.exe (the Start-menu shortcut and the Run key start the agent with it, and the model host
    it spawns runs the same interpreter) sets sys.stdout and sys.stderr to None, as does a POSIX start
    with those descriptors closed. tqdm's progress bars in huggingface_hub downloads, print() and a
    logging.StreamHandler then raise AttributeError, and the first model download fails. devnull rather
    than the log: the log file belongs to the daemon's RotatingFileHandler, and a second process
    holding it open keeps Windows from renaming it when it rotates.

    Called first in each process's entry point, on its main thread, before anything writes.
    """
    for name in ("stdout", "stderr"):
        if getattr(sys, name) is None:
            # Left open for the life of the process, as a real standard stream is.
            setattr(sys, name, open(os.devnull, "w", encoding="utf-8"))


def refuse_crash_dumps() -> bool:
    """Keep this process's memory out of core dumps and crash reports, and from debuggers where the
    platform allows: for the model host, which holds the person's text and is expected to crash now and
    then (driver faults). Linux: not dumpable (prctl PR_SET_DUMPABLE 0, which also keeps other programs
    of the same user from attaching or reading /proc/<pid>/mem) and no core size; Windows: no Windows Error
    Reporting for this process (SetErrorMode SEM_NOGPFAULTERRORBOX), and no heap in any report made anyway
    (WerSetFlags NOHEAP); macOS: no core size. Returns whether it took effect; never raises. Called first
    in the process's entry point, on its main thread."""
    return platform_calls.refuse_crash_dumps()


def background_work() -> ContextManager[None]:
    """For the block, this process's work yields to the person's programs (Windows' background mode: lower
    CPU, I/O and memory priority); elsewhere nothing, since a Unix process cannot raise its priority back."""
    return platform_calls.background_work()


def memory_available() -> int | None:
    """Bytes of memory that can be given to a new process without swapping (Linux MemAvailable, Windows'
    available physical memory); None where unknown. Never raises; any thread."""
    try:
        return platform_calls.memory_available()
    except (OSError, ValueError):
        return None


class WakePipe(Protocol):
    def wake(self) -> None: ...  # any thread; never waits

    def close(self) -> None: ...  # Tk thread


def open_wake_pipe(root: tkinter.Tk, on_wake: Callable[[], None]) -> WakePipe | None:
    """A pipe whose every wake() makes Tk's loop call `on_wake` on the Tk thread, the loop blocking
    meanwhile instead of polling; None where Tk has no file handlers (Windows). Tk thread."""
    return platform_calls.open_wake_pipe(root, on_wake)


# --- DPI and monitors: Windows calls them (desktop/windows_screen.py); elsewhere Tk's own numbers hold


def declare_dpi_awareness() -> str:
    """Tell Windows that this process draws for the system DPI (windows_rules.DPI_AWARENESS says why), so it
    does not bitmap-stretch Tk's windows on that monitor (blurry at 125-150 %, the scaling most laptops use)
    and stretches them to size on the others. Returns what was declared, for the log ('' off Windows);
    never raises: a blurry window beats no agent.

    python.exe and pythonw.exe declare nothing in their manifests, and Windows takes the declaration
    only before the process has made any window; so this runs on the main thread before the tray's
    window and Tk's root exist.
    """
    return platform_calls.declare_dpi_awareness()


def window_dpi(window_id: int) -> int | None:
    """The DPI Windows draws the window `window_id` (an HWND, e.g. Tk's winfo_id()) at; None off Windows
    or before Windows 10 1607, where Tk's own scaling stands. Tk thread."""
    return platform_calls.window_dpi(window_id)


def work_area(x: int, y: int) -> Rectangle | None:
    """The work area (the monitor less the taskbar and docked bars) of the monitor at (x, y), or the
    nearest one; None off Windows or when Windows does not say, and callers then use Tk's screen size.
    Tk's winfo_screenwidth() is the primary monitor's alone on Windows (cpython #119459). Any thread."""
    return platform_calls.work_area(x, y)
