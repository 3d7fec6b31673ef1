"""Results the person can get back: the history, the tray's Recent, "Another version" and `phitray history`.

The real daemon (tests/helpers/daemon.py) on the session's Xvfb display, with its Tk root, UI queue, jobs
thread and popup, on the scripted model host (which answers a sampled request differently from a greedy
one) and the scripted editor. What the jobs thread alone decides (the next sample after a flagged one)
is tested on `JobThread.run_job`.
"""

from __future__ import annotations

import json
import logging
import os
import stat
import subprocess
import sys
import time
from collections.abc import Callable
from dataclasses import replace
from pathlib import Path

import pytest

from phitray.actions.library import load_actions
from phitray.backends.base import Request
from phitray.desktop import WindowTraits
from phitray.host.scripted import ScriptedHost
from phitray.jobs.capture import CaptureOptions
from phitray.jobs.record import JobRecord
from phitray.jobs.thread import JobThread
from phitray.jobs.types import ActionJob, JobEvent, JobSettings
from phitray.logs import set_level, setup_logging
from phitray.paths import Paths
from phitray.settings import Settings, load_settings, parse_settings

from helpers.daemon import RunningDaemon, private_paths, running_daemon
from helpers.desktop import DesktopSession
from helpers.scripted import ScriptedDesktop

MARKER = "HZ4Q-7731"
ORIGINALS = [f"i has went to shop {number} for {MARKER}." for number in range(4)]
UNRELATED = "Completely unrelated words about ships on a grey ocean."
SETTINGS = Settings(chain=("openvino-cpu",), model_id="starter", allow_pull=False, capture_timeout_ms=300,
                    paste_timeout_ms=300, release_timeout_ms=300)


def selected(request: Request) -> str:
    return request.prompt.split("<text>")[-1].split("</text>")[0].strip()


class Versions:
    """The scripted model: greedy, the fix; sampled, another wording of it, each sample its own."""

    WORDS = ("quickly", "gladly", "slowly", "early", "lately")

    def __init__(self) -> None:
        self.sampled = 0

    def __call__(self, request: Request) -> str:
        fixed = selected(request).replace("i has went", "I went")
        if request.seed is None:
            return fixed
        self.sampled += 1
        return fixed.replace("I went", f"I {self.WORDS[self.sampled % len(self.WORDS)]} went")


def finish(agent: RunningDaemon, job: ActionJob | Callable[[], object]) -> JobRecord:
    """Submit `job` as a hotkey does (or press what submits one: a button, a tray entry) and run the Tk
    thread (the test's own) until its record is written and the daemon has had every event of it."""
    jobs = agent.daemon.jobs
    assert jobs is not None
    before = jobs.last_record
    if isinstance(job, ActionJob):
        agent.daemon.submit(job)
    else:
        job()
    deadline = time.monotonic() + 30
    while jobs.last_record is before or jobs.busy or agent.daemon.state.busy:
        assert time.monotonic() < deadline, f"no record for {job}"
        agent.daemon.root.update()
        time.sleep(0.01)
    agent.daemon.root.update()
    assert jobs.last_record is not None
    return jobs.last_record


def pump_until(agent: RunningDaemon, condition: object, seconds: float = 10) -> None:
    assert callable(condition)
    deadline = time.monotonic() + seconds
    while not condition():
        assert time.monotonic() < deadline, "timed out"
        agent.daemon.root.update()
        time.sleep(0.01)


def proofread_each(agent: RunningDaemon) -> str:
    """The four sentences in one editor, each selected in turn and proofread with the hotkey's job."""
    editor = agent.desktop
    editor.text = " ".join(ORIGINALS)
    editor.traits_of_editor = WindowTraits(program="gedit", classes=("gedit", "Gedit"), title="notes.txt")
    for original in ORIGINALS:
        start = editor.text.index(original)
        editor.selection = (start, start + len(original))
        record = finish(agent, ActionJob("hotkey", "proofread"))
        assert (record.outcome, record.output) == ("done", "replace"), record
    return editor.text


def files_holding(folder: Path, marker: str) -> list[Path]:
    needles = [marker.encode(), marker.encode("utf-16-le"), json.dumps(marker).encode()]
    return [path for path in sorted(folder.rglob("*")) if path.is_file() and not path.is_symlink()
            and any(needle in path.read_bytes() for needle in needles)]


