"""The jobs thread against a scripted model host (phitray.host.scripted) and a scripted desktop
(helpers/scripted.py): the capture → run → check → route → deliver sequence in milliseconds. What only
a real model shows is in test_engine.py; the X11 and Windows adapters in test_desktop.py and tests/windows."""

from __future__ import annotations

import threading
import time

import pytest

from phitray import errors
from phitray.actions.library import ActionSet
from phitray.backends.base import Request
from phitray.host.scripted import Answer, ScriptedHost
from phitray.jobs.capture import CaptureOptions
from phitray.jobs.thread import JobThread
from phitray.jobs.types import ActionJob, CaptureJob, CaptureTaken, JobEvent, JobSettings, PasteJob, PickedJob, UndoJob
from phitray.paths import Paths

from helpers.scripted import ScriptedDesktop
from helpers.scripted_jobs import FIXED, STRICT, actions, engine_for, host  # noqa: F401 (fixtures)


def test_replace_runs_the_sequence_in_order_and_gives_the_clipboard_back(host: ScriptedHost, actions: ActionSet) -> None:
    text = "i has went to the store yesterday and buyed three apple."
    desktop = ScriptedDesktop(text=f"Dear Sam, {text} Bye.", selection=(10, 10 + len(text)))
    events: list[JobEvent] = []
    engine = engine_for(desktop, host, actions, events)
    engine.run_job(ActionJob("hotkey", "proofread"))
    assert [e.kind for e in events] == ["started", "delivered"], events
    assert desktop.text == f"Dear Sam, {FIXED} Bye."
    assert desktop.clipboard == ("the person's clipboard",)
    assert desktop.steps == ["snapshot", "copy", "restore", "offer", "expect paste in 7", "paste", "restore"]
    marks = engine.last_timeline.marks if engine.last_timeline else {}
    assert marks["modifiers_released"] < marks["clipboard_restored_after_copy"] < marks["prompt_sent"] < marks["paste_sent"]
    assert engine.last_replace is not None and engine.last_replace.original == text
    record = engine.last_record
    assert record is not None and (record.kind, record.source, record.outcome, record.output) == \
        ("action", "hotkey", "done", "replace")
    assert (record.backend, record.model, record.flagged) == ("scripted", "scripted", False)


def test_the_pickers_job_pastes_with_the_snapshot_its_capture_took(host: ScriptedHost, actions: ActionSet) -> None:
    text = "i has went to the store yesterday."
    desktop = ScriptedDesktop(text=text, selection=(0, len(text)))
    events: list[JobEvent] = []
    engine = engine_for(desktop, host, actions, events)
    engine.run_job(CaptureJob("hotkey"))
    taken = events[-1]
    assert isinstance(taken, CaptureTaken) and taken.capture.text == text
    desktop.steps.clear()
    engine.run_job(PickedJob("proofread", taken.capture))
    assert desktop.text == FIXED and desktop.clipboard == ("the person's clipboard",)
    assert "snapshot" not in desktop.steps, "the picker's job took a second snapshot instead of its capture's"
    assert engine.last_record is not None and (engine.last_record.source, engine.last_record.output) == \
        ("picker", "replace")


def test_a_popups_replace_and_the_trays_undo_are_jobs_of_their_own(host: ScriptedHost, actions: ActionSet) -> None:
    desktop = ScriptedDesktop(text="Their going home.", selection=(0, 17))
    events: list[JobEvent] = []
    engine = engine_for(desktop, host, actions, events)
    engine.run_job(PasteJob("proofread", "They're going home.", 7, "Their going home."))
    assert desktop.text == "They're going home." and events[-1].kind == "delivered"
    assert engine.last_record is not None and engine.last_record.output == "paste"
    engine.run_job(UndoJob("tray"))
    assert "undo" in desktop.steps and engine.last_replace is None
    engine.run_job(UndoJob("tray"))
    assert events[-1].kind == "notice" and "nothing to undo" in events[-1].message


