"""The selected text goes nowhere but the model, on every way a job can end.

The real daemon (tests/helpers/daemon.py) runs on the session's Xvfb display with its Tk root, UI queue,
jobs thread, notice window and popup, on the scripted model host and the scripted editor. A marker is
in every selection; jobs end done, flagged (the check's reason quotes the marker), with the host
crashing mid-answer, with a fault whose message quotes the text, cancelled, with the copy too slow,
with the paste not seen, on an unknown action and on a selection over the settings' limit; the settings
window's Try runs a draft on the marked sample text (at the window's seam, `LiveSettings`), and, with
the text still in the agent, a model download fails (a file that differs from its pin, from the stand-in
hub). Then every file under the agent's folders (config, log with its job records, data, models, cache,
start on login, the channel's folder) is read as bytes, and every process's command line (also while
the download's child runs): the marker is in none of them.
With text logging on, the same sweep finds the marker in the log, so the sweep can see it.

With no agent running, the settings window's Try runs the draft in a "phitray-try" child of its own on the
starter model (slow): a draft whose answer fails its check, the reason quoting the text's name. The
sample text goes down the child's pipe; no command line holds the marker or the name while the child and
its model host run, and no file under the test's folders (nor one the child wrote in the shared model
store) does, unless text logging is on, when the log holds the child's reason.

And a real model host (the tiny Phi-3, its backend made to hang after a word by tests/helpers/faults)
is killed by SIGABRT while it holds the marked prompt, with core files allowed in the test's folder (an
ordinary process's core there holds the text, or the test skips): the answer fails as the host's crash,
and the marker is in no file there (no core) and no command line.
"""

from __future__ import annotations

import json
import logging
import os
import resource
import shutil
import signal
import subprocess
import sys
import tempfile
import threading
import time
import tkinter
from collections.abc import Callable
from dataclasses import replace
from pathlib import Path

import pytest

from phitray import errors
from phitray.actions.library import load_actions, read_action
from phitray.backends.base import Request
from phitray.backends.catalog import CATALOG, DEFAULT_MODEL
from phitray.backends.chain import ChainOptions
from phitray.backends.store import ModelStore
from phitray.cli.settings_try import TryInChild
from phitray.host.client import ModelHost
from phitray.host.scripted import Answer, ScriptedHost
from phitray.jobs.record import JobRecord, read_records
from phitray.jobs.types import ActionJob
from phitray.logs import set_level, setup_logging
from phitray.paths import Paths
from phitray.settings import Settings
from phitray.ui.uiqueue import UiQueue

from helpers.agent import STARTER_SETTINGS
from helpers.agentlog import MILESTONE_LINE
from helpers.daemon import RunningDaemon, private_paths, running_daemon
from helpers.desktop import DesktopSession
from helpers.fake_hub import FakeHub, repo_of_folder
from helpers.marked import FIXED, MARKER, TEXT, Script

FAULTS = Path(__file__).resolve().parent / "helpers" / "faults"
# A draft whose answer drops the text's facts, so its check fails and the child's reason quotes the marker.
DRAFT = '''id = "say-ok"
title = "Say OK"
output = "popup"
max_new_tokens = 8
prompt = """Answer with the single word OK and nothing else.

$text"""

[checks]
keeps_facts = true
'''
NEEDLES = (MARKER, "Halvorsen")  # the reason names the text's name and the marker's number (-4411)
SETTINGS = Settings(chain=("openvino-cpu",), model_id="starter", allow_pull=False, capture_timeout_ms=300,
                    paste_timeout_ms=300, release_timeout_ms=300)


