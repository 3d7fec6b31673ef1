"""The real daemon in the test process: its Tk root, UI queue, jobs thread and hotkey table on the session's
bare X display, with a scripted desktop, a tray that records what it is shown, and the host controller's
`switch` recorded instead of starting model hosts."""

from __future__ import annotations

import threading
import tkinter
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field, replace
from pathlib import Path

import pytest

from phitray.app.daemon import Daemon
from phitray.backends.chain import ChainOptions
from phitray.desktop.instance import InstanceLock, instance_address
from phitray.paths import Paths
from phitray.settings import LoadedSettings, Settings
from phitray.ui.tray import TrayView

from helpers.desktop import DesktopSession
from helpers.scripted import ScriptedDesktop


class RecordingTray:
    """Stands in for `ui.tray.Tray` (our own class; pystray is covered end to end in test_desktop)."""

    def __init__(self) -> None:
        self.visible = threading.Event()
        self.shown_at = 0.0
        self.views: list[TrayView] = []
        self.notices: list[str] = []

    def attach(self, commands: object, view: TrayView, call_soon: object = None, root: object = None) -> None:
        self.views.append(view)

    def show(self, view: TrayView) -> None:
        self.views.append(view)

    def notify(self, message: str, title: str = "Phi Tray") -> None:
        self.notices.append(message)

    def stop(self) -> None:
        pass


@dataclass
class RunningDaemon:
    daemon: Daemon
    desktop: ScriptedDesktop
    tray: RecordingTray
    switches: list[ChainOptions] = field(default_factory=list)


def private_paths(shared_paths: Paths, tmp_path: Path, monkeypatch: pytest.MonkeyPatch, display: DesktopSession) -> Paths:
    """The shared model store with this test's own config, log and cache, on `display`, with start on login
    and the agent's channel in folders of the test's own."""
    for name in ("DISPLAY", "DBUS_SESSION_BUS_ADDRESS"):
        if name in display.env:
            monkeypatch.setenv(name, display.env[name])
    monkeypatch.setenv("XDG_CONFIG_HOME", str(tmp_path / "xdg"))
    monkeypatch.setenv("XDG_RUNTIME_DIR", str(tmp_path / "runtime"))
    (tmp_path / "runtime").mkdir(mode=0o700, exist_ok=True)
    return replace(shared_paths, config_dir=tmp_path / "config", log_dir=tmp_path / "log", cache_dir=tmp_path / "cache")


@contextmanager
def running_daemon(paths: Paths, settings: Settings, host: object | None = None) -> Iterator[RunningDaemon]:
    """A started daemon whose host switches are recorded, shut down after. With `host` (a ScriptedHost), the
    jobs thread runs on it as on the current model host."""
    lock = InstanceLock(instance_address(paths))
    assert lock.acquire()
    root = tkinter.Tk()
    root.withdraw()
    desktop, tray = ScriptedDesktop(), RecordingTray()
    daemon = Daemon(paths, LoadedSettings(settings, ()), lock, root, tray, desktop.desktop())  # type: ignore[arg-type]
    running = RunningDaemon(daemon, desktop, tray)
    daemon.controller.switch = running.switches.append  # type: ignore[method-assign]
    if host is not None:
        daemon.controller.current = lambda: host  # type: ignore[assignment,method-assign,return-value]
    daemon.start()
    try:
        yield running
    finally:
        daemon.shutdown()
        root.destroy()
