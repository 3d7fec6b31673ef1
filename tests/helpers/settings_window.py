"""Driving the settings window with the keyboard, as a person does, and the settings process run with no agent."""

from __future__ import annotations

import subprocess
import sys
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path


from phitray.paths import Paths

from helpers.agentlog import AgentLog
from helpers.desktop import DesktopSession, popup_window
from helpers.env import environment_for


def keys(session: DesktopSession, *names: str) -> None:
    """Key presses into whatever has the focus, a little apart, as a person types."""
    for name in names:
        session.xdotool("key", name)
        time.sleep(0.15)


def wait_focused(session: DesktopSession, window: str, timeout: float = 10) -> None:
    """Until the window manager says `window` is the active one: the window took the focus itself."""
    deadline = time.monotonic() + timeout
    while session.run("xdotool", "getactivewindow", check=False).strip() != window:
        assert time.monotonic() < deadline, "the window did not take the keyboard focus"
        time.sleep(0.05)
    time.sleep(0.4)  # Tk gives its widget the focus right after the window manager's


class SettingsCommand(AgentLog):
    """`phitray settings` with no agent running: its process, and the log it writes as the agent would."""

    def __init__(self, process: subprocess.Popen[bytes], paths: Paths, out: Path) -> None:
        self.process, self.paths, self.out = process, paths, out

    @property
    def log_file(self) -> Path:
        return self.paths.log_file

    def output(self) -> str:
        return self.out.read_text(encoding="utf-8", errors="replace")


@contextmanager
def own_settings_window(session: DesktopSession, paths: Paths, tmp_path: Path) -> Iterator[tuple[SettingsCommand, str]]:
    """`phitray settings` with no agent running for `paths`: a window of its own that only writes the files.
    Yields the command and its window once the window has the keyboard; what it prints goes to settings.out."""
    (tmp_path / "runtime").mkdir(mode=0o700)
    env = environment_for(paths, DISPLAY=session.display, XDG_RUNTIME_DIR=str(tmp_path / "runtime"),
                          XDG_CONFIG_HOME=str(tmp_path / "xdg-config"))
    with open(tmp_path / "settings.out", "w") as out:
        command = subprocess.Popen([sys.executable, "-m", "phitray", "settings"], env=env, stdin=subprocess.DEVNULL,
                                   stdout=out, stderr=subprocess.STDOUT)
    try:
        window = popup_window(session, "Settings", timeout=30)
        wait_focused(session, window)
        yield SettingsCommand(command, paths, tmp_path / "settings.out"), window
    finally:
        if command.poll() is None:
            command.terminate()
            command.wait(timeout=10)


def dialog(session: DesktopSession, title: str, timeout: float = 10) -> str:
    deadline = time.monotonic() + timeout
    while not (found := session.run("xdotool", "search", "--onlyvisible", "--name", f"^{title}$", check=False).split()):
        assert time.monotonic() < deadline, f"no {title!r} dialog"
        time.sleep(0.05)
    return found[-1]

