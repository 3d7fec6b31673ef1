"""The installed agent under Wine (tests/windows/test_installed.py): the installer run silently, the program
started as its shortcut starts it, and what Windows holds of it (registry values, tray icons)."""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
import time
import winreg
from pathlib import Path

from helpers.agentlog import AgentLog

INSTALLER = os.environ.get("PHITRAY_INSTALLER", "")


def timing(name: str, seconds: float) -> None:
    with open(os.environ.get("PHITRAY_TIMINGS", os.devnull), "a", encoding="utf-8") as out:
        out.write(f"{name}: {seconds:.1f} s\n")


def local_appdata() -> Path:
    return Path(os.environ["LOCALAPPDATA"])


def registry_value(key: str, name: str) -> str | None:
    try:
        with winreg.OpenKey(winreg.HKEY_CURRENT_USER, key) as opened:
            return str(winreg.QueryValueEx(opened, name)[0])
    except FileNotFoundError:
        return None


class InstalledAgent(AgentLog):
    def __init__(self, folder: Path, models: Path) -> None:
        self.folder = folder
        self.data = local_appdata() / "phitray"  # settings, actions and the logs
        self.models = models  # PHITRAY_DATA_DIR: the models' store
        self.process: subprocess.Popen[bytes] = None  # type: ignore[assignment]
        self.launched = 0.0

    def env(self) -> dict[str, str]:
        """The agent's environment, also the installer's (its /RUN starts the agent with it)."""
        env = {k: v for k, v in os.environ.items() if not k.startswith(("PHITRAY_", "PYTHON"))}
        env["HF_ENDPOINT"] = "http://127.0.0.1:9"  # the model hub is unreachable here: say so, not wait
        env["PHITRAY_PINS"] = os.environ["PHITRAY_PINS"]  # the tests' pins (conftest): Phi-3's download is tried
        env["PHITRAY_DATA_DIR"] = str(self.models)
        return env

    def install(self, *options: str) -> float:
        """Run the installer silently into this folder, as `PhiTray-…-setup.exe /S …`; the seconds it took."""
        started = time.monotonic()
        # The folder in quotes after the option's "=", as the installer reads it (a path with a space otherwise
        # ends at the space).
        command = " ".join([subprocess.list2cmdline([INSTALLER, "/S", "/CurrentUser", *options]),
                            f'/INSTDIR="{self.folder}"'])
        done = subprocess.run(command, timeout=900, env=self.env(), stdin=subprocess.DEVNULL,
                              stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        assert done.returncode == 0, f"the installer exited {done.returncode}"
        # The harness's Wine shims, beside what the installer laid out (never shipped).
        shutil.copy(Path(sys.prefix) / "Lib" / "site-packages" / "sitecustomize.py", self.folder / "pkgs")
        shutil.copy(Path(sys.executable).parent / "bcryptprimitives.dll", self.folder / "Python")
        return time.monotonic() - started

    @property
    def log_file(self) -> Path:
        return self.data / "Logs" / "phitray.log"

    @property
    def launch_log(self) -> Path:
        """pythonw's output, every process's appended (packaging/windows/build.py's LAUNCH_OUTPUT)."""
        return self.data / "Logs" / "launch.log"

    def output(self) -> str:
        return self.launch_log.read_text(errors="replace") if self.launch_log.exists() else ""

    def launch(self) -> None:
        """As the shortcut does: the installed pythonw on the launch script, from the home folder."""
        self.launched = time.monotonic()
        self.process = subprocess.Popen(
            [str(self.folder / "Python" / "pythonw.exe"), str(self.folder / "Phi_Tray.launch.pyw")],
            cwd=Path.home(), env=self.env(), stdin=subprocess.DEVNULL, stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
        )

    def listed(self) -> list[str]:
        """The install list's lines (packaging/windows/phitray.nsi)."""
        return (self.folder / "install-list.txt").read_text(encoding="utf-16").splitlines()


def probe_icon(window: int, number: int) -> bool:
    """Whether Windows holds a tray icon (window, number): a change of nothing to it succeeds only then."""
    import ctypes

    from pystray._util import win32

    data = win32.NOTIFYICONDATAW(cbSize=ctypes.sizeof(win32.NOTIFYICONDATAW), hWnd=window, uID=number, uFlags=0)
    return bool(win32.Shell_NotifyIcon(win32.NIM_MODIFY, data))
