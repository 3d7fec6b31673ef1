"""`phitray stop` returns when the agent's process is gone, not when "quit" is queued: the Windows
uninstaller removes the program's files right after it, and a process still running holds them. The
agent here is a process holding the real instance lock whose shutdown takes seconds (as the real one's
can, up to about 17 s) or never ends; `phitray stop` is the real command. The pid comes from the
operating system (SO_PEERCRED here, the pipe server's process id on Windows)."""

from __future__ import annotations

import os
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path

import pytest

from phitray.desktop.instance import instance_address, stop_running
from phitray.paths import Paths

from helpers import slow_agent

pytestmark = pytest.mark.skipif(not sys.platform.startswith("linux"), reason="the Unix socket's agent")


@pytest.fixture
def env(tmp_path: Path) -> dict[str, str]:
    runtime = tmp_path / "run"
    runtime.mkdir(mode=0o700)
    return {**os.environ, "XDG_RUNTIME_DIR": str(runtime), "PHITRAY_CONFIG_DIR": str(tmp_path / "config"),
            "PHITRAY_DATA_DIR": str(tmp_path / "data"), "PHITRAY_CACHE_DIR": str(tmp_path / "cache"),
            "PHITRAY_LOG_DIR": str(tmp_path / "log"), "DISPLAY": ""}


@pytest.fixture
def start_agent(env: dict[str, str], tmp_path: Path) -> Iterator[object]:
    started: list[subprocess.Popen[str]] = []

    def start(shutdown: float) -> subprocess.Popen[str]:
        process = subprocess.Popen(slow_agent.command(Path(env["PHITRAY_CONFIG_DIR"]), shutdown), env=env,
                                   stdin=subprocess.DEVNULL, stdout=subprocess.PIPE, text=True)
        started.append(process)
        assert process.stdout is not None and process.stdout.readline().strip() == "ready"
        return process
    yield start
    for process in started:
        process.kill()
        process.wait()


def stop(env: dict[str, str]) -> subprocess.CompletedProcess[str]:
    return subprocess.run([sys.executable, "-m", "phitray", "stop"], env=env, capture_output=True, text=True,
                          timeout=90, stdin=subprocess.DEVNULL)


def test_stop_returns_once_the_agents_process_has_ended(env: dict[str, str], start_agent: object) -> None:
    assert callable(start_agent)
    agent = start_agent(3.0)
    started = time.monotonic()
    result = stop(env)
    took = time.monotonic() - started
    assert result.returncode == 0 and "has stopped" in result.stderr, result
    assert took >= 3.0, f"stop returned after {took:.1f} s, before the agent's 3 s shutdown ended"
    # Ended, not only past its lock: a zombie (its parent, this test, has not reaped it yet) counts as ended.
    assert agent.wait(timeout=1) == 0


def test_an_agent_that_does_not_end_is_reported_not_waited_for_forever(
    env: dict[str, str], start_agent: object, monkeypatch: pytest.MonkeyPatch
) -> None:
    assert callable(start_agent)
    agent = start_agent(-1)
    for name in ("XDG_RUNTIME_DIR", "PHITRAY_CONFIG_DIR"):
        monkeypatch.setenv(name, env[name])
    config = Path(env["PHITRAY_CONFIG_DIR"])
    started = time.monotonic()
    assert stop_running(instance_address(Paths(config, config, config, config)), 1.0) is False
    assert 1.0 <= time.monotonic() - started < 5
    assert agent.poll() is None


def test_stop_with_no_agent_says_so_at_once(env: dict[str, str]) -> None:
    result = stop(env)
    assert result.returncode == 0 and "no agent is running" in result.stderr, result
