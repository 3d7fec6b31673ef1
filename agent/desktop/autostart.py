"""Start on login: the HKCU Run value on Windows, an XDG autostart entry on Linux, a LaunchAgent on macOS.

On Windows the Run value alone does not decide: Task Manager's Startup tab and
Settings → Apps → Startup switch an entry off in `…\\Explorer\\StartupApproved\\Run`
and leave the Run value in place. The agent reads that switch (an entry switched
off there is off) and writes it with the Run value (turning start on login on
here turns it on there too).

Each entry launches the interpreter that is running now with `-m phitray run`
(on Windows `pythonw.exe`, so no console window opens), or, for an agent the
Windows installer's shortcut started, that shortcut's launch script. `check()` on every
start notices an entry that points at another interpreter (a moved or
recreated venv) and rewrites it.
"""

from __future__ import annotations

import os
import sys
from dataclasses import dataclass
from pathlib import Path
from typing import Protocol

ENTRY_NAME = "Phi Tray"
RUN_KEY = r"Software\Microsoft\Windows\CurrentVersion\Run"
STARTUP_APPROVED_KEY = r"Software\Microsoft\Windows\CurrentVersion\Explorer\StartupApproved\Run"
# What Task Manager writes for an entry switched on: a flags byte whose bit 0 is clear, then 11 zero
# bytes (switched off, it sets bit 0 and puts the FILETIME of the change in the last 8 bytes).
STARTUP_APPROVED_ON = bytes([0x02]) + bytes(11)
STARTUP_APPS_SETTINGS = "Windows' Startup apps settings"  # Task Manager's Startup tab shows the same switch


@dataclass(frozen=True)
class AutostartStatus:
    enabled: bool
    location: str  # the file or registry value
    command: str  # what it runs now ('' when disabled)
    expected: str  # what it should run
    turned_off_in: str = ""  # where the person switched off an entry that still exists ('' when they did not)

    @property
    def points_elsewhere(self) -> bool:
        return self.enabled and self.command != self.expected

    def describe(self) -> str:
        if self.turned_off_in:
            return f"off (disabled in {self.turned_off_in}, though {self.location} exists)"
        if not self.enabled:
            return f"off ({self.location} does not exist)"
        if self.points_elsewhere:
            return f"on, but {self.location} runs {self.command!r} instead of {self.expected!r}"
        return f"on ({self.location})"


class Autostart(Protocol):
    def status(self) -> AutostartStatus: ...
    def enable(self) -> AutostartStatus: ...
    def disable(self) -> AutostartStatus: ...


def launch_command(executable: Path | None = None) -> list[str]:
    """What starts this agent again through `executable` (this interpreter when None): the installer's
    launch script when it started us, else `-m phitray run`."""
    executable = executable or Path(sys.executable)
    # The Windows installer's launch script names itself here (packaging/windows/build.py), so
    # start on login runs exactly what the Start-menu shortcut runs.
    script = os.environ.get("PHITRAY_LAUNCH_SCRIPT", "")
    if script and Path(script).is_file():
        return [str(executable), script]
    return [str(executable), "-m", "phitray", "run"]


def startup_approved(data: object) -> bool:
    """Whether Windows lets a Run value start, given its StartupApproved value (None when there is none).

    Bit 0 of the first byte set (0x03, 0x07…) means switched off; any other
    first byte, or no usable value, means Windows runs the entry.
    """
    if not isinstance(data, bytes) or not data:
        return True
    return not data[0] & 0x01


def for_this_platform() -> Autostart:
    """This platform's entry, each in a module of its own: `windows_autostart`, `launchd_autostart`, and
    `xdg_autostart` for Linux and the other Unix desktops."""
    if sys.platform == "win32":
        from phitray.desktop.windows_autostart import WindowsRunKey

        return WindowsRunKey()
    if sys.platform == "darwin":
        from phitray.desktop.launchd_autostart import LaunchAgent

        return LaunchAgent()
    from phitray.desktop.xdg_autostart import XdgAutostart

    return XdgAutostart()


def check(autostart: Autostart) -> str | None:
    """On every start: repair an entry that runs another interpreter. Returns what was done, if anything.

    An entry the person switched off in Windows' settings is left alone: rewriting it would switch it on.
    """
    status = autostart.status()
    if status.points_elsewhere:
        old = status.command
        autostart.enable()
        return f"Start on login ran {old!r}; it now runs {status.expected!r}."
    return None
