"""`phitray bench` as a person runs it, on the CPU: the starter and the tiny Phi-3, each backend this machine can
run measured, the result printed, kept and charted."""

from __future__ import annotations

import json
import subprocess
import sys
from dataclasses import replace
from pathlib import Path

import pytest
from PIL import Image

from phitray.paths import Paths

from helpers.env import environment_for

pytestmark = pytest.mark.slow
MEASURES = ("first_load_seconds", "cached_load_seconds", "ttft_short_ms", "ttft_long_ms", "tokens_per_second")


def bench(paths: Paths, *args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run([sys.executable, "-m", "phitray", "bench", "--runs", "1", "--max-new-tokens", "16", *args],
                          env=environment_for(paths), capture_output=True, text=True, timeout=600,
                          stdin=subprocess.DEVNULL)


@pytest.fixture
def bench_paths(shared_paths: Paths, tmp_path: Path) -> Paths:
    return replace(shared_paths, config_dir=tmp_path / "config", cache_dir=tmp_path / "cache", log_dir=tmp_path / "log")


def test_the_starter_on_the_cpu_is_measured_kept_and_charted(bench_paths: Paths) -> None:
    done = bench(bench_paths, "--model", "starter", "--backend", "openvino-cpu", "--json")
    assert done.returncode == 0, done.stderr
    printed = json.loads(done.stdout)
    [row] = printed["backends"]
    assert (row["backend_id"], row["device"], row["model_id"], row["error"]) == ("openvino-cpu", "CPU", "starter", "")
    assert all(row[measure] > 0 for measure in MEASURES), row
    assert 900 <= row["long_prompt_tokens"] <= 1100
    assert 0 <= row["overhead_ms"] < 100, "the agent's own share of the first token is not small"
    kept = json.loads((bench_paths.bench_dir / "last.json").read_text())
    assert kept["backends"] == printed["backends"]
    with Image.open(printed["chart"]) as chart:
        assert chart.format == "PNG" and chart.width > 1000


def test_the_tiny_phi3_runs_on_every_backend_that_has_it_and_the_table_says_so(bench_paths: Paths) -> None:
    done = bench(bench_paths, "--model", "tiny-phi3")
    assert done.returncode == 0, done.stderr
    rows = {line.split()[0]: line for line in done.stdout.splitlines()[2:] if line and not line.startswith("chart")}
    assert set(rows) == {"openvino-cpu", "onnx-cpu"}, done.stdout
    assert "openvino-npu: skipped" in done.stderr and "directml: skipped" in done.stderr


def test_a_model_no_backend_has_is_named(bench_paths: Paths) -> None:
    done = bench(bench_paths, "--model", "phi-3-mini-4k-instruct", "--backend", "openvino-cpu")
    assert done.returncode == 1 and "phi-3-mini-4k-instruct is not installed for it" in done.stderr
    assert "no backend here runs phi-3-mini-4k-instruct" in done.stderr