def run(agent: RunningDaemon, job: ActionJob | Callable[[], str], paths: Paths, **desktop: object) -> JobRecord:
    """Select the marked text in the scripted editor, submit `job` as a hotkey does (or call it: the settings
    window's Try, which says "" when it runs), and wait for its record with the Tk thread (the test's own)
    running the daemon's events."""
    editor = agent.desktop
    editor.text, editor.selection, editor.copy_delay, editor.paste_works = TEXT, (0, len(TEXT)), 0.0, True
    for name, value in desktop.items():
        setattr(editor, name, value)
    before = len(records(paths))
    if isinstance(job, ActionJob):
        agent.daemon.submit(job)
    else:
        assert job() == ""
    deadline = time.monotonic() + 30
    while len(records(paths)) == before:
        assert time.monotonic() < deadline, f"no record for {job}"
        agent.daemon.root.update()
        time.sleep(0.01)
    while agent.daemon.jobs is not None and agent.daemon.jobs.busy:  # its Idle, then the next job
        agent.daemon.root.update()
        time.sleep(0.01)
    agent.daemon.root.update()
    return records(paths)[-1]


def cancel_once_the_popup_streams(agent: RunningDaemon) -> None:
    """The person presses the tray's Cancel once they see the answer coming in. Tk thread."""
    popup = agent.daemon.windows.popup
    if popup is not None and popup.streaming and popup.text:
        agent.daemon.cancel()
    else:
        agent.daemon.root.after(10, cancel_once_the_popup_streams, agent)


def fail_a_download(agent: RunningDaemon, tiny_phi3: Path, monkeypatch: pytest.MonkeyPatch) -> str:
    """The settings window's Download of the catalog's model, from a hub serving a file that differs from its
    pin; the Tk thread runs the daemon's events meanwhile and every process's command line is read while
    the download's child runs. Returns what the window would say."""
    source = CATALOG[DEFAULT_MODEL].sources["onnx-cpu"]
    files = repo_of_folder(tiny_phi3 / "onnx-int4", source.subfolder)
    ended: list[tuple[bool, str]] = []
    done = threading.Event()

    def on_end(failed: bool, sentence: str) -> None:
        """The download-watch thread."""
        ended.append((failed, sentence))
        done.set()

    with FakeHub({source.repo_id: files}) as hub:
        monkeypatch.setenv("HF_ENDPOINT", hub.url)
        weights = f"{source.subfolder}/model.onnx.data"
        files[weights] = files[weights][:-1] + bytes([files[weights][-1] ^ 1])  # same size, another hash
        agent.daemon.settings_window.start_download(DEFAULT_MODEL, "onnx-cpu", lambda done, total: None, on_end)
        deadline = time.monotonic() + 60
        while not done.is_set():
            assert time.monotonic() < deadline, "the download never ended"
            assert not command_lines_holding(MARKER)
            agent.daemon.root.update()
            time.sleep(0.02)
    [(failed, sentence)] = ended
    assert failed and "model.onnx.data" in sentence, sentence
    return sentence


def records(paths: Paths) -> list[JobRecord]:
    return read_records(paths.log_file.read_text(encoding="utf-8")) if paths.log_file.exists() else []


def files_holding(folder: Path, marker: str, since: float = 0.0) -> list[Path]:
    """Every file under `folder` (changed `since`, a time.time()) whose bytes hold `marker` as UTF-8 or UTF-16."""
    needles = [marker.encode(), marker.encode("utf-16-le")]
    return [path for path in sorted(folder.rglob("*")) if path.is_file() and not path.is_symlink()
            and path.stat().st_mtime >= since and any(needle in path.read_bytes() for needle in needles)]


def command_lines_holding(marker: str) -> list[str]:
    found = []
    for entry in Path("/proc").iterdir():
        if entry.name.isdigit():
            try:
                line = (entry / "cmdline").read_bytes()
            except OSError:
                continue  # gone meanwhile, or not ours to read
            if marker.encode() in line:
                found.append(f"{entry.name}: {line!r}")
    return found


