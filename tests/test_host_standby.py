"""The model host's warm standby (host/standby.py): a restart takes it over; it holds the model in advance
only where that pays and fits, serves it only for the order it loaded; and it never outlives its owner,
whether the owner closes or is killed (also while it loads)."""

from __future__ import annotations

import multiprocessing
import os
import signal
import subprocess
import sys
import threading
import time
from dataclasses import replace
from pathlib import Path

import pytest

from phitray.backends.base import Request
from phitray.backends.chain import ChainOptions
from phitray.desktop import system
from phitray.host.client import HostEvent, ModelHost
from phitray.host.messages import Ready, Status
from phitray.host.standby import HOST_NAME, LoadOrder, Standby, preload_fits
from phitray.paths import Paths

TIMEOUT = 90


IN_ADVANCE = "the standby had loaded the model in advance"


class Readies:
    """The host's "ready" events, counted; waited on, never slept for. Its statuses, kept."""

    def __init__(self) -> None:
        self.count = 0
        self.statuses: list[str] = []
        self.changed = threading.Condition()

    def __call__(self, event: HostEvent) -> None:
        """Called on the host's supervisor thread."""
        with self.changed:
            self.count += event.kind == "ready"
            if event.kind == "status":
                self.statuses.append(event.text)
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


def starter_options(paths: Paths) -> ChainOptions:
    return ChainOptions(("openvino-cpu",), "starter", paths.cache_dir, allow_pull=False, fallback_model=None)


def test_a_second_copy_is_held_only_when_it_fits_an_eighth_of_the_memory_free() -> None:
    assert preload_fits(98 << 20, 24 << 30)  # the starter on this machine
    assert not preload_fits(2300 << 20, 16 << 30)  # Phi-3-mini int4 on a 16 GB laptop with all of it free
    assert not preload_fits(98 << 20, 3 << 30)  # the starter with little free
    assert not preload_fits(98 << 20, None)  # memory unknown: no second copy


def test_the_memory_free_is_what_the_kernel_says_can_be_used_without_swapping() -> None:
    line = next(line for line in Path("/proc/meminfo").read_text().splitlines() if line.startswith("MemAvailable:"))
    free = system.memory_available()
    assert free is not None and abs(free - int(line.split()[1]) * 1024) < 256 << 20


