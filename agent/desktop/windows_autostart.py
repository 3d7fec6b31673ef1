"""Start on login on Windows: the HKCU Run value, with its StartupApproved switch (see `autostart`)."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

from phitray.desktop.autostart import (
    ENTRY_NAME, RUN_KEY, STARTUP_APPROVED_KEY, STARTUP_APPROVED_ON, STARTUP_APPS_SETTINGS, AutostartStatus,
    launch_command, startup_approved,
)
from phitray.errors import AutostartError

assert sys.platform == "win32"  # tells type checkers for other platforms to stop here

import winreg  # noqa: E402


def windowless_launch_command() -> list[str]:
    """`launch_command()` through the pythonw.exe beside this python.exe, where there is one: no
    console window opens at login."""
    executable = Path(sys.executable)
    windowless = executable.with_name("pythonw.exe")
    return launch_command(windowless if windowless.exists() else executable)


class WindowsRunKey:
    """`HKCU\\Software\\Microsoft\\Windows\\CurrentVersion\\Run`, value "Phi Tray", with its StartupApproved switch."""

    def __init__(self, command: list[str] | None = None, value_name: str = ENTRY_NAME) -> None:
        self.value_name = value_name
        self.expected = subprocess.list2cmdline(command or windowless_launch_command())
        self.location = rf"HKCU\{RUN_KEY}\{value_name}"
        self.approval_location = rf"HKCU\{STARTUP_APPROVED_KEY}\{value_name}"

    def status(self) -> AutostartStatus:
        try:
            with winreg.OpenKey(winreg.HKEY_CURRENT_USER, RUN_KEY) as key:
                command, _ = winreg.QueryValueEx(key, self.value_name)
        except FileNotFoundError:
            return AutostartStatus(False, self.location, "", self.expected)
        except OSError as error:
            raise AutostartError(f"{self.location} cannot be read: {error}") from error
        try:
            with winreg.OpenKey(winreg.HKEY_CURRENT_USER, STARTUP_APPROVED_KEY) as key:
                approval, _ = winreg.QueryValueEx(key, self.value_name)
        except FileNotFoundError:
            approval = None  # never switched in Windows' settings: Windows runs it
        except OSError as error:
            raise AutostartError(f"{self.approval_location} cannot be read: {error}") from error
        if not startup_approved(approval):
            return AutostartStatus(False, self.location, "", self.expected, turned_off_in=STARTUP_APPS_SETTINGS)
        return AutostartStatus(True, self.location, str(command), self.expected)

    def enable(self) -> AutostartStatus:
        try:
            with winreg.CreateKey(winreg.HKEY_CURRENT_USER, RUN_KEY) as key:
                winreg.SetValueEx(key, self.value_name, 0, winreg.REG_SZ, self.expected)
        except OSError as error:
            raise AutostartError(f"{self.location} cannot be written: {error}") from error
        # Written even when absent: a switch-off left from an earlier entry of the same name would
        # otherwise keep the new one from starting.
        try:
            with winreg.CreateKey(winreg.HKEY_CURRENT_USER, STARTUP_APPROVED_KEY) as key:
                winreg.SetValueEx(key, self.value_name, 0, winreg.REG_BINARY, STARTUP_APPROVED_ON)
        except OSError as error:
            raise AutostartError(f"{self.approval_location} cannot be written: {error}") from error
        return self.status()

    def disable(self) -> AutostartStatus:
        for key_path, location in ((RUN_KEY, self.location), (STARTUP_APPROVED_KEY, self.approval_location)):
            try:
                with winreg.OpenKey(winreg.HKEY_CURRENT_USER, key_path, 0, winreg.KEY_SET_VALUE) as key:
                    winreg.DeleteValue(key, self.value_name)
            except FileNotFoundError:
                pass
            except OSError as error:
                raise AutostartError(f"{location} cannot be removed: {error}") from error
        return self.status()