def test_a_popup_jobs_answer_streams_and_retry_runs_the_same_action_on_the_same_text(
        host: ScriptedHost, actions: ActionSet) -> None:
    text = "i has went to the store yesterday."
    desktop = ScriptedDesktop(text=text, selection=(0, len(text)))
    events: list[JobEvent] = []
    engine = engine_for(desktop, host, actions, events)
    engine.run_job(ActionJob("hotkey", "proofread", output="popup"))
    kinds = [e.kind for e in events]
    assert kinds[0] == "started" and kinds[-1] == "delivered" and "text" in kinds, kinds
    done = events[-1]
    assert done.kind == "delivered" and "".join(e.text for e in events if e.kind == "text") == done.text
    assert done.kind == "delivered" and done.text == FIXED and desktop.text == text
    retry = done.retry
    assert retry is not None and (retry.action_id, retry.text, retry.output, retry.window) == \
        ("proofread", text, "popup", 7)


def test_the_clipboard_output_leaves_the_answer_on_the_clipboard(host: ScriptedHost, actions: ActionSet) -> None:
    text = "i has went to the store yesterday."
    desktop = ScriptedDesktop(text=text, selection=(0, len(text)))
    events: list[JobEvent] = []
    engine_for(desktop, host, actions, events).run_job(ActionJob("hotkey", "proofread", output="clipboard"))
    assert events[-1].kind == "delivered" and desktop.clipboard == (FIXED,) and desktop.text == text


def test_an_empty_answer_is_a_failure_that_keeps_everything(actions: ActionSet) -> None:
    host = ScriptedHost([Answer(())])
    desktop = ScriptedDesktop(text="Their going home.", selection=(0, 17))
    events: list[JobEvent] = []
    engine_for(desktop, host, actions, events).run_job(ActionJob("hotkey", "proofread"))
    assert events[-1].kind == "failed" and "empty answer" in events[-1].message
    assert desktop.text == "Their going home." and desktop.clipboard == ("the person's clipboard",)
    assert len(host.requests) == 1


def test_a_host_that_crashes_mid_answer_fails_the_job_and_keeps_everything(actions: ActionSet) -> None:
    crash = errors.HostCrashed("The model stopped while answering.")
    host = ScriptedHost([Answer(("They're", " going"), error=crash)])
    desktop = ScriptedDesktop(text="Their going home.", selection=(0, 17))
    events: list[JobEvent] = []
    engine_for(desktop, host, actions, events).run_job(ActionJob("hotkey", "proofread"))
    assert events[-1].kind == "failed" and "clipboard are as they were" in events[-1].message
    assert desktop.text == "Their going home." and desktop.clipboard == ("the person's clipboard",)


def test_no_loaded_model_is_a_notice_before_anything_is_touched(actions: ActionSet) -> None:
    host = ScriptedHost([""], info=None, failure="openvino-cpu: the model file is damaged")
    desktop = ScriptedDesktop(text="Their going home.", selection=(0, 17))
    events: list[JobEvent] = []
    engine_for(desktop, host, actions, events).run_job(ActionJob("hotkey", "proofread"))
    assert [e.kind for e in events] == ["notice"] and "the model file is damaged" in events[0].message
    assert desktop.steps == []


def test_nothing_selected_stops_before_the_model_and_touches_nothing(host: ScriptedHost, actions: ActionSet) -> None:
    desktop = ScriptedDesktop(text="no selection here", selection=None)
    events: list[JobEvent] = []
    engine = engine_for(desktop, host, actions, events)
    engine.run_job(ActionJob("hotkey", "proofread"))
    assert [e.kind for e in events] == ["notice"] and "No text is selected" in events[0].message
    assert desktop.text == "no selection here" and desktop.clipboard == ("the person's clipboard",)
    assert engine.last_timeline is not None and "prompt_sent" not in engine.last_timeline.marks


def test_a_paste_the_window_ignores_shows_the_result_instead_of_losing_it(host: ScriptedHost, actions: ActionSet) -> None:
    desktop = ScriptedDesktop(text="Their going home.", selection=(0, 17), paste_works=False)
    events: list[JobEvent] = []
    engine_for(desktop, host, actions, events).run_job(ActionJob("hotkey", "proofread"))
    done = events[-1]
    assert (done.kind, done.output) == ("delivered", "popup") and "did not take the paste" in done.message
    assert done.text.strip()
    assert desktop.text == "Their going home."
    assert desktop.clipboard == ("the person's clipboard",)


