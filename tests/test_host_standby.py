"""The model host's warm standby (host/standby.py): a restart takes it over, it holds no model, and it never
outlives its owner, whether the owner closes or is killed."""

from __future__ import annotations

import multiprocessing
import os
import signal
import subprocess
import sys
import threading
from pathlib import Path

from phitray.backends.base import Request
from phitray.backends.chain import ChainOptions
from phitray.host.client import HostEvent, ModelHost
from phitray.host.standby import HOST_NAME
from phitray.paths import Paths

TIMEOUT = 90


class Readies:
    """The host's "ready" events, counted; waited on, never slept for."""

    def __init__(self) -> None:
        self.count = 0
        self.changed = threading.Condition()

    def __call__(self, event: HostEvent) -> None:
        """Called on the host's supervisor thread."""
        if event.kind == "ready":
            with self.changed:
                self.count += 1
                self.changed.notify_all()

    def wait(self, count: int) -> None:
        with self.changed:
            assert self.changed.wait_for(lambda: self.count >= count, TIMEOUT), f"no ready #{count}"


def alive(pid: int | None) -> bool:
    try:
        os.kill(pid or 0, 0)
    except ProcessLookupError:
        return False
    stat = Path(f"/proc/{pid}/stat")
    return stat.exists() and stat.read_text().rsplit(")", 1)[1].split()[0] != "Z"


def holds_a_model(pid: int) -> bool:
    """The model's weights mapped (OpenVINO maps its IR; the first load of a GGUF file reads it instead)."""
    maps = Path(f"/proc/{pid}/maps").read_text()
    return "openvino_model.bin" in maps or ".gguf" in maps


def wait_until(condition: object, what: str) -> None:
    """Poll a process's state (no event tells another process's end) until `condition()`, or fail."""
    done = threading.Event()
    for _ in range(TIMEOUT * 20):
        if condition():  # type: ignore[operator]
            return
        done.wait(0.05)
    raise AssertionError(f"timed out waiting for {what}")


def test_a_restart_takes_over_the_standby_which_holds_no_model_and_none_outlives_close(shared_paths: Paths) -> None:
    options = ChainOptions(("openvino-cpu",), "starter", shared_paths.cache_dir, allow_pull=False, fallback_model=None)
    readies = Readies()
    with ModelHost(options, shared_paths, readies, standby=True) as host:
        host.start(timeout=TIMEOUT)
        wait_until(lambda: host.standby_pid is not None, "a standby after the first ready")
        first, standby = host.pid, host.standby_pid
        assert first is not None and standby is not None and standby != first
        assert not holds_a_model(standby)

        os.kill(first, signal.SIGKILL)
        readies.wait(2)
        assert host.pid == standby and [p.name for p in multiprocessing.active_children() if p.pid == standby] == [HOST_NAME]
        assert holds_a_model(standby)  # now it does (and the check can see one)
        assert host.generate(Request("Say hi.", max_new_tokens=8)).text()
        wait_until(lambda: host.standby_pid not in (None, standby), "a fresh standby after the restart")
        second_standby = host.standby_pid
        assert alive(second_standby) and not alive(first)
    assert not alive(standby) and not alive(second_standby)


STANDBY_OWNER = """
import sys, threading
from phitray.host.standby import Standby
standby = Standby()
standby.start(("openvino-cpu",))
print(standby.pid, flush=True)
threading.Event().wait()
"""


def test_the_standby_ends_when_its_owner_is_killed() -> None:
    owner = subprocess.Popen([sys.executable, "-c", STANDBY_OWNER], stdout=subprocess.PIPE, text=True)
    try:
        assert owner.stdout is not None
        standby = int(owner.stdout.readline())
        assert alive(standby)
    finally:
        owner.send_signal(signal.SIGKILL)
        owner.wait()
    wait_until(lambda: not alive(standby), "the standby to end with its owner")
