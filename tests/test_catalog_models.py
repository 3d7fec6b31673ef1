"""The catalog's Phi-3.5-mini and Phi-4-mini entries: each hub source resolves against the local stand-in hub
(the tiny Phi-3's files served under the entry's repository and folder, pinned) and the CPU ones load and answer;
the release pins none of them yet, so a real pull is refused before any request; the NPU compiles their 128K
context down to a 4K window."""

from __future__ import annotations

import threading
from pathlib import Path

import pytest

from phitray.backends.base import ModelRef, Request
from phitray.backends.catalog import CATALOG, DEFAULT_MODEL, PHI35_MODEL, PHI4_MODEL, HubSource, npu_context
from phitray.backends.openvino import npu_prompt_window
from phitray.backends.pins import PINS_VARIABLE, pinned
from phitray.backends.pull import download_size, pull
from phitray.backends.registry import create_backend
from phitray.backends.store import ModelStore
from phitray.errors import DownloadError
from phitray.paths import Paths

from helpers.fake_hub import FakeHub, repo_of_folder

NEW = [(model_id, backend_id) for model_id in (PHI35_MODEL, PHI4_MODEL) for backend_id in CATALOG[model_id].sources]


def served_as(tiny_phi3: Path, source: HubSource) -> dict[str, dict[str, bytes]]:
    """The tiny Phi-3 in the format the source names, where the source says (beside a decoy where the source takes
    one folder of its repository)."""
    folder = tiny_phi3 / ("openvino-int4" if source.model_format == "openvino" else "onnx-int4")
    decoy = {"elsewhere/model.bin": b"not this backend's"} if source.subfolder else {}
    return {source.repo_id: repo_of_folder(folder, source.subfolder, decoy)}


def test_the_new_entries_cover_the_backends_with_the_npus_own_build() -> None:
    assert set(CATALOG[PHI35_MODEL].sources) == {"openvino-npu", "openvino-gpu", "openvino-cpu", "directml", "onnx-cpu"}
    assert set(CATALOG[PHI4_MODEL].sources) == {"openvino-gpu", "openvino-cpu", "directml", "onnx-cpu"}
    npu = CATALOG[PHI35_MODEL].sources["openvino-npu"]
    assert isinstance(npu, HubSource) and npu.quantization == "int4 sym, channel-wise" and npu.repo_id.endswith("-cw-ov")
    for model_id in (PHI35_MODEL, PHI4_MODEL):
        model = CATALOG[model_id]
        assert model.context_length == 131072 and model.note and model.title.startswith(model_id.split("-instruct")[0]
                                                                                        .replace("phi", "Phi"))


@pytest.mark.parametrize("model_id, backend_id", NEW)
def test_each_source_resolves_against_the_stand_in_hub(model_id: str, backend_id: str, tiny_phi3: Path, paths: Paths,
                                                      monkeypatch: pytest.MonkeyPatch) -> None:
    source = CATALOG[model_id].sources[backend_id]
    assert isinstance(source, HubSource)
    repos = served_as(tiny_phi3, source)
    with FakeHub(repos) as hub:
        monkeypatch.setenv("HF_ENDPOINT", hub.url)
        size = download_size(model_id, backend_id)
        installed = pull(ModelStore(paths.models_dir), model_id, backend_id, lambda text: None)
    assert installed.folder == paths.models_dir / model_id / source.folder
    assert size == sum(len(data) for name, data in repos[source.repo_id].items() if not name.startswith("elsewhere/"))
    assert not any("elsewhere" in request for request in hub.requests)
    model = ModelStore(paths.models_dir).resolve(model_id, backend_id)
    assert (model.model_format, model.quantization) == (source.model_format, source.quantization)


@pytest.mark.slow
@pytest.mark.parametrize("model_id, backend_id", [(PHI35_MODEL, "openvino-cpu"), (PHI4_MODEL, "onnx-cpu")])
def test_a_pulled_entry_loads_and_answers_on_the_cpu(model_id: str, backend_id: str, tiny_phi3: Path, paths: Paths,
                                                     monkeypatch: pytest.MonkeyPatch) -> None:
    source = CATALOG[model_id].sources[backend_id]
    assert isinstance(source, HubSource)
    with FakeHub(served_as(tiny_phi3, source)) as hub:
        monkeypatch.setenv("HF_ENDPOINT", hub.url)
        pull(ModelStore(paths.models_dir), model_id, backend_id, lambda text: None)
    backend = create_backend(backend_id, paths.compile_cache_dir)
    info = backend.load(ModelStore(paths.models_dir).resolve(model_id, backend_id), lambda text: None)
    try:
        assert info.model_id == model_id
        assert "".join(backend.stream(Request("Hi", max_new_tokens=4), threading.Event())) is not None
    finally:
        backend.unload()


@pytest.mark.parametrize("model_id, backend_id", NEW)
def test_this_release_pins_none_of_them_so_none_is_fetched(model_id: str, backend_id: str, tiny_phi3: Path,
                                                           paths: Paths, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv(PINS_VARIABLE)  # the shipped pins.json
    source = CATALOG[model_id].sources[backend_id]
    assert isinstance(source, HubSource)
    assert not pinned(model_id, backend_id) and download_size(model_id, backend_id) is None
    with FakeHub(served_as(tiny_phi3, source), pinned=False) as hub:
        monkeypatch.setenv("HF_ENDPOINT", hub.url)
        with pytest.raises(DownloadError, match="no pinned revision and file hashes"):
            pull(ModelStore(paths.models_dir), model_id, backend_id, lambda text: None)
    assert not hub.requests


def test_the_npu_compiles_a_long_context_model_to_its_catalog_window() -> None:
    assert npu_context(PHI35_MODEL, 131072) == 4096 and npu_prompt_window(4096) == (3072, 1024)
    assert npu_context(PHI4_MODEL, 131072) == 4096
    assert npu_context(DEFAULT_MODEL, 4096) == 4096, "Phi-3-mini-4k's window changed"
    assert npu_context("my-own-model", 8192) == 8192, "a model the catalog does not know keeps its own window"
    ref = ModelRef(PHI35_MODEL, Path("unused"), "openvino", "int4", 131072)
    assert npu_context(ref.model_id, ref.context_length) < ref.context_length
