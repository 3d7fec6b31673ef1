"""macOS: the calls behind `phitray.desktop.system`. Its Tk is a POSIX Tk, as on Linux; its opener is `open`."""

from __future__ import annotations

import sys
from pathlib import Path

assert sys.platform != "win32"  # tells type checkers for Windows to stop here

from phitray.desktop.linux_system import (  # noqa: E402
    background_work, declare_dpi_awareness, open_detached, open_wake_pipe, window_dpi, work_area,
)

__all__ = ["background_work", "declare_dpi_awareness", "memory_available", "open_path", "open_wake_pipe", "process_age",
           "refuse_crash_dumps", "window_dpi", "work_area"]


def process_age() -> float | None:
    return None  # no /proc: the agent's own clock from import stands in


def memory_available() -> int | None:
    return None  # no MemAvailable; what needs it (a loaded standby) does without


def open_path(path: Path) -> None:
    open_detached(["open", str(path)])


def refuse_crash_dumps() -> bool:
    """No core file (macOS has no prctl; its crash reports hold no memory)."""
    import resource

    try:
        resource.setrlimit(resource.RLIMIT_CORE, (0, 0))
    except (OSError, ValueError):
        return False
    return True