@pytest.mark.parametrize("log_text", [False, True])
def test_the_marker_of_the_selection_is_in_no_file_and_no_command_line_whatever_the_job_ends_in(
        tk_display: DesktopSession, shared_paths: Paths, tiny_phi3: Path, tmp_path: Path,
        monkeypatch: pytest.MonkeyPatch, log_text: bool) -> None:
    paths = replace(private_paths(shared_paths, tmp_path, monkeypatch, tk_display), data_dir=tmp_path / "data")
    script = Script()
    handler = setup_logging(paths, "debug" if log_text else "info", log_text)
    try:
        with running_daemon(paths, replace(SETTINGS, log_text=log_text), ScriptedHost(script)) as agent:
            hotkey = ActionJob("hotkey", "proofread")
            assert run(agent, hotkey, paths).outcome == "done"
            assert agent.desktop.text == FIXED
            script.next = TEXT.replace(MARKER, "the invoice")  # drops the marker: the check's reason quotes it
            flagged = run(agent, hotkey, paths)
            assert (flagged.outcome, flagged.output, flagged.flagged) == ("done", "popup", True), flagged
            script.next = Answer(tuple(f"{word} " for word in FIXED.split()),
                                 error=errors.HostCrashed("The model host stopped."))
            assert run(agent, hotkey, paths).outcome == "HostCrashed"
            script.next = RuntimeError(f"a fault that quotes {TEXT}")
            assert run(agent, hotkey, paths).outcome == "RuntimeError"
            script.next = Answer.words(f"{FIXED} " * 200, piece_seconds=0.02)
            cancel_once_the_popup_streams(agent)
            assert run(agent, ActionJob("hotkey", "proofread", output="popup"), paths).outcome == "Cancelled"
            script.next = FIXED
            mark = agent.desktop.mark
            assert run(agent, hotkey, paths, copy_delay=1.0).outcome == "NothingSelected"  # the copy came too late
            deadline = time.monotonic() + 10
            while agent.desktop.mark == mark:  # the late copy lands before the next job's own
                assert time.monotonic() < deadline, "the editor's late copy never landed"
                time.sleep(0.01)
            unseen = run(agent, hotkey, paths, paste_works=False)
            assert (unseen.outcome, unseen.output) == ("done", "popup"), unseen
            script.next = TEXT.replace(MARKER, "the invoice")  # Try's answer flagged too, its reason quoting it
            proofread = load_actions(None).get("proofread")
            tried = run(agent, lambda: agent.daemon.settings_window.try_action(proofread, TEXT, ""), paths)
            assert (tried.outcome, tried.output, tried.flagged) == ("done", "popup", True), tried
            fail_a_download(agent, tiny_phi3, monkeypatch)
            assert ModelStore(paths.models_dir).installed() == []
            assert run(agent, ActionJob("hotkey", "no-such-action"), paths).outcome == "ConfigError"
            agent.daemon.apply(new_settings=replace(SETTINGS, log_text=log_text, max_characters=20))
            assert run(agent, hotkey, paths).outcome == "Notice"  # longer than the settings allow
            assert MARKER not in "".join(agent.tray.notices)
            assert not command_lines_holding(MARKER)
    finally:
        logging.getLogger().removeHandler(handler)
        handler.close()
        set_level("info")
    assert len(records(paths)) == 10
    written = files_holding(tmp_path, MARKER)
    if log_text:
        assert written == [paths.log_file]  # asked for: the log holds the texts, and only the log
    else:
        assert written == [], [(path, path.read_bytes()[:200]) for path in written]
    assert os.listdir(paths.log_dir) == ["phitray.log"]


