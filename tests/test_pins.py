"""Pins: a hub download fetches the pinned revision and only the pinned files, each checked against its
sha256 before anything is installed, from the stand-in hub (helpers/fake_hub.py); a release writes the pins
with its script, and `model verify` reads every file again."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest

from phitray.backends.catalog import DEFAULT_MODEL
from phitray.backends.pins import PINS_VARIABLE
from phitray.backends.pull import pull
from phitray.backends.store import ModelStore
from phitray.errors import DownloadError
from phitray.paths import Paths

from helpers.env import environment_for
from helpers.fake_hub import COMMIT, FakeHub, Pinned, pins_of

from test_pull_hub import SOURCE, hub_files


def nothing_staged_or_installed(paths: Paths, store: ModelStore) -> None:
    assert store.installed() == []
    assert not (paths.models_dir / ".partial" / DEFAULT_MODEL).exists()
    assert not (paths.models_dir / DEFAULT_MODEL).exists()


def test_a_source_this_release_does_not_pin_is_refused_before_any_request(
    tiny_phi3: Path, paths: Paths, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.delenv(PINS_VARIABLE)  # the shipped pins.json, which pins nothing of Phi-3
    store = ModelStore(paths.models_dir)
    with FakeHub({SOURCE.repo_id: hub_files(tiny_phi3)}, pinned=False) as hub:
        monkeypatch.setenv("HF_ENDPOINT", hub.url)
        with pytest.raises(DownloadError) as raised:
            pull(store, DEFAULT_MODEL, "onnx-cpu", lambda text: None)
    message = str(raised.value)
    assert f"{DEFAULT_MODEL} is not downloaded from {SOURCE.repo_id}/{SOURCE.subfolder}" in message
    assert "no pinned revision and file hashes" in message and "phitray model import" in message
    assert not hub.requests
    nothing_staged_or_installed(paths, store)


def test_the_pinned_revision_and_only_the_pinned_files_are_fetched(
    tiny_phi3: Path, paths: Paths, monkeypatch: pytest.MonkeyPatch
) -> None:
    files = hub_files(tiny_phi3)
    with FakeHub({SOURCE.repo_id: files}) as hub:
        # The repository gains a file after the release pinned it (or a mirror adds one): it is not fetched.
        files[f"{SOURCE.subfolder}/added_later.json"] = b'{"custom_ops_library": "libx.so"}'
        monkeypatch.setenv("HF_ENDPOINT", hub.url)
        model = pull(ModelStore(paths.models_dir), DEFAULT_MODEL, "onnx-cpu", lambda text: None)
    resolved = [request for request in hub.requests if "/resolve/" in request]
    assert resolved and all(f"/resolve/{COMMIT}/" in request for request in resolved)
    assert not any("added_later" in request for request in hub.requests)
    assert "added_later.json" not in model.files


def test_a_file_that_differs_from_its_pin_installs_nothing_and_is_named(
    tiny_phi3: Path, paths: Paths, monkeypatch: pytest.MonkeyPatch
) -> None:
    files = hub_files(tiny_phi3)
    weights = f"{SOURCE.subfolder}/model.onnx.data"
    good = files[weights]
    store = ModelStore(paths.models_dir)
    with FakeHub({SOURCE.repo_id: files}) as hub:
        monkeypatch.setenv("HF_ENDPOINT", hub.url)
        files[weights] = good[:-1] + bytes([good[-1] ^ 1])  # one bit, same size: only the hash can tell
        with pytest.raises(DownloadError, match=r"model\.onnx\.data has sha256 [0-9a-f]{64}, its pin [0-9a-f]{64}; "
                                                 r"nothing was installed"):
            pull(store, DEFAULT_MODEL, "onnx-cpu", lambda text: None)
        nothing_staged_or_installed(paths, store)
        files[weights] = good[: len(good) // 2]  # cut short
        with pytest.raises(DownloadError, match=rf"model\.onnx\.data is {len(good) // 2} bytes, its pin {len(good)}"):
            pull(store, DEFAULT_MODEL, "onnx-cpu", lambda text: None)
        nothing_staged_or_installed(paths, store)
        files[weights] = good  # the hub serves the pinned file again: the next attempt fetches it afresh
        model = pull(store, DEFAULT_MODEL, "onnx-cpu", lambda text: None)
    assert (model.folder / "model.onnx.data").read_bytes() == good


def test_a_mirror_must_serve_the_pinned_bytes(tiny_phi3: Path, paths: Paths, monkeypatch: pytest.MonkeyPatch) -> None:
    files = hub_files(tiny_phi3)
    config = f"{SOURCE.subfolder}/genai_config.json"
    mirrored = {**files, config: files[config].replace(b'"context_length"', b'"context_length" ')}
    store = ModelStore(paths.models_dir)
    with Pinned({SOURCE.repo_id: files}), FakeHub({SOURCE.repo_id: mirrored}, pinned=False) as mirror:
        monkeypatch.setenv("HF_ENDPOINT", mirror.url)
        with pytest.raises(DownloadError, match=rf"from {mirror.url} is not what this release pins .*genai_config"):
            pull(store, DEFAULT_MODEL, "onnx-cpu", lambda text: None)
    nothing_staged_or_installed(paths, store)


def test_a_folder_whose_config_names_a_native_library_is_refused(
    tiny_phi3: Path, paths: Paths, monkeypatch: pytest.MonkeyPatch
) -> None:
    files = hub_files(tiny_phi3)
    config = f"{SOURCE.subfolder}/genai_config.json"
    genai = json.loads(files[config])
    genai["model"]["decoder"].setdefault("session_options", {})["custom_ops_library"] = "libcustom_ops.so"
    files[config] = json.dumps(genai).encode()
    store = ModelStore(paths.models_dir)
    with FakeHub({SOURCE.repo_id: files}) as hub:  # pinned as served: only the content refuses it
        monkeypatch.setenv("HF_ENDPOINT", hub.url)
        with pytest.raises(DownloadError, match=r"genai_config\.json names a native library "
                                                 r"\(model\.decoder\.session_options\.custom_ops_library = "):
            pull(store, DEFAULT_MODEL, "onnx-cpu", lambda text: None)
    nothing_staged_or_installed(paths, store)


def test_malformed_pins_pin_nothing_and_say_why(tmp_path: Path, paths: Paths, monkeypatch: pytest.MonkeyPatch) -> None:
    pins = pins_of({SOURCE.repo_id: {f"{SOURCE.subfolder}/model.onnx": b"x"}})
    for broken, why in ((dict(pins, repos={SOURCE.repo_id: {"revision": "main", "files": {}}}), "40-hex commit"),
                        ({"repos": {SOURCE.repo_id: {"revision": COMMIT, "files": {"../x": {"size": 1, "sha256": "0" * 64}}}}},
                         "not a path inside the repository"),
                        ({"repos": []}, "cannot be read")):
        file = tmp_path / "pins.json"
        file.write_text(json.dumps(broken))
        monkeypatch.setenv(PINS_VARIABLE, str(file))
        with pytest.raises(DownloadError, match=why):
            pull(ModelStore(paths.models_dir), DEFAULT_MODEL, "onnx-cpu", lambda text: None)


def test_a_release_pins_what_the_hub_serves_with_its_script_and_pulls_match_them(
    tiny_phi3: Path, paths: Paths, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    files = hub_files(tiny_phi3)
    out = tmp_path / "pins.json"
    with FakeHub({SOURCE.repo_id: files}, pinned=False) as hub:
        monkeypatch.setenv("HF_ENDPOINT", hub.url)
        done = subprocess.run([sys.executable, "scripts/pin_models.py", "--out", str(out), "--repo", SOURCE.repo_id],
                              capture_output=True, text=True, cwd=Path(__file__).parent.parent, timeout=120)
        assert done.returncode == 0, done.stdout + done.stderr
        pins = json.loads(out.read_text())["repos"][SOURCE.repo_id]
        assert pins["revision"] == COMMIT
        assert "README.md" not in pins["files"]  # outside every folder the catalog takes from the repository
        assert pins == pins_of({SOURCE.repo_id: {n: d for n, d in files.items() if n != "README.md"}})["repos"][SOURCE.repo_id]
        monkeypatch.setenv(PINS_VARIABLE, str(out))
        assert pull(ModelStore(paths.models_dir), DEFAULT_MODEL, "onnx-cpu", lambda text: None)


def test_model_verify_rereads_every_file_against_its_pins(
    tiny_phi3: Path, paths: Paths, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    store = ModelStore(paths.models_dir)
    with FakeHub({SOURCE.repo_id: hub_files(tiny_phi3)}) as hub:
        monkeypatch.setenv("HF_ENDPOINT", hub.url)
        model = pull(store, DEFAULT_MODEL, "onnx-cpu", lambda text: None)
        store.import_path(tiny_phi3 / "openvino-int4", "mine")

        def verify(*args: str) -> tuple[int, str]:
            done = subprocess.run([sys.executable, "-m", "phitray", "model", "verify", *args], capture_output=True,
                                  text=True, env=environment_for(paths), timeout=120)
            return done.returncode, done.stdout + done.stderr

        code, out = verify()
        assert code == 0, out
        assert f"matches   {DEFAULT_MODEL} (onnx-cpu-int4-rtn): 6 files match {SOURCE.repo_id} at {COMMIT[:12]}" in out
        assert "unpinned  mine (openvino-imported): not a catalog download" in out
        weights = model.folder / "model.onnx.data"
        data = weights.read_bytes()
        weights.write_bytes(data[:-1] + bytes([data[-1] ^ 1]))  # the size stays: loads would not notice
        store.resolve(DEFAULT_MODEL, "onnx-cpu")
        code, out = verify(DEFAULT_MODEL)
        assert code == 1 and f"differs   {DEFAULT_MODEL} (onnx-cpu-int4-rtn): model.onnx.data has sha256 " in out
        assert "mine" not in out
        weights.write_bytes(data)
        (model.folder / "extra.so").write_bytes(b"ELF")
        code, out = verify(DEFAULT_MODEL)
        assert code == 1 and "refused   " in out and "extra.so is a native library" in out
        code, out = verify("nothing-here")
        assert code == 1 and "nothing-here is not installed" in out
