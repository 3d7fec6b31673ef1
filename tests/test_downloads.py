"""Downloads (phitray.downloads): one pull in a child process watched from the "download-watch" thread,
against the stand-in hub; the settings window's `start_download`; the "download-ended" milestone each
writes; and the download stack kept out of the processes that start them."""

from __future__ import annotations

import ast
import json
import subprocess
import sys
import threading
import time
from pathlib import Path

import pytest

from phitray.backends.catalog import CATALOG, DEFAULT_MODEL, HubSource
from phitray.backends.download_meter import DownloadStatus
from phitray.backends.store import ModelStore
from phitray.children import call_in_child
from phitray.downloads import Download, DownloadOutcome, download_sizes, start_download
from phitray.paths import Paths

from helpers.fake_hub import FakeHub, repo_of_folder

AGENT = Path(__file__).resolve().parent.parent / "agent"
OV_SOURCE = CATALOG[DEFAULT_MODEL].sources["openvino-cpu"]
ONNX_SOURCE = CATALOG[DEFAULT_MODEL].sources["onnx-cpu"]


class Watcher:
    """Collects a download's callbacks with the thread each came on."""

    def __init__(self) -> None:
        self.statuses: list[tuple[str, DownloadStatus]] = []
        self.outcomes: list[tuple[str, DownloadOutcome]] = []
        self.done = threading.Event()

    def progress(self, status: DownloadStatus) -> None:
        self.statuses.append((threading.current_thread().name, status))

    def finished(self, outcome: DownloadOutcome) -> None:
        self.outcomes.append((threading.current_thread().name, outcome))
        self.done.set()


def onnx_repo(tiny_phi3: Path, padding: int = 0) -> dict[str, dict[str, bytes]]:
    extra = {f"{ONNX_SOURCE.subfolder}/padding.bin": bytes(padding)} if padding else {}
    return {ONNX_SOURCE.repo_id: repo_of_folder(tiny_phi3 / "onnx-int4", ONNX_SOURCE.subfolder, extra)}


def ended(caplog: pytest.LogCaptureFixture) -> list[dict[str, object]]:
    """The "download-ended" milestones written so far: their model, backend, outcome and who started it."""
    found = [json.loads(record.getMessage()) for record in caplog.records if record.name == "phitray.milestone"]
    return [{k: m.get(k) for k in ("model_id", "backend_id", "outcome", "by")}
            for m in found if m["milestone"] == "download-ended"]


def test_a_download_reports_on_its_thread_and_ends_verified(
    tiny_phi3: Path, paths: Paths, monkeypatch: pytest.MonkeyPatch, caplog: pytest.LogCaptureFixture
) -> None:
    watcher = Watcher()
    store = ModelStore(paths.models_dir)
    with FakeHub(onnx_repo(tiny_phi3, padding=3 * 1024 * 1024)) as hub:
        hub.bytes_per_second = 4 * 1024 * 1024
        monkeypatch.setenv("HF_ENDPOINT", hub.url)
        Download(store, DEFAULT_MODEL, "onnx-cpu", "first-run", watcher.progress, watcher.finished).start()
        assert watcher.done.wait(60)
    [(thread, outcome)] = watcher.outcomes
    assert (thread, outcome.kind) == ("download-watch", "installed")
    assert {name for name, _ in watcher.statuses} == {"download-watch"}
    done = [status.done_bytes for _, status in watcher.statuses]
    assert done == sorted(done) and len(done) >= 2
    assert watcher.statuses[-1][1].fraction == 1.0
    assert store.find(DEFAULT_MODEL, "onnx-cpu") is not None
    assert ended(caplog) == [{"model_id": DEFAULT_MODEL, "backend_id": "onnx-cpu", "outcome": "installed",
                              "by": "first-run"}]


@pytest.mark.parametrize("by_person", [False, True], ids=["quitting", "stopped by the person"])
def test_a_download_cancelled_leaves_nothing(
    tiny_phi3: Path, paths: Paths, monkeypatch: pytest.MonkeyPatch, caplog: pytest.LogCaptureFixture, by_person: bool
) -> None:
    watcher = Watcher()
    store = ModelStore(paths.models_dir)
    with FakeHub(onnx_repo(tiny_phi3, padding=8 * 1024 * 1024)) as hub:
        hub.bytes_per_second = 2 * 1024 * 1024
        monkeypatch.setenv("HF_ENDPOINT", hub.url)
        download = Download(store, DEFAULT_MODEL, "onnx-cpu", "first-run", watcher.progress, watcher.finished)
        download.start()
        deadline = time.monotonic() + 30
        while not any(status.done_bytes for _, status in watcher.statuses) and time.monotonic() < deadline:
            time.sleep(0.05)
        download.cancel(wait_seconds=10, by_person=by_person)
        assert not download.thread.is_alive()
    kind = "stopped" if by_person else "cancelled"
    assert [outcome.kind for _, outcome in watcher.outcomes] == [kind]
    assert [m["outcome"] for m in ended(caplog)] == [kind]
    assert store.installed() == []
    assert not (paths.models_dir / ".partial" / DEFAULT_MODEL).exists()


