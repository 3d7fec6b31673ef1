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