def test_a_second_job_while_busy_is_dropped_with_a_notice_and_cancel_stops_the_first(
    host: ScriptedHost, actions: ActionSet
) -> None:
    # A text the starter answers at length from a fresh host ("Once upon a time" it merely echoes).
    desktop = ScriptedDesktop(text="A lighthouse at dusk.", selection=(0, 21))
    events: list[JobEvent] = []
    streamed = threading.Event()

    def on_event(event: JobEvent) -> None:
        events.append(event)
        if event.kind == "started":
            streamed.set()

    engine = JobThread(desktop.desktop(), lambda: host, JobSettings(actions=actions, capture=CaptureOptions(),
                       output_overrides={"ramble": "popup"}), on_event)
    engine.start()
    try:
        assert engine.submit(ActionJob("hotkey", "ramble"))
        assert streamed.wait(10)
        assert not engine.submit(ActionJob("hotkey", "proofread"))
        assert events[-1].kind == "busy"
        time.sleep(0.2)
        assert engine.cancel(), [e for e in events if e.kind != "text"]
        deadline = time.monotonic() + 10
        while engine.busy and time.monotonic() < deadline:
            time.sleep(0.01)
    finally:
        engine.stop()
    kinds = [e.kind for e in events]
    assert "failed" in kinds and any("Cancelled" in getattr(e, "message", "") for e in events), kinds
    assert "delivered" not in kinds
    assert desktop.text == "A lighthouse at dusk." and desktop.clipboard == ("the person's clipboard",)


@pytest.mark.parametrize("output", ["replace", "clipboard"])
def test_a_flagged_answer_is_never_pasted_or_copied_and_opens_in_the_popup_with_its_reason(
    host: ScriptedHost, actions: ActionSet, output: str
) -> None:
    text = "The cat sat on the mat near the door."
    desktop = ScriptedDesktop(text=text, selection=(0, len(text)))
    events: list[JobEvent] = []
    config = JobSettings(actions=ActionSet({**actions.actions, "strict": STRICT}, ()), capture=CaptureOptions(),
                          output_overrides={"strict": output})  # type: ignore[dict-item]
    JobThread(desktop.desktop(), lambda: host, config, events.append).run_job(ActionJob("hotkey", "strict"))
    done = events[-1]
    assert done.kind == "delivered" and done.output == "popup" and done.flagged, done
    assert "changes much more than an edit should" in done.message
    assert [c.name for c in done.checks if not c.passed] == ["close_to_input"]
    assert desktop.text == text, "a flagged answer reached the document"
    assert desktop.clipboard == ("the person's clipboard",) and "paste" not in desktop.steps


def test_review_before_replace_shows_an_edit_instead_of_pasting_it(host: ScriptedHost, actions: ActionSet) -> None:
    text = "i has went to the store yesterday."
    desktop = ScriptedDesktop(text=text, selection=(0, len(text)))
    events: list[JobEvent] = []
    config = JobSettings(actions=actions, capture=CaptureOptions(), review_before_replace=True)
    JobThread(desktop.desktop(), lambda: host, config, events.append).run_job(ActionJob("hotkey", "proofread"))
    done = events[-1]
    assert done.kind == "delivered" and done.output == "popup" and done.review and done.original == text, done
    assert desktop.text == text and "paste" not in desktop.steps


@pytest.mark.parametrize("log_text", [False, True])
def test_a_failed_jobs_traceback_reaches_the_log_only_with_text_logging_on(
        actions: ActionSet, paths: Paths, log_text: bool) -> None:
    import logging

    from phitray.logs import set_level, setup_logging

    marker = "MARKER-7f3a the person's words"

    def broken(request: Request) -> Answer:
        raise RuntimeError(f"a fault that quotes {marker}")

    handler = setup_logging(paths, "info", log_text)
    try:
        desktop = ScriptedDesktop(text=marker, selection=(0, len(marker)))
        events: list[JobEvent] = []
        engine_for(desktop, ScriptedHost(broken), actions, events).run_job(ActionJob("hotkey", "proofread"))
        assert events[-1].kind == "failed"
    finally:
        logging.getLogger().removeHandler(handler)
        handler.close()
        set_level("info")
    written = paths.log_file.read_text(encoding="utf-8")
    assert "job 1 failed: RuntimeError" in written
    assert (marker in written) == log_text