def test_a_download_without_a_hub_says_offline(paths: Paths) -> None:
    watcher = Watcher()
    Download(ModelStore(paths.models_dir), DEFAULT_MODEL, "openvino-cpu", "first-run", watcher.progress,
             watcher.finished).start()
    assert watcher.done.wait(30)
    [(_, outcome)] = watcher.outcomes
    assert outcome.kind == "offline" and outcome.message.startswith("Cannot reach the model hub")


def test_the_settings_windows_download_says_how_it_ended_on_the_watching_thread(
    paths: Paths, caplog: pytest.LogCaptureFixture
) -> None:
    ends: list[tuple[str, bool, str]] = []
    done = threading.Event()

    def on_end(failed: bool, sentence: str) -> None:
        ends.append((threading.current_thread().name, failed, sentence))
        done.set()

    start_download(DEFAULT_MODEL, "openvino-cpu", lambda done, total: None, on_end, paths.models_dir)
    assert done.wait(30)
    [(thread, failed, sentence)] = ends
    assert (thread, failed) == ("download-watch", True) and sentence.startswith("Cannot reach the model hub")
    assert ended(caplog) == [{"model_id": DEFAULT_MODEL, "backend_id": "openvino-cpu", "outcome": "offline",
                              "by": "settings"}]


def test_the_settings_windows_cancel_keeps_nothing(
    tiny_phi3: Path, paths: Paths, monkeypatch: pytest.MonkeyPatch, caplog: pytest.LogCaptureFixture
) -> None:
    seen: list[int] = []
    ends: list[tuple[bool, str]] = []
    done = threading.Event()
    with FakeHub(onnx_repo(tiny_phi3, padding=8 * 1024 * 1024)) as hub:
        hub.bytes_per_second = 2 * 1024 * 1024
        monkeypatch.setenv("HF_ENDPOINT", hub.url)
        cancel = start_download(DEFAULT_MODEL, "onnx-cpu", lambda done, total: seen.append(done),
                                lambda failed, sentence: (ends.append((failed, sentence)), done.set()),
                                paths.models_dir)
        deadline = time.monotonic() + 30
        while not any(seen) and time.monotonic() < deadline:
            time.sleep(0.05)
        cancel()
        assert done.wait(30)
    assert ends == [(True, f"Download of {DEFAULT_MODEL} cancelled; nothing of it was kept.")]
    assert [m["outcome"] for m in ended(caplog)] == ["stopped"]
    assert ModelStore(paths.models_dir).installed() == []
    assert not (paths.models_dir / ".partial" / DEFAULT_MODEL).exists()


def test_the_catalogs_sizes_come_from_a_child(monkeypatch: pytest.MonkeyPatch) -> None:
    assert isinstance(OV_SOURCE, HubSource)
    with FakeHub({OV_SOURCE.repo_id: {"openvino_model.bin": b"w" * 3_000_000, "config.json": b"{}"}}) as hub:
        monkeypatch.setenv("HF_ENDPOINT", hub.url)
        sizes = call_in_child("phitray-sizes", 60, download_sizes)
    assert sizes[(DEFAULT_MODEL, "openvino-cpu")] == 3_000_002
    assert sizes[(DEFAULT_MODEL, "directml")] is None  # a repository this hub does not have
    assert set(sizes) == {(m, b) for m, model in CATALOG.items() for b in model.sources}


def test_the_download_stack_stays_out_of_the_process_that_downloads(paths: Paths) -> None:
    # A fresh interpreter, as the agent and the settings window are: pulls and sizes run in children.
    script = f"""
import sys, threading
from pathlib import Path
from phitray.children import call_in_child
from phitray.downloads import download_sizes, start_download
done = threading.Event()
ends = []
start_download("{DEFAULT_MODEL}", "openvino-cpu", lambda done, total: None,
               lambda failed, sentence: (ends.append(sentence), done.set()), Path({str(paths.models_dir)!r}))
assert done.wait(60)
call_in_child("phitray-sizes", 60, download_sizes)
print(ends[0].split(" at ")[0], sorted(name for name in ("huggingface_hub", "httpx", "requests", "ssl")
                                       if name in sys.modules))
"""
    result = subprocess.run([sys.executable, "-c", script], capture_output=True, text=True, timeout=120)
    assert result.stdout.split("\n")[0] == "Cannot reach the model hub []", result.stdout + result.stderr


HUB_OR_HTTP = ("huggingface_hub", "httpx", "httpx2", "requests", "urllib.request", "phitray.backends.pull")


def test_no_window_module_imports_a_hub_or_http_library_not_even_inside_a_function() -> None:
    found = {}
    for path in sorted((AGENT / "ui").glob("*.py")):
        for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
            names = [alias.name for alias in node.names] if isinstance(node, ast.Import) else \
                [node.module or ""] if isinstance(node, ast.ImportFrom) else []
            bad = [name for name in names if any(name == lib or name.startswith(lib + ".") for lib in HUB_OR_HTTP)]
            if bad:
                found.setdefault(path.name, []).extend(bad)
    assert found == {}
