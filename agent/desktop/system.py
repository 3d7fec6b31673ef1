"""Small calls into the operating system that the rest of the agent must not branch on."""

from __future__ import annotations

import logging
import os
import subprocess
import sys
import time
from pathlib import Path

log = logging.getLogger(__name__)
IMPORTED_AT = time.perf_counter()


def seconds_since_launch() -> float:
    """Time since this process started (Linux: from /proc), else since this module was imported."""
    if sys.platform != "win32":
        try:
            ticks = int(Path("/proc/self/stat").read_text().rsplit(")", 1)[1].split()[19])
            uptime = float(Path("/proc/uptime").read_text().split()[0])
            return uptime - ticks / os.sysconf("SC_CLK_TCK")
        except (OSError, ValueError, IndexError):
            pass
    return time.perf_counter() - IMPORTED_AT


def open_path(path: Path) -> None:
    """Open a folder or file in the desktop's default program, without waiting for it."""
    if sys.platform == "win32":
        os.startfile(path)  # type: ignore[attr-defined]
        return
    opener = "open" if sys.platform == "darwin" else "xdg-open"
    try:
        subprocess.Popen([opener, str(path)], stdin=subprocess.DEVNULL, stdout=subprocess.DEVNULL,
                         stderr=subprocess.DEVNULL, start_new_session=True)
    except OSError as error:
        log.warning("cannot open %s: %s", path, error)


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


# --- DPI and monitors: Windows calls them (desktop/windows_screen.py); elsewhere Tk's own numbers hold

Rectangle = tuple[int, int, int, int]  # left, top, right, bottom in virtual-screen pixels; right/bottom exclusive


def declare_dpi_awareness() -> str:
    """Tell Windows that this process draws for each monitor's DPI, so it does not bitmap-stretch Tk's
    windows (blurry at 125-150 %, the scaling most laptops use). Returns what was declared, for the log
    ('' off Windows); never raises: a blurry window beats no agent.

    python.exe and pythonw.exe declare nothing in their manifests, and Windows takes the declaration
    only before the process has made any window; so this runs on the main thread before the tray's
    window and Tk's root exist.
    """
    if sys.platform == "win32":
        from phitray.desktop import windows_screen

        return windows_screen.declare_dpi_awareness()
    return ""


def window_dpi(window_id: int) -> int | None:
    """The DPI Windows draws the window `window_id` (an HWND, e.g. Tk's winfo_id()) at; None off Windows
    or before Windows 10 1607, where Tk's own scaling stands. Tk thread."""
    if sys.platform == "win32":
        from phitray.desktop import windows_screen

        return windows_screen.window_dpi(window_id)
    return None


def work_area(x: int, y: int) -> Rectangle | None:
    """The work area (the monitor less the taskbar and docked bars) of the monitor at (x, y), or the
    nearest one; None off Windows or when Windows does not say, and callers then use Tk's screen size.
    Tk's winfo_screenwidth() is the primary monitor's alone on Windows (cpython #119459). Any thread."""
    if sys.platform == "win32":
        from phitray.desktop import windows_screen

        return windows_screen.work_area(x, y)
    return None