@pytest.fixture
def paths(tk_display: DesktopSession, shared_paths: Paths, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Paths:
    """The test's own folders, the data folder too (where a history kept on disk goes)."""
    return replace(private_paths(shared_paths, tmp_path, monkeypatch, tk_display), data_dir=tmp_path / "data")


def test_four_jobs_then_put_the_original_back_restores_it_in_the_editor(paths: Paths, tmp_path: Path) -> None:
    handler = setup_logging(paths, "info", False)  # a real log and job records, for the sweep at the end
    try:
        with running_daemon(paths, SETTINGS, ScriptedHost(Versions())) as agent:
            edited = proofread_each(agent)
            assert edited == " ".join(o.replace("i has went", "I went") for o in ORIGINALS)
            history = agent.daemon.history.entries
            assert [entry.original for entry in history] == ORIGINALS[::-1]  # newest first
            assert all(entry.pasted and (entry.action_id, entry.app) == ("proofread", "gedit") for entry in history)
            recent = agent.daemon.state.recent
            assert [number for number, _ in recent] == [entry.number for entry in history]
            assert recent[0][1].startswith("Proofread: i has went to shop 3")

            # The second job's answer, selected again: its original goes back in its place.
            second = history[2]
            editor = agent.desktop
            start = editor.text.index(second.answer)
            editor.selection = (start, start + len(second.answer))
            record = finish(agent, lambda: agent.daemon.commands.use_recent(second.number, "put-back"))
            assert (record.kind, record.outcome, record.output) == ("restore", "done", "restore"), record
            assert editor.text == edited.replace(second.answer, ORIGINALS[1])
            assert editor.clipboard == ("the person's clipboard",)

            # Nothing selected: the editor stays as it is and the original is on the clipboard.
            after = editor.text
            record = finish(agent, lambda: agent.daemon.commands.use_recent(history[0].number, "put-back"))
            assert (record.outcome, record.output) == ("done", "clipboard"), record
            assert editor.text == after and editor.clipboard == (ORIGINALS[3],)

            agent.daemon.commands.use_recent(history[1].number, "copy-answer")
            pump_until(agent, lambda: editor.clipboard == (history[1].answer,))
            agent.daemon.commands.use_recent(history[1].number, "copy-original")
            pump_until(agent, lambda: editor.clipboard == (ORIGINALS[2],))
    finally:
        logging.getLogger().removeHandler(handler)
        handler.close()
        set_level("info")
    # [history] keep_on_disk is off: none of it reached a file (log and job records included).
    assert not paths.history_file.exists()
    written = files_holding(tmp_path, MARKER)
    assert written == [], [(path, path.read_bytes()[:200]) for path in written]


def test_another_version_and_the_popups_retry_give_a_different_answer(paths: Paths) -> None:
    host = ScriptedHost(Versions())
    with running_daemon(paths, SETTINGS, host) as agent:
        agent.desktop.text = ORIGINALS[0]
        agent.desktop.selection = (0, len(ORIGINALS[0]))
        finish(agent, ActionJob("hotkey", "proofread", output="popup"))
        popup = agent.daemon.windows.popup
        assert popup is not None and popup.text == "I went to shop 0 for HZ4Q-7731."
        assert str(popup.retry_button.cget("text")) == "Another version"
        first_request = host.requests[-1]
        assert first_request.seed is None and first_request.temperature == 0

        record = finish(agent, popup.retry_button.invoke)
        retried = agent.daemon.windows.popup
        assert record.outcome == "done" and retried is not None and retried is not popup
        sampled = host.requests[-1]
        assert sampled.seed is not None and sampled.temperature > 0 and sampled.decoding == "plain"
        assert retried.text != popup.text and retried.text.endswith(" went to shop 0 for HZ4Q-7731.")

        # The tray's Recent → Another version on the first result: sampled again, with a new seed.
        entry = agent.daemon.history.entries[-1]
        assert entry.answer == popup.text
        finish(agent, lambda: agent.daemon.commands.use_recent(entry.number, "another"))
        again = host.requests[-1]
        assert again.seed not in (None, sampled.seed) and again.temperature > 0
        shown = agent.daemon.windows.popup
        assert shown is not None and shown.text not in (popup.text, retried.text)
        assert [e.answer for e in agent.daemon.history.entries[:2]] == [shown.text, retried.text]


def test_after_a_flagged_sample_the_next_one_is_tried_until_one_passes() -> None:
    samples: list[Request] = []

    def script(request: Request) -> str:
        if request.seed is None:
            return UNRELATED
        samples.append(request)
        return UNRELATED if len(samples) == 1 else selected(request).replace("i has went", "I went")

    desktop = ScriptedDesktop()
    events: list[JobEvent] = []
    engine = JobThread(desktop.desktop(), lambda: ScriptedHost(script),
                       JobSettings(actions=load_actions(None), capture=CaptureOptions(paste_timeout=0.3)), events.append)
    engine.run_job(ActionJob("popup", "proofread", text=ORIGINALS[0], output="popup", window=7, seed=41, tries=3))
    done = events[-1]
    assert done.kind == "delivered" and not done.flagged and done.text == ORIGINALS[0].replace("i has went", "I went")
    assert [e.kind for e in events].count("started") == 2, "the popup was not told to start over"
    assert [(r.seed, r.temperature) for r in samples] == [(41, 0.7), (42, 0.85)]

    samples.clear()
    events.clear()
    engine.run_job(ActionJob("popup", "proofread", text=ORIGINALS[0], output="popup", window=7))
    assert events[-1].kind == "delivered" and events[-1].flagged and not samples, "a greedy job sampled"


def test_kept_on_disk_the_history_is_private_read_back_at_start_and_gone_when_turned_off(paths: Paths) -> None:
    on_disk = replace(SETTINGS, history_on_disk=True)
    with running_daemon(paths, on_disk, ScriptedHost(Versions())) as agent:
        proofread_each(agent)
    assert MARKER in paths.history_file.read_text(encoding="utf-8")
    if os.name == "posix":
        assert stat.S_IMODE(paths.history_file.stat().st_mode) == 0o600
    with running_daemon(paths, on_disk, ScriptedHost(Versions())) as agent:
        kept = agent.daemon.history.entries
        assert [entry.original for entry in kept] == ORIGINALS[::-1] and all(e.window is None for e in kept)
        assert len(agent.daemon.state.recent) == 4
        agent.daemon.apply(new_settings=SETTINGS)
        assert not paths.history_file.exists(), "turned off, the file stayed"
        assert len(agent.daemon.history.entries) == 4  # in memory still, until the agent ends


def test_phitray_history_lists_the_running_agents_results(paths: Paths) -> None:
    environment = {**os.environ, "PHITRAY_CONFIG_DIR": str(paths.config_dir), "PHITRAY_LOG_DIR": str(paths.log_dir),
                   "PHITRAY_DATA_DIR": str(paths.data_dir), "PHITRAY_CACHE_DIR": str(paths.cache_dir)}

    def history(*args: str) -> subprocess.CompletedProcess[str]:
        return subprocess.run([sys.executable, "-m", "phitray", "history", *args], env=environment,
                              capture_output=True, text=True, timeout=60)

    with running_daemon(paths, SETTINGS, ScriptedHost(Versions())) as agent:
        proofread_each(agent)
        plain = history()
        scripted = history("--json")
    assert plain.returncode == 0, plain.stderr
    lines = plain.stdout.splitlines()
    assert len(lines) == 4 and lines[0].split("\t")[2:6] == ["gedit", "proofread", "pasted", ORIGINALS[3]]
    entries = json.loads(scripted.stdout)
    assert [(e["original"], e["answer"], e["pasted"], e["cut"]) for e in entries] == \
        [(o, o.replace("i has went", "I went"), True, False) for o in ORIGINALS[::-1]]
    gone = history()
    assert gone.returncode == 3 and "no agent is running" in gone.stderr and not gone.stdout


def test_keep_on_disk_is_a_checked_setting() -> None:
    assert not Settings().history_on_disk
    assert parse_settings({"history": {"keep_on_disk": True}}, "t").settings.history_on_disk
    wrong = parse_settings({"history": {"keep_on_disk": "yes"}}, "t")
    assert not wrong.settings.history_on_disk and "history.keep_on_disk" in str(wrong.problems[0])


def test_fifty_long_results_fit_the_channel_cut_and_saying_so_and_a_bad_file_is_no_history(tmp_path: Path) -> None:
    from phitray.app.history import HISTORY_SIZE, History
    from phitray.desktop.channel import encode
    from phitray.jobs.types import Delivered

    history = History(tmp_path / "history.json", keep_on_disk=False, changed=lambda recent: None)
    for number in range(HISTORY_SIZE + 5):
        original = f"{number} " + "é" * 5000
        history.note(Delivered(number, "done", "popup", "Proofread", original.upper(), original,
                               retry=ActionJob("popup", "proofread", text=original)))
    assert len(history.entries) == HISTORY_SIZE and history.entries[0].original.startswith(f"{HISTORY_SIZE + 4} ")
    answer = history.for_scripts()
    encode("answer", answer)  # raises past the channel's line
    entries = json.loads(answer)
    assert len(entries) == HISTORY_SIZE and all(entry["cut"] for entry in entries)
    assert entries[0]["original"].startswith(f"{HISTORY_SIZE + 4} éé") and entries[0]["original"].endswith("…")

    broken = tmp_path / "broken.json"
    broken.write_text('{"version": 1, "entries": [{"number": "x"}]}', encoding="utf-8")
    assert History(broken, keep_on_disk=True, changed=lambda recent: None).entries == ()


def test_the_settings_windows_general_tab_turns_keeping_on_disk_on(tk_display: DesktopSession, tmp_path: Path) -> None:
    from helpers.settings_tabs import in_child, keep_history_in_general_tab

    paths = Paths(config_dir=tmp_path / "config", data_dir=tmp_path / "data", cache_dir=tmp_path / "cache",
                  log_dir=tmp_path / "log")
    shown = in_child(keep_history_in_general_tab, tk_display.display, paths)
    assert not shown["before"] and shown["label"].startswith("Keep recent results")
    assert "[history]" in shown["file"] and load_settings(paths.settings_file).settings.history_on_disk
