"""Windows: the calls behind `phitray.desktop.system` (DPI and monitors in `windows_screen`)."""

from __future__ import annotations

import os
import sys
from collections.abc import Callable
from pathlib import Path
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    import tkinter

    from phitray.desktop.system import WakePipe

assert sys.platform == "win32"  # tells type checkers for other platforms to stop here


def process_age() -> float | None:
    return None  # the agent's own clock from import stands in


def open_path(path: Path) -> None:
    os.startfile(path)


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