@pytest.mark.slow
@pytest.mark.parametrize("log_text", [False, True])
def test_the_marker_of_the_standalone_windows_try_goes_to_its_child_down_the_pipe_and_into_no_file(
        tk_display: DesktopSession, shared_paths: Paths, tmp_path: Path, monkeypatch: pytest.MonkeyPatch,
        log_text: bool) -> None:
    paths = private_paths(shared_paths, tmp_path, monkeypatch, tk_display)  # the shared store: the starter
    (tmp_path / "tmp").mkdir()
    monkeypatch.setattr(tempfile, "tempdir", str(tmp_path / "tmp"))  # the draft's folder, among the scanned
    paths.config_dir.mkdir(parents=True)
    paths.settings_file.write_text(STARTER_SETTINGS + f"[log]\ninclude_text = {str(log_text).lower()}\n",
                                   encoding="utf-8")
    began = time.time()
    handler = setup_logging(paths, "info", log_text)
    root = tkinter.Tk()
    root.withdraw()
    ui = UiQueue(root)
    trying = TryInChild(root, ui, paths)
    try:
        assert trying.run(read_action(DRAFT, "draft"), TEXT, DRAFT) == ""
        deadline = time.monotonic() + 300
        while not (ended := [m for m in milestones(paths) if m["milestone"] == "try-ended"]):
            assert time.monotonic() < deadline, "Try never ended"
            for needle in NEEDLES:  # the child, then its model host, run meanwhile
                assert not command_lines_holding(needle)
            root.update()
            time.sleep(0.05)
    finally:
        trying.close()
        ui.close()
        root.destroy()
        logging.getLogger().removeHandler(handler)
        handler.close()
    assert (ended[0]["exit"], ended[0]["answer_chars"] != 0) == (3, True), ended  # 3: its check failed
    for needle in NEEDLES:
        written = files_holding(tmp_path, needle) + files_holding(paths.data_dir, needle, since=began)
        assert written == ([paths.log_file] if log_text and needle == "Halvorsen" else []), (needle, written)
    assert os.listdir(tmp_path / "tmp") == []  # the draft's folder went with the run


def milestones(paths: Paths) -> list[dict[str, object]]:
    text = paths.log_file.read_text(encoding="utf-8") if paths.log_file.exists() else ""
    return [json.loads(found[1]) for found in MILESTONE_LINE.finditer(text)]


@pytest.mark.slow
def test_a_real_host_killed_while_it_holds_the_marked_prompt_leaves_it_in_no_core_file_and_no_command_line(
        shared_paths: Paths, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    paths = replace(shared_paths, config_dir=tmp_path / "config", cache_dir=tmp_path / "cache", log_dir=tmp_path / "log")
    monkeypatch.chdir(tmp_path)  # core_pattern "core" writes a core into the crashing process's folder
    monkeypatch.setenv("PYTHONPATH", os.pathsep.join(p for p in (str(FAULTS), os.environ.get("PYTHONPATH")) if p))
    monkeypatch.setenv("PHITRAY_FAULTS", "")
    limits = resource.getrlimit(resource.RLIMIT_CORE)
    resource.setrlimit(resource.RLIMIT_CORE, (limits[1], limits[1]))  # the host inherits it: cores allowed
    (tmp_path / "ordinary").mkdir()  # an ordinary process holding the text leaves it in its core, here
    subprocess.run([sys.executable, "-c", "import os, sys; text = sys.stdin.read(); os.abort()"], input=TEXT,
                   text=True, cwd=tmp_path / "ordinary", check=False)
    if not files_holding(tmp_path / "ordinary", MARKER):
        resource.setrlimit(resource.RLIMIT_CORE, limits)
        pytest.skip(f"this machine writes no core files here (core_pattern "
                    f"{Path('/proc/sys/kernel/core_pattern').read_text().strip()!r})")
    shutil.rmtree(tmp_path / "ordinary")
    handler = setup_logging(paths, "info", False)
    options = ChainOptions(("openvino-cpu",), "tiny-phi3", paths.compile_cache_dir, allow_pull=False,
                           fallback_model=None)
    try:
        with ModelHost(options, paths) as host:
            host.start(timeout=120)
            streamed = host.generate(Request(f"HANG {TEXT}", max_new_tokens=50))
            pieces = iter(streamed)
            assert next(pieces) == "Once"  # the host holds the prompt, and hangs
            assert not command_lines_holding(MARKER)
            os.kill(host.pid or 0, signal.SIGABRT)
            with pytest.raises(errors.HostCrashed):
                next(pieces)
    finally:
        resource.setrlimit(resource.RLIMIT_CORE, limits)
        logging.getLogger().removeHandler(handler)
        handler.close()
    assert files_holding(tmp_path, MARKER) == []
