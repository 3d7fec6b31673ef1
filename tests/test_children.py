"""children.py: every child process started one way (spawned, named, with a pipe), and the settings
window's Try, whose sample text goes to its child down that pipe and never on a command line."""

from __future__ import annotations

import os
import time
from dataclasses import replace
from pathlib import Path

import pytest

from phitray.children import call_in_child
from phitray.cli.settings_try import TryEnded, start_try
from phitray.paths import Paths
from phitray.settings import Settings

from helpers.child_targets import who_am_i


def test_a_child_runs_in_a_process_of_its_own_with_the_name_it_was_given() -> None:
    pid, name = call_in_child("phitray-probe", 60, who_am_i)
    assert pid != os.getpid() and name == "phitray-probe"


def test_a_child_that_dies_without_answering_is_an_error_not_a_wait() -> None:
    with pytest.raises(ChildProcessError, match="phitray-probe ended without an answer \\(exit code 3\\)"):
        call_in_child("phitray-probe", 60, os._exit, 3)


def test_a_child_that_does_not_answer_in_time_is_ended() -> None:
    began = time.monotonic()
    with pytest.raises(TimeoutError, match="phitray-probe gave no answer within 3 s"):
        call_in_child("phitray-probe", 3, time.sleep, 60)
    assert time.monotonic() - began < 20


def command_lines() -> list[str]:
    """Every process's command line that can be read, as one string each."""
    lines = []
    for entry in Path("/proc").iterdir():
        if entry.name.isdigit():
            try:
                lines.append((entry / "cmdline").read_bytes().replace(b"\0", b" ").decode("utf-8", "replace"))
            except OSError:
                pass  # gone, or not ours to read
    return lines


@pytest.mark.slow
@pytest.mark.skipif(not Path("/proc/self/cmdline").exists(), reason="reads command lines from /proc")
def test_try_gives_the_sample_text_to_its_child_down_the_pipe(shared_paths: Paths, tmp_path: Path) -> None:
    paths = replace(shared_paths, config_dir=tmp_path / "config", cache_dir=tmp_path / "cache")
    folder = tmp_path / "try"
    (folder / "actions").mkdir(parents=True)
    sample = "Plese proofread this sentense about the zebra-7731 marker."
    settings = Settings(chain=("openvino-cpu",), model_id="starter", allow_pull=False)
    child = start_try(paths, folder, "proofread", sample, settings)
    try:
        pieces: list[str] = []
        ended = None
        while ended is None:
            assert child.connection.poll(120), "Try's child said nothing for 2 minutes"
            message = child.connection.recv()
            if isinstance(message, TryEnded):
                ended = message
            else:
                if not pieces:  # the answer streams: the child and its model host are both running
                    assert not [line for line in command_lines() if "zebra-7731" in line]
                pieces.append(message)
    finally:
        child.process.join(30)
        if child.process.is_alive():
            child.process.kill()
    assert child.process.name == "phitray-try" and child.process.exitcode == 0
    assert ended.code in (0, 3), ended.said  # 3: the starter's answer failed one of proofread's checks
    assert "".join(pieces).strip(), "no answer streamed"
