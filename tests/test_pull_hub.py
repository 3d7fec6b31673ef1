"""`model pull` from a local HTTP server standing in for the hub (HF_ENDPOINT)."""

from __future__ import annotations

import threading
from pathlib import Path

import pytest

from phitray.backends.base import Request
from phitray.backends.catalog import CATALOG, DEFAULT_MODEL
from phitray.backends.pull import pull
from phitray.backends.registry import create_backend
from phitray.backends.store import ModelStore
from phitray.errors import DownloadError, OfflineError
from phitray.paths import Paths

from helpers.fake_hub import FakeHub

SOURCE = CATALOG[DEFAULT_MODEL].sources["onnx-cpu"]


def hub_files(tiny_phi3: Path) -> dict[str, bytes]:
    """The catalog's ONNX repository, with the tiny model in the CPU subfolder and a decoy beside it."""
    files = {f"{SOURCE.subfolder}/{f.name}": f.read_bytes() for f in (tiny_phi3 / "onnx-int4").iterdir()}
    files["directml/directml-int4-awq-block-128/model.onnx.data"] = b"not for this backend"
    files["README.md"] = b"# readme"
    return files


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


def test_an_unreachable_hub_is_one_sentence(paths: Paths) -> None:
    with pytest.raises(OfflineError) as raised:
        pull(ModelStore(paths.models_dir), DEFAULT_MODEL, "openvino-cpu", lambda text: None)
    message = str(raised.value)
    assert message.startswith("Cannot reach the model hub at http://127.0.0.1:9")
    assert "\n" not in message


def test_an_unknown_repository_says_so(paths: Paths, monkeypatch: pytest.MonkeyPatch) -> None:
    with FakeHub({}) as hub:
        monkeypatch.setenv("HF_ENDPOINT", hub.url)
        with pytest.raises(DownloadError, match="was not found on"):
            pull(ModelStore(paths.models_dir), DEFAULT_MODEL, "openvino-cpu", lambda text: None)
