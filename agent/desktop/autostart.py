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
import subprocess
import sys
from dataclasses import dataclass
from pathlib import Path
from typing import Protocol

from phitray.errors import AutostartError

ENTRY_NAME = "Phi Tray"
RUN_KEY = r"Software\Microsoft\Windows\CurrentVersion\Run"
STARTUP_APPROVED_KEY = r"Software\Microsoft\Windows\CurrentVersion\Explorer\StartupApproved\Run"
# What Task Manager writes for an entry switched on: a flags byte whose bit 0 is clear, then 11 zero
# bytes (switched off, it sets bit 0 and puts the FILETIME of the change in the last 8 bytes).
STARTUP_APPROVED_ON = bytes([0x02]) + bytes(11)
STARTUP_APPS_SETTINGS = "Windows' Startup apps settings"  # Task Manager's Startup tab shows the same switch
LAUNCH_AGENT_LABEL = "io.github.phitray.agent"


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


def launch_command() -> list[str]:
    """What starts this agent again: the installer's launch script when it started us, else `-m phitray run`."""
    executable = Path(sys.executable)
    if sys.platform == "win32":
        windowless = executable.with_name("pythonw.exe")
        executable = windowless if windowless.exists() else executable
    # The Windows installer's launch script names itself here (packaging/windows/build.py), so
    # start on login runs exactly what the Start-menu shortcut runs.
    script = os.environ.get("PHITRAY_LAUNCH_SCRIPT", "")
    if script and Path(script).is_file():
        return [str(executable), script]
    return [str(executable), "-m", "phitray", "run"]


class XdgAutostart:
    """`$XDG_CONFIG_HOME/autostart/phitray.desktop` (freedesktop Desktop Application Autostart)."""

    def __init__(self, command: list[str] | None = None, config_home: Path | None = None) -> None:
        home = config_home or Path(os.environ.get("XDG_CONFIG_HOME") or Path.home() / ".config")
        self.path = home / "autostart" / "phitray.desktop"
        self.expected = desktop_exec(command or launch_command())

    def status(self) -> AutostartStatus:
        command = ""
        try:
            for line in self.path.read_text(encoding="utf-8").splitlines():
                if line.startswith("Exec="):
                    command = line[len("Exec="):]
        except FileNotFoundError:
            return AutostartStatus(False, str(self.path), "", self.expected)
        except (OSError, UnicodeDecodeError) as error:
            raise AutostartError(f"{self.path} cannot be read: {error}") from error
        return AutostartStatus(True, str(self.path), command, self.expected)

    def enable(self) -> AutostartStatus:
        entry = "\n".join([
            "[Desktop Entry]",
            "Type=Application",
            f"Name={ENTRY_NAME}",
            "Comment=Private writing help from a local model",
            f"Exec={self.expected}",
            "Terminal=false",
            "X-GNOME-Autostart-enabled=true",
            "",
        ])
        try:
            self.path.parent.mkdir(parents=True, exist_ok=True)
            temporary = self.path.with_suffix(".tmp")
            temporary.write_text(entry, encoding="utf-8")
            temporary.replace(self.path)
        except OSError as error:
            raise AutostartError(f"{self.path} cannot be written: {error.strerror}") from error
        return self.status()

    def disable(self) -> AutostartStatus:
        try:
            self.path.unlink(missing_ok=True)
        except OSError as error:
            raise AutostartError(f"{self.path} cannot be removed: {error.strerror}") from error
        return self.status()


def desktop_exec(command: list[str]) -> str:
    """An Exec= value: arguments quoted as the Desktop Entry spec asks (and % doubled)."""
    def quote(argument: str) -> str:
        argument = argument.replace("%", "%%")
        if not any(c in argument for c in ' \t\n"\'\\><~|&;$*?#()`'):
            return argument
        escaped = "".join("\\" + c if c in '"`$\\' else c for c in argument)
        return f'"{escaped}"'
    return " ".join(quote(argument) for argument in command)


def startup_approved(data: object) -> bool:
    """Whether Windows lets a Run value start, given its StartupApproved value (None when there is none).

    Bit 0 of the first byte set (0x03, 0x07…) means switched off; any other
    first byte, or no usable value, means Windows runs the entry.
    """
    if not isinstance(data, bytes) or not data:
        return True
    return not data[0] & 0x01


class WindowsRunKey:
    """`HKCU\\Software\\Microsoft\\Windows\\CurrentVersion\\Run`, value "Phi Tray", with its StartupApproved switch."""

    def __init__(self, command: list[str] | None = None, value_name: str = ENTRY_NAME) -> None:
        self.value_name = value_name
        self.expected = subprocess.list2cmdline(command or launch_command())
        self.location = rf"HKCU\{RUN_KEY}\{value_name}"
        self.approval_location = rf"HKCU\{STARTUP_APPROVED_KEY}\{value_name}"

    def status(self) -> AutostartStatus:
        if sys.platform != "win32":
            raise AutostartError("The Run key exists only on Windows.")
        import winreg

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
        if sys.platform != "win32":
            raise AutostartError("The Run key exists only on Windows.")
        import winreg

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
        if sys.platform != "win32":
            raise AutostartError("The Run key exists only on Windows.")
        import winreg

        for key_path, location in ((RUN_KEY, self.location), (STARTUP_APPROVED_KEY, self.approval_location)):
            try:
                with winreg.OpenKey(winreg.HKEY_CURRENT_USER, key_path, 0, winreg.KEY_SET_VALUE) as key:
                    winreg.DeleteValue(key, self.value_name)
            except FileNotFoundError:
                pass
            except OSError as error:
                raise AutostartError(f"{location} cannot be removed: {error}") from error
        return self.status()


class LaunchAgent:
    """`~/Library/LaunchAgents/io.github.phitray.agent.plist`, loaded by launchd at login."""

    def __init__(self, command: list[str] | None = None, home: Path | None = None) -> None:
        self.path = (home or Path.home()) / "Library" / "LaunchAgents" / f"{LAUNCH_AGENT_LABEL}.plist"
        self.command = command or launch_command()
        self.expected = " ".join(self.command)

    def status(self) -> AutostartStatus:
        import plistlib  # macOS only; elsewhere the agent never loads an XML parser

        try:
            with self.path.open("rb") as file:
                arguments = plistlib.load(file).get("ProgramArguments", [])
        except FileNotFoundError:
            return AutostartStatus(False, str(self.path), "", self.expected)
        except (OSError, plistlib.InvalidFileException) as error:
            raise AutostartError(f"{self.path} cannot be read: {error}") from error
        return AutostartStatus(True, str(self.path), " ".join(map(str, arguments)), self.expected)

    def enable(self) -> AutostartStatus:
        import plistlib

        plist = {"Label": LAUNCH_AGENT_LABEL, "ProgramArguments": self.command, "RunAtLoad": True, "ProcessType": "Interactive"}
        try:
            self.path.parent.mkdir(parents=True, exist_ok=True)
            with self.path.open("wb") as file:
                plistlib.dump(plist, file)
        except OSError as error:
            raise AutostartError(f"{self.path} cannot be written: {error.strerror}") from error
        return self.status()

    def disable(self) -> AutostartStatus:
        self.path.unlink(missing_ok=True)
        return self.status()


def for_this_platform() -> Autostart:
    if sys.platform == "win32":
        return WindowsRunKey()
    if sys.platform == "darwin":
        return LaunchAgent()
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
