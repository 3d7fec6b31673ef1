"""The resident model host as a real child process: streaming, cancel, crashes, fallback."""

from __future__ import annotations

import os
import resource
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest

from phitray.backends.base import Request
from phitray.backends.chain import ChainOptions
from phitray.backends.store import ModelStore
from phitray.errors import HostCrashed, NoBackendLoaded
from phitray.paths import Paths
from phitray.host.client import HostEvent, ModelHost

TINY = "tiny-phi3"
LONG = Request("Write a long story about a lighthouse.", max_new_tokens=200)


def options(paths: Paths, chain: tuple[str, ...] = ("openvino-cpu",), model: str = TINY) -> ChainOptions:
    return ChainOptions(chain, model, paths.compile_cache_dir, allow_pull=False, fallback_model=None)


def test_the_host_streams_and_reports_timings(shared_paths: Paths) -> None:
    with ModelHost(options(shared_paths), shared_paths) as host:
        info = host.start(timeout=60)
        assert info.backend_id == "openvino-cpu" and info.model_id == TINY
        generation = host.generate(Request("Hello", max_new_tokens=16))
        chunks = list(generation)
        assert len(chunks) > 1
        assert generation.stats is not None and not generation.stats.cancelled
        assert 0 < generation.stats.ttft_seconds <= generation.stats.seconds
        assert host.count_tokens("hello world") >= 2


def test_cancel_stops_the_stream_quickly(shared_paths: Paths) -> None:
    with ModelHost(options(shared_paths), shared_paths) as host:
        host.start(timeout=60)
        generation = host.generate(LONG)
        chunks = 0
        for _ in generation:
            chunks += 1
            if chunks == 2:
                asked = time.perf_counter()
                generation.cancel()
        stopped = time.perf_counter() - asked
        assert generation.stats is not None and generation.stats.cancelled
        assert chunks < 100
        assert stopped < 1.0  # the benchmark reports the real figure; this only catches a hang


def kill_mid_stream(host: ModelHost) -> None:
    generation = host.generate(LONG)
    with pytest.raises(HostCrashed, match="stopped unexpectedly"):
        for index, _ in enumerate(generation):
            if index == 0:
                os.kill(host.pid, signal.SIGKILL)


def test_a_killed_host_is_restarted_and_the_next_request_succeeds(shared_paths: Paths) -> None:
    events: list[HostEvent] = []
    with ModelHost(options(shared_paths), shared_paths, events.append) as host:
        host.start(timeout=60)
        first_pid = host.pid
        kill_mid_stream(host)
        info = host.wait_ready(timeout=30)
        assert host.pid != first_pid and info.backend_id == "openvino-cpu"
        assert host.generate(Request("Hi", max_new_tokens=8)).text()
    kinds = [event.kind for event in events]
    assert kinds.count("crashed") == 1 and kinds.count("ready") == 2


def test_repeated_crashes_fall_back_to_the_next_backend(shared_paths: Paths) -> None:
    events: list[HostEvent] = []
    chain = ("openvino-cpu", "onnx-cpu")
    with ModelHost(options(shared_paths, chain), shared_paths, events.append, max_restarts=2) as host:
        host.start(timeout=60)
        for _ in range(2):
            host.wait_ready(timeout=30)
            assert host.info is not None and host.info.backend_id == "openvino-cpu"
            kill_mid_stream(host)
        info = host.wait_ready(timeout=30)
        assert info.backend_id == "onnx-cpu"
        assert host.generate(Request("Hi", max_new_tokens=8)).text()
    assert any(event.kind == "fallback" and "onnx-cpu" in event.text for event in events)


def test_a_damaged_model_falls_through_to_the_next_backend(tiny_phi3: Path, paths: Paths) -> None:
    store = ModelStore(paths.models_dir)
    damaged = store.import_path(tiny_phi3 / "openvino-int4", TINY)
    (damaged.folder / "openvino_model.bin").write_bytes(b"\0" * 100)
    store.import_path(tiny_phi3 / "onnx-int4", TINY)
    with ModelHost(options(paths, ("openvino-cpu", "onnx-cpu")), paths) as host:
        assert host.start(timeout=60).backend_id == "onnx-cpu"
        skipped = {d.backend_id: d for d in host.decisions}["openvino-cpu"]
        assert skipped.outcome == "skipped" and "openvino_model.bin is 100 bytes" in skipped.reason


def test_no_usable_backend_is_one_clear_error(paths: Paths) -> None:
    with ModelHost(options(paths, ("openvino-npu", "openvino-cpu")), paths) as host:
        with pytest.raises(NoBackendLoaded) as raised:
            host.start(timeout=60)
    message = str(raised.value)
    assert "openvino-npu (tiny-phi3): no NPU in openvino.Core().available_devices" in message
    assert "openvino-cpu (tiny-phi3): tiny-phi3 is not installed for openvino-cpu" in message


FAULTS = Path(__file__).resolve().parent / "helpers" / "faults"


@pytest.mark.skipif(not sys.platform.startswith("linux"), reason="prctl and core files are Linux's")
def test_the_host_is_not_dumpable_and_leaves_no_core_when_it_crashes(shared_paths: Paths, tmp_path: Path,
                                                                     monkeypatch: pytest.MonkeyPatch) -> None:
    # Cores are written here (core_pattern "core" in the crashing process's folder) once the limit allows:
    # an ordinary process shows it, then the model host, started the same way, must not leave one.
    monkeypatch.chdir(tmp_path)
    monkeypatch.setenv("PYTHONPATH", os.pathsep.join(p for p in (str(FAULTS), os.environ.get("PYTHONPATH")) if p))
    monkeypatch.setenv("PHITRAY_FAULTS", "")
    limits = resource.getrlimit(resource.RLIMIT_CORE)
    resource.setrlimit(resource.RLIMIT_CORE, (limits[1], limits[1]))
    try:
        (tmp_path / "ordinary").mkdir()
        subprocess.run([sys.executable, "-c", "import os; os.abort()"], cwd=tmp_path / "ordinary", check=False)
        if not any((tmp_path / "ordinary").iterdir()):
            pytest.skip(f"this machine writes no core files (core_pattern {Path('/proc/sys/kernel/core_pattern').read_text().strip()!r}, limit {limits})")
        events: list[HostEvent] = []
        with ModelHost(options(shared_paths), shared_paths, events.append) as host:
            host.start(timeout=60)
            # Read in the host process itself, by the test backend of helpers/faults.
            assert host.generate(Request("DUMPABLE?", max_new_tokens=4)).text() == "dumpable=0"
            assert Path(f"/proc/{host.pid}/limits").read_text().split("Max core file size")[1].split()[:2] == ["0", "0"]
            crashed = host.pid
            os.kill(crashed or 0, signal.SIGABRT)
            for _ in range(300):
                if any(event.kind == "crashed" for event in events):
                    break
                time.sleep(0.05)
            host.wait_ready(timeout=60)
            assert host.pid != crashed
            assert [e.text for e in events if e.kind == "crashed"] == ["the model host stopped (exit code -6); restart 1"]
        assert sorted(path.name for path in tmp_path.iterdir()) == ["ordinary"]
    finally:
        resource.setrlimit(resource.RLIMIT_CORE, limits)
