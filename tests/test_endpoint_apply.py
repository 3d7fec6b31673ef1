"""`Daemon.apply` turns the local endpoint on, moves it and turns it off, and only when `[server]` changed; the
daemon runs for real on a private X display with a scripted desktop and a stand-in tray (as in test_threads.py)."""

from __future__ import annotations

import socket
import threading
import tkinter
from collections.abc import Iterator
from dataclasses import replace
from pathlib import Path

import httpx
import pytest

from phitray.app.daemon import Daemon
from phitray.backends.chain import ChainOptions
from phitray.desktop.instance import InstanceLock, instance_address
from phitray.paths import Paths
from phitray.settings import LoadedSettings, Settings
from phitray.ui.tray import TrayView

from helpers.desktop import DesktopSession
from helpers.scripted import ScriptedDesktop

SETTINGS = Settings(chain=("openvino-cpu",), model_id="starter", allow_pull=False)


class RecordingTray:
    def __init__(self) -> None:
        self.visible = threading.Event()
        self.shown_at = 0.0
        self.notices: list[str] = []

    def attach(self, commands: object, view: TrayView, call_soon: object = None, root: object = None) -> None:
        pass

    def show(self, view: TrayView) -> None:
        pass

    def notify(self, message: str, title: str = "Phi Tray") -> None:
        self.notices.append(message)

    def stop(self) -> None:
        pass


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


def answers(port: int) -> bool:
    try:
        return httpx.get(f"http://127.0.0.1:{port}/api/version", timeout=5).status_code == 401
    except httpx.HTTPError:
        return False


@pytest.fixture
def daemon(tk_display: DesktopSession, shared_paths: Paths, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
           ) -> Iterator[tuple[Daemon, RecordingTray]]:
    monkeypatch.setenv("DISPLAY", tk_display.env["DISPLAY"])
    monkeypatch.setenv("XDG_CONFIG_HOME", str(tmp_path / "xdg"))
    monkeypatch.setenv("XDG_RUNTIME_DIR", str(tmp_path / "runtime"))
    (tmp_path / "runtime").mkdir(mode=0o700)
    paths = replace(shared_paths, config_dir=tmp_path / "config", log_dir=tmp_path / "log", cache_dir=tmp_path / "cache")
    lock = InstanceLock(instance_address(paths))
    assert lock.acquire()
    root = tkinter.Tk()
    root.withdraw()
    tray = RecordingTray()
    agent = Daemon(paths, LoadedSettings(SETTINGS, ()), lock, root, tray, ScriptedDesktop().desktop())  # type: ignore[arg-type]
    switches: list[ChainOptions] = []
    agent.controller.switch = switches.append  # type: ignore[method-assign]
    agent.start()
    try:
        yield agent, tray
    finally:
        agent.shutdown()
        root.destroy()


def test_apply_starts_moves_and_stops_the_endpoint_only_when_the_server_table_changes(
        daemon: tuple[Daemon, RecordingTray]) -> None:
    agent, tray = daemon
    first, second = free_port(), free_port()
    assert agent.endpoint.port is None and not answers(first)
    on = replace(SETTINGS, server_enabled=True, server_port=first)
    agent.apply(new_settings=on)
    assert agent.endpoint.port == first and answers(first)
    running = agent.endpoint._thread
    agent.apply(new_settings=replace(on, translate_language="German"))
    assert agent.endpoint._thread is running, "a change elsewhere restarted the endpoint"
    agent.apply(new_settings=replace(on, server_port=second))
    assert answers(second) and not answers(first)
    agent.apply(new_settings=replace(on, server_enabled=False, server_port=second))
    assert agent.endpoint.port is None and not answers(second)
    assert tray.notices == []


def test_a_taken_port_is_a_notice_and_the_agent_goes_on(daemon: tuple[Daemon, RecordingTray]) -> None:
    agent, tray = daemon
    with socket.socket() as squatter:
        squatter.bind(("127.0.0.1", 0))
        squatter.listen(1)
        port = squatter.getsockname()[1]
        agent.apply(new_settings=replace(SETTINGS, server_enabled=True, server_port=port))
        assert agent.endpoint.port is None
        assert any(f"did not start on port {port}" in notice for notice in tray.notices), tray.notices
    assert agent.jobs is not None and not agent.jobs.busy