def test_a_restart_takes_over_the_standby_which_holds_no_model_where_a_copy_does_not_fit_and_none_outlives_close(
        shared_paths: Paths, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(system, "memory_available", lambda: 512 << 20)
    readies = Readies()
    with ModelHost(starter_options(shared_paths), shared_paths, readies, standby=True) as host:
        assert host.standby is not None
        host.start(timeout=TIMEOUT)
        wait_until(lambda: host.standby.pid is not None, "a standby after the first ready")
        first, standby = host.pid, host.standby.pid
        assert first is not None and standby is not None and standby != first
        assert not holds_a_model(standby) and not host.standby.preloaded()

        os.kill(first, signal.SIGKILL)
        readies.wait(2)
        assert host.pid == standby and [p.name for p in multiprocessing.active_children() if p.pid == standby] == [HOST_NAME]
        assert holds_a_model(standby)  # now it does (and the check can see one)
        assert IN_ADVANCE not in readies.statuses
        assert host.generate(Request("Say hi.", max_new_tokens=8)).text()
        wait_until(lambda: host.standby.pid not in (None, standby), "a fresh standby after the restart")
        second_standby = host.standby.pid
        assert alive(second_standby) and not alive(first)
    assert not alive(standby) and not alive(second_standby)


def test_a_cpu_model_that_fits_is_loaded_in_advance_and_a_restart_serves_it_at_once(shared_paths: Paths) -> None:
    readies = Readies()
    with ModelHost(starter_options(shared_paths), shared_paths, readies, standby=True) as host:
        assert host.standby is not None
        host.standby.preload_after = 0.5
        host.start(timeout=TIMEOUT)
        wait_until(host.standby.preloaded, "the standby to load the model in advance")
        first, standby = host.pid, host.standby.pid
        assert standby is not None and holds_a_model(standby)

        os.kill(first or 0, signal.SIGKILL)
        readies.wait(2)
        assert host.pid == standby and IN_ADVANCE in readies.statuses
        assert host.generate(Request("Say hi.", max_new_tokens=8)).text()
        wait_until(lambda: host.standby.pid not in (None, standby), "a fresh standby after the restart")
        wait_until(host.standby.preloaded, "the fresh standby to load the model in advance too")
        second_standby = host.standby.pid
    assert not alive(standby) and not alive(second_standby)


def test_the_model_is_loaded_in_advance_only_once_its_host_has_been_quiet_long_enough(shared_paths: Paths) -> None:
    order = LoadOrder(starter_options(shared_paths), shared_paths)
    quiet: list[float | None] = [None]  # a request runs
    standby = Standby()
    standby.preload_after = 0.5
    try:
        standby.start(order.options.chain, order, lambda: quiet[0])
        pid = standby.pid
        assert pid is not None
        threading.Event().wait(3)  # the imports done, and many times the quiet asked for
        assert not standby.preloaded() and not holds_a_model(pid)
        quiet[0] = time.monotonic()  # the request ended
        wait_until(standby.preloaded, "the standby to load the model once its host was quiet")
    finally:
        standby.close()


def test_a_standby_ordered_to_load_other_options_than_it_holds_loads_them_afresh(shared_paths: Paths) -> None:
    held = LoadOrder(starter_options(shared_paths), shared_paths)
    other = replace(held.options, generation=(("temperature", 0.0),))
    standby, child = Standby(), None
    standby.preload_after = 0.5
    try:
        standby.start(held.options.chain, held)
        wait_until(standby.preloaded, "the standby to load the model in advance")
        child = standby.take(other, shared_paths)
        assert child is not None
        said = []
        while not said or not isinstance(said[-1], Ready):
            assert child.connection.poll(TIMEOUT), "no Ready from the standby"
            said.append(child.connection.recv())
        assert Status(IN_ADVANCE) not in said
        assert any(isinstance(message, Status) and message.text.startswith("loading") for message in said)
    finally:
        standby.close()
        if child is not None:
            child.connection.close()
            child.process.kill()
            child.process.join()


STANDBY_OWNER = """
import sys, threading
from pathlib import Path
from phitray.backends.chain import ChainOptions
from phitray.host.standby import LoadOrder, Standby
from phitray.paths import Paths
paths = Paths(*map(Path, sys.argv[2:6]))
order = LoadOrder(ChainOptions(("openvino-cpu",), "starter", paths.cache_dir, allow_pull=False), paths)
standby = Standby()
standby.preload_after = 0.5
standby.start(("openvino-cpu",), order if sys.argv[1] == "preload" else None)
print(standby.pid, flush=True)
threading.Event().wait()
"""


@pytest.mark.parametrize("preload", ["plain", "preload"])
def test_the_standby_ends_when_its_owner_is_killed(shared_paths: Paths, preload: str) -> None:
    """Killed while the standby waits, or while it loads the model in advance (it ends once the load does)."""
    where = (shared_paths.config_dir, shared_paths.data_dir, shared_paths.cache_dir, shared_paths.log_dir)
    owner = subprocess.Popen([sys.executable, "-c", STANDBY_OWNER, preload, *map(str, where)], stdout=subprocess.PIPE,
                             text=True)
    try:
        assert owner.stdout is not None
        standby = int(owner.stdout.readline())
        assert alive(standby)
        if preload == "preload":
            wait_until(lambda: holds_a_model(standby), "the standby to start loading")
    finally:
        owner.send_signal(signal.SIGKILL)
        owner.wait()
    wait_until(lambda: not alive(standby), "the standby to end with its owner")
