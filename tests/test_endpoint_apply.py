"""`Daemon.apply` turns the local endpoint on, moves it and turns it off, and only when `[server]` changed; the
daemon runs for real on a private X display with a scripted desktop and a stand-in tray (as in test_threads.py)."""

from __future__ import annotations

import socket
from collections.abc import Iterator
from dataclasses import replace
from pathlib import Path

import httpx
import pytest

from phitray.app.daemon import Daemon
from phitray.paths import Paths
from phitray.settings import Settings

from helpers.desktop import DesktopSession
from helpers.daemon import RecordingTray, private_paths, running_daemon

SETTINGS = Settings(chain=("openvino-cpu",), model_id="starter", allow_pull=False)


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
    with running_daemon(private_paths(shared_paths, tmp_path, monkeypatch, tk_display), SETTINGS) as running:
        yield running.daemon, running.tray


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
