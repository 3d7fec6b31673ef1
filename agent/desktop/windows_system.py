"""Windows: the calls behind `phitray.desktop.system` (DPI and monitors in `windows_screen`)."""

from __future__ import annotations

import contextlib
import os
import sys
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    import tkinter

    from phitray.desktop.system import WakePipe

assert sys.platform == "win32"  # tells type checkers for other platforms to stop here


def process_age() -> float | None:
    return None  # the agent's own clock from import stands in


PROCESS_MODE_BACKGROUND_BEGIN = 0x00100000  # processthreadsapi.h; only for the calling process, as here
PROCESS_MODE_BACKGROUND_END = 0x00200000


@contextlib.contextmanager
def background_work() -> Iterator[None]:
    """SetPriorityClass(BEGIN) for the block, END after: lower CPU, I/O and memory priority, then normal again."""
    from phitray.desktop.windows_api import kernel32

    began = bool(kernel32.SetPriorityClass(kernel32.GetCurrentProcess(), PROCESS_MODE_BACKGROUND_BEGIN))
    try:
        yield
    finally:
        if began:
            kernel32.SetPriorityClass(kernel32.GetCurrentProcess(), PROCESS_MODE_BACKGROUND_END)


def memory_available() -> int | None:
    """GlobalMemoryStatusEx's ullAvailPhys: physical memory that can be used without writing any to disk."""
    import ctypes

    from phitray.desktop.windows_api import MEMORYSTATUSEX, kernel32

    status = MEMORYSTATUSEX()
    status.dwLength = ctypes.sizeof(MEMORYSTATUSEX)
    if not kernel32.GlobalMemoryStatusEx(ctypes.byref(status)):
        return None
    return int(status.ullAvailPhys)


def open_path(path: Path) -> None:
    os.startfile(path)


SEM_NOGPFAULTERRORBOX = 0x0002  # errhandlingapi.h: "the system does not invoke Windows Error Reporting"
WER_FAULT_REPORTING_FLAG_NOHEAP = 0x1  # werapi.h: "do not collect heap information"


def refuse_crash_dumps() -> bool:
    """No Windows Error Reporting for this process alone.

    SetErrorMode(SEM_NOGPFAULTERRORBOX) is per process (added to the mode it has, which a child inherits)
    and keeps WER from being invoked on a crash, so no report and no dump (WER's LocalDumps included).
    WerAddExcludedApplication would exclude every pythonw.exe of the user, for good, through the registry.
    WerSetFlags(NOHEAP) keeps the heap, where the text lives, out of any report WER still makes (a hang).
    """
    import ctypes
    from ctypes import wintypes

    try:
        kernel32 = ctypes.WinDLL("kernel32")  # an instance of its own: argtypes set here touch no one else's
        kernel32.GetErrorMode.restype = wintypes.UINT
        kernel32.SetErrorMode.argtypes = (wintypes.UINT,)
        kernel32.SetErrorMode.restype = wintypes.UINT
        kernel32.SetErrorMode(kernel32.GetErrorMode() | SEM_NOGPFAULTERRORBOX)
        kernel32.WerSetFlags.argtypes = (wintypes.DWORD,)
        kernel32.WerSetFlags.restype = ctypes.c_long  # HRESULT
        kernel32.WerSetFlags(WER_FAULT_REPORTING_FLAG_NOHEAP)
        return bool(kernel32.GetErrorMode() & SEM_NOGPFAULTERRORBOX)
    except (OSError, AttributeError):  # an older or emulated kernel32 without one of them
        return False


def open_wake_pipe(root: tkinter.Tk, on_wake: Callable[[], None]) -> WakePipe | None:
    return None  # Windows' Tk has no file handlers


def declare_dpi_awareness() -> str:
    from phitray.desktop import windows_screen

    return windows_screen.declare_dpi_awareness()


def window_dpi(window_id: int) -> int | None:
    from phitray.desktop import windows_screen

    return windows_screen.window_dpi(window_id)


def work_area(x: int, y: int) -> tuple[int, int, int, int] | None:
    from phitray.desktop import windows_screen

    return windows_screen.work_area(x, y)
