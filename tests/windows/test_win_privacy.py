"""The selected text goes nowhere but the model, under Windows too, on the ways a job fails.

The jobs thread runs on the project's Windows desktop layer with Notepad's selection, as the daemon
runs it, on the scripted model host, its log in the agent's folders pointed into the test's own. A
marker is in the selection; one answer drops it (the check fails, its reason quoting the marker, and
the answer goes to the popup), the host dies mid-answer, and a fault's message quotes the whole text.
Then every file under those folders is read as bytes, UTF-8 and UTF-16 (Windows' own text): the marker
is in none of them. With text logging on the log holds it, so the sweep can see it.
"""

from __future__ import annotations

import logging
from pathlib import Path

import pytest

from phitray import errors
from phitray.actions.library import load_actions
from phitray.host.scripted import Answer, ScriptedHost
from phitray.jobs.capture import CaptureOptions
from phitray.jobs.record import JobRecord
from phitray.jobs.thread import JobThread
from phitray.jobs.types import ActionJob, JobEvent, JobSettings
from phitray.logs import set_level, setup_logging
from phitray.paths import Paths

from helpers.marked import FIXED, MARKER, TEXT, Script
from helpers.wine import Notepad, wait_until



def run(engine: JobThread, notepad: Notepad) -> JobRecord:
    """The person selects the marked text in Notepad and presses proofread's hotkey; the job's record."""
    notepad.write_and_select(TEXT)
    before = engine.last_record
    assert engine.submit(ActionJob("hotkey", "proofread"))
    wait_until(lambda: engine.last_record is not before and not engine.busy, 60, "the job's record")
    assert engine.last_record is not None
    return engine.last_record


def files_holding(folder: Path, marker: str) -> list[Path]:
    """Every file under `folder` whose bytes hold `marker` as UTF-8 or UTF-16."""
    needles = [marker.encode(), marker.encode("utf-16-le")]
    return [path for path in sorted(folder.rglob("*")) if path.is_file()
            and any(needle in path.read_bytes() for needle in needles)]


@pytest.mark.parametrize("log_text", [False, True])
def test_the_marker_of_the_selection_is_in_no_file_when_the_check_fails_or_the_host_dies(
    desktop: object, notepad: Notepad, tmp_path: Path, log_text: bool
) -> None:
    paths = Paths(tmp_path / "config", tmp_path / "data", tmp_path / "cache", tmp_path / "log")
    handler = setup_logging(paths, "debug" if log_text else "info", log_text)
    script = Script()
    events: list[JobEvent] = []
    settings = JobSettings(actions=load_actions(None), capture=CaptureOptions(), log_text=log_text)
    host = ScriptedHost(script)
    engine = JobThread(desktop, lambda: host, settings, events.append)  # type: ignore[arg-type]
    engine.start()
    try:
        script.next = TEXT.replace(MARKER, "the invoice")  # drops the marker: the check's reason quotes it
        flagged = run(engine, notepad)
        assert (flagged.outcome, flagged.output, flagged.flagged) == ("done", "popup", True), flagged
        script.next = Answer(tuple(f"{word} " for word in FIXED.split()),
                             error=errors.HostCrashed("The model host stopped."))
        assert run(engine, notepad).outcome == "HostCrashed"
        script.next = RuntimeError(f"a fault that quotes {TEXT}")
        assert run(engine, notepad).outcome == "RuntimeError"
        assert notepad.text() == TEXT  # nothing was pasted over it
    finally:
        engine.stop()
        logging.getLogger().removeHandler(handler)
        handler.close()
        set_level("info")
    written = files_holding(tmp_path, MARKER)
    if log_text:
        assert written == [paths.log_file]  # asked for: the log holds the texts, and only the log
    else:
        assert written == [], [(path, path.read_bytes()[:200]) for path in written]
    assert [path.name for path in paths.log_dir.iterdir()] == [paths.log_file.name]
