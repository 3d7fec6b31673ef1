"""Processes with no standard streams. pythonw.exe (the Start-menu shortcut, the Run key) starts the
agent, and the model host it spawns, with sys.stdout and sys.stderr set to None; huggingface_hub's tqdm
progress bar then raised AttributeError and the first model download failed. Each test runs one of the
agent's process entry points in a fresh interpreter whose streams are None, downloading the model from
a local stand-in for the hub."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

from phitray.backends.catalog import DEFAULT_MODEL
from phitray.paths import Paths

from helpers.env import environment_for
from helpers.fake_hub import FakeHub
from test_pull_hub import SOURCE, hub_files

WITHOUT_STREAMS = "import sys\nsys.stdout = sys.stderr = None  # what pythonw gives a process\n"

# The model host's entry point, as the spawned process runs it: it loads (pulling the model first),
# reads the Shutdown already waiting in its pipe, and returns. The outcome goes to a file: the
# process has nowhere else to say it.
HOST = WITHOUT_STREAMS + """
import traceback
from multiprocessing import Pipe
from pathlib import Path
from phitray.backends.chain import ChainOptions
from phitray.host.messages import LoadFailed, Ready, Shutdown
from phitray.host.server import host_main
from phitray.paths import Paths

root, model_id, outcome = Path(sys.argv[1]), sys.argv[2], Path(sys.argv[3])
try:
    paths = Paths(root / "config", root / "data", root / "cache", root / "log")
    daemon_end, host_end = Pipe()
    daemon_end.send(Shutdown())
    host_main(host_end, ChainOptions(("onnx-cpu",), model_id, paths.compile_cache_dir, fallback_model=None), paths)
    message = daemon_end.recv()
    while not isinstance(message, (Ready, LoadFailed)):
        message = daemon_end.recv()
    outcome.write_text(f"ready {message.info.backend_id}" if isinstance(message, Ready) else f"failed: {message.reason}")
    print("and print() does not raise either")
except BaseException:
    outcome.write_text(traceback.format_exc())
"""

# The `phitray` command's entry point (the one `phitray run` and the installer's launch script go through).
CLI = WITHOUT_STREAMS + """
from phitray.cli.main import main

code = main(["model", "pull", sys.argv[1], "--backend", "onnx-cpu"])
print("and print() does not raise either")
open(sys.argv[2], "w").write(str(code))
"""


def run_without_streams(script: str, paths: Paths, hub: FakeHub, *args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run([sys.executable, "-c", script, *args], capture_output=True, text=True, timeout=300,
                          env=environment_for(paths, HF_ENDPOINT=hub.url))


def test_the_model_host_with_no_streams_downloads_and_loads_its_model(tiny_phi3: Path, paths: Paths, tmp_path: Path) -> None:
    outcome = tmp_path / "outcome.txt"
    with FakeHub({SOURCE.repo_id: hub_files(tiny_phi3)}) as hub:
        done = run_without_streams(HOST, paths, hub, str(paths.data_dir.parent), DEFAULT_MODEL, str(outcome))
    assert outcome.exists(), done.stderr[-2000:]
    assert outcome.read_text() == "ready onnx-cpu"
    assert done.returncode == 0


def test_the_phitray_command_with_no_streams_downloads_a_model(tiny_phi3: Path, paths: Paths, tmp_path: Path) -> None:
    outcome = tmp_path / "exit-code.txt"
    with FakeHub({SOURCE.repo_id: hub_files(tiny_phi3)}) as hub:
        done = run_without_streams(CLI, paths, hub, DEFAULT_MODEL, str(outcome))
    assert outcome.exists(), done.stderr[-2000:]
    assert outcome.read_text() == "0"
    assert (paths.models_dir / DEFAULT_MODEL / SOURCE.folder).is_dir()
    assert done.returncode == 0
