"""The job engine on the real starter model, with a scripted desktop at the project's own seam
(helpers/scripted.py). The X11 adapters themselves are covered in test_desktop.py and
test_x11_adapters.py, the Windows ones under Wine (tests/windows)."""

from __future__ import annotations

import dataclasses
import os
import signal
import threading
import time

import pytest

from phitray.actions.checks import Checks
from phitray.actions.library import ActionSet, load_actions, read_action
from phitray.actions.runner import run_action
from phitray.desktop import WindowTraits
from phitray.jobs.capture import CaptureOptions
from phitray.jobs.thread import JobThread
from phitray.jobs.types import JobSettings, Job, JobEvent
from phitray.host.client import ModelHost

from helpers.agent import story_action, strict_action
from helpers.scripted import ScriptedDesktop

pytestmark = pytest.mark.slow

LONG = read_action(story_action("ramble", output="replace", max_new_tokens=400), "ramble.toml")


@pytest.fixture(scope="module")
def host(starter_host: ModelHost) -> ModelHost:
    return starter_host


@pytest.fixture(scope="module")
def actions() -> ActionSet:
    """The built-ins, with proofread's checks made lenient: these tests are about the sequence, and the
    starter's answers to them must not be flagged (test_checks.py and the flagged-answer tests here are)."""
    builtin = load_actions(None)
    lenient = dataclasses.replace(builtin.get("proofread"), checks=Checks(close_to_input=0.01, same_language=False))
    return ActionSet({**builtin.actions, "proofread": lenient, "ramble": LONG}, ())


def engine_for(desktop: ScriptedDesktop, host: ModelHost, actions: ActionSet, events: list[JobEvent]) -> JobThread:
    return JobThread(desktop.desktop(), lambda: host, JobSettings(actions=actions, capture=CaptureOptions(paste_timeout=0.3)), events.append)


def test_replace_runs_the_sequence_in_order_and_gives_the_clipboard_back(host: ModelHost, actions: ActionSet) -> None:
    text = "i has went to the store yesterday and buyed three apple."
    desktop = ScriptedDesktop(text=f"Dear Sam, {text} Bye.", selection=(10, 10 + len(text)))
    events: list[JobEvent] = []
    engine = engine_for(desktop, host, actions, events)
    engine.run_job(Job("action", "hotkey", "proofread"))
    answer = run_action(host, actions.get("proofread"), text).text
    assert [e.kind for e in events] == ["started", "done"], events
    assert desktop.text == f"Dear Sam, {answer} Bye."
    assert desktop.clipboard == ("the person's clipboard",)
    # The copy waited for the keys; the clipboard came back before the model ran and again after the paste.
    assert desktop.steps == ["snapshot", "copy", "restore", "offer", "expect paste in 7", "paste", "restore"]
    marks = engine.last_timeline.marks if engine.last_timeline else {}
    assert marks["modifiers_released"] < marks["clipboard_restored_after_copy"] < marks["prompt_sent"] < marks["paste_sent"]
    assert engine.last_replace is not None and engine.last_replace.original == text


def test_nothing_selected_stops_before_the_model_and_touches_nothing(host: ModelHost, actions: ActionSet) -> None:
    desktop = ScriptedDesktop(text="no selection here", selection=None)
    events: list[JobEvent] = []
    engine = engine_for(desktop, host, actions, events)
    engine.run_job(Job("action", "hotkey", "proofread"))
    assert [e.kind for e in events] == ["notice"] and "No text is selected" in events[0].message
    assert desktop.text == "no selection here" and desktop.clipboard == ("the person's clipboard",)
    assert engine.last_timeline is not None and "prompt_sent" not in engine.last_timeline.marks


def test_a_paste_the_window_ignores_shows_the_result_instead_of_losing_it(host: ModelHost, actions: ActionSet) -> None:
    desktop = ScriptedDesktop(text="Their going home.", selection=(0, 17), paste_works=False)
    events: list[JobEvent] = []
    engine_for(desktop, host, actions, events).run_job(Job("action", "hotkey", "proofread"))
    done = events[-1]
    assert (done.kind, done.output) == ("done", "popup") and "did not take the paste" in done.message
    assert done.text.strip()
    assert desktop.text == "Their going home."
    assert desktop.clipboard == ("the person's clipboard",)


def test_a_second_job_while_busy_is_dropped_with_a_notice_and_cancel_stops_the_first(
    host: ModelHost, actions: ActionSet
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
        assert engine.submit(Job("action", "hotkey", "ramble"))
        assert streamed.wait(10)
        assert not engine.submit(Job("action", "hotkey", "proofread"))
        assert events[-1].kind == "busy"
        time.sleep(0.2)
        assert engine.cancel(), [(e.kind, e.message) for e in events if e.kind != "text"]
        deadline = time.monotonic() + 10
        while engine.busy and time.monotonic() < deadline:
            time.sleep(0.01)
    finally:
        engine.stop()
    kinds = [e.kind for e in events]
    assert "failed" in kinds and any("Cancelled" in e.message for e in events), kinds
    assert "done" not in kinds
    assert desktop.text == "A lighthouse at dusk." and desktop.clipboard == ("the person's clipboard",)


def test_the_model_host_dying_mid_answer_loses_nothing_and_the_next_job_works(
    host: ModelHost, actions: ActionSet
) -> None:
    desktop = ScriptedDesktop(text="A lighthouse at dusk.", selection=(0, 21))
    events: list[JobEvent] = []

    def on_event(event: JobEvent) -> None:
        events.append(event)
        if event.kind == "text" and len([e for e in events if e.kind == "text"]) == 3 and host.pid:
            os.kill(host.pid, signal.SIGKILL)

    engine = JobThread(desktop.desktop(), lambda: host, JobSettings(actions=actions, capture=CaptureOptions(),
                       output_overrides={"ramble": "popup"}), on_event)
    engine.run_job(Job("action", "hotkey", "ramble"))
    assert events[-1].kind == "failed" and "stopped" in events[-1].message
    assert "clipboard are as they were" in events[-1].message
    assert desktop.text == "A lighthouse at dusk." and desktop.clipboard == ("the person's clipboard",)
    host.wait_ready(30)
    desktop.selection, desktop.held_polls = (0, 21), 0
    events.clear()
    engine.run_job(Job("action", "hotkey", "proofread"))
    assert events[-1].kind == "done"
    assert desktop.text == run_action(host, actions.get("proofread"), "A lighthouse at dusk.").text


STRICT = read_action(strict_action(), "strict.toml")


@pytest.mark.parametrize("output", ["replace", "clipboard"])
def test_a_flagged_answer_is_never_pasted_or_copied_and_opens_in_the_popup_with_its_reason(
    host: ModelHost, actions: ActionSet, output: str
) -> None:
    text = "The cat sat on the mat near the door."
    desktop = ScriptedDesktop(text=text, selection=(0, len(text)))
    events: list[JobEvent] = []
    config = JobSettings(actions=ActionSet({**actions.actions, "strict": STRICT}, ()), capture=CaptureOptions(),
                          output_overrides={"strict": output})  # type: ignore[dict-item]
    JobThread(desktop.desktop(), lambda: host, config, events.append).run_job(Job("action", "hotkey", "strict"))
    done = events[-1]
    assert done.kind == "done" and done.output == "popup" and done.flagged, done
    assert "changes much more than an edit should" in done.message
    assert [c.name for c in done.checks if not c.passed] == ["close_to_input"]
    assert desktop.text == text, "a flagged answer reached the document"
    assert desktop.clipboard == ("the person's clipboard",) and "paste" not in desktop.steps


def test_review_before_replace_shows_an_edit_instead_of_pasting_it(host: ModelHost, actions: ActionSet) -> None:
    text = "i has went to the store yesterday."
    desktop = ScriptedDesktop(text=text, selection=(0, len(text)))
    events: list[JobEvent] = []
    config = JobSettings(actions=actions, capture=CaptureOptions(), review_before_replace=True)
    JobThread(desktop.desktop(), lambda: host, config, events.append).run_job(Job("action", "hotkey", "proofread"))
    done = events[-1]
    assert done.kind == "done" and done.output == "popup" and done.review and done.original == text, done
    assert desktop.text == text and "paste" not in desktop.steps


def test_from_the_tray_the_persons_window_comes_back_before_the_copy(host: ModelHost, actions: ActionSet) -> None:
    """A tray click puts the taskbar in front; Ctrl+C must go to the window the person was in."""
    text = "i has went to the store yesterday."
    desktop = ScriptedDesktop(text=text, selection=(0, len(text)), front=3)
    events: list[JobEvent] = []
    engine_for(desktop, host, actions, events).run_job(Job("action", "tray", "proofread"))
    assert desktop.steps[:3] == ["snapshot", "activate 7", "copy"], desktop.steps
    assert [e.kind for e in events] == ["started", "done"] and events[-1].output == "replace"


def test_a_window_that_will_not_come_back_is_sent_no_keys(host: ModelHost, actions: ActionSet) -> None:
    desktop = ScriptedDesktop(text="words", selection=(0, 5), front=3, activation_works=False)
    events: list[JobEvent] = []
    engine_for(desktop, host, actions, events).run_job(Job("action", "tray", "proofread"))
    assert [e.kind for e in events] == ["notice"] and "did not come back to the front" in events[0].message
    assert "copy" not in desktop.steps and desktop.clipboard == ("the person's clipboard",)


def test_when_the_person_has_moved_on_no_ctrl_v_is_sent_and_the_answer_opens_in_the_popup(
        host: ModelHost, actions: ActionSet) -> None:
    text = "i has went to the store yesterday."
    desktop = ScriptedDesktop(text=text, selection=(0, len(text)))
    events: list[JobEvent] = []

    def switched_away(event: JobEvent) -> None:
        """The person clicks into another window while the model works, and Windows keeps it in front."""
        events.append(event)
        if event.kind == "started":
            desktop.front, desktop.activation_works = 9, False

    JobThread(desktop.desktop(), lambda: host, JobSettings(actions=actions, capture=CaptureOptions(paste_timeout=0.3)),
              switched_away).run_job(Job("action", "hotkey", "proofread"))
    assert not any(step.startswith("paste") for step in desktop.steps), desktop.steps
    done = events[-1]
    assert done.kind == "done" and done.output == "popup" and "no longer in front" in done.message
    assert desktop.text == text and desktop.clipboard == ("the person's clipboard",)


def test_an_elevated_window_is_named_instead_of_nothing_selected(host: ModelHost, actions: ActionSet) -> None:
    reason = "regedit.exe runs as administrator, and Windows keeps programs without those rights from it."
    desktop = ScriptedDesktop(text="words", selection=(0, 5), traits_of_editor=WindowTraits(unreachable=reason))
    events: list[JobEvent] = []
    engine_for(desktop, host, actions, events).run_job(Job("action", "hotkey", "proofread"))
    assert [e.kind for e in events] == ["notice"] and events[0].message == reason
    assert desktop.steps == []  # not even a snapshot


def test_a_console_is_copied_from_and_pasted_into_with_the_insert_keys(host: ModelHost, actions: ActionSet) -> None:
    text = "i has went to the store yesterday."
    desktop = ScriptedDesktop(text=text, selection=(0, len(text)), traits_of_editor=WindowTraits(terminal=True))
    events: list[JobEvent] = []
    engine_for(desktop, host, actions, events).run_job(Job("action", "hotkey", "proofread"))
    assert "copy (terminal)" in desktop.steps and "paste (terminal)" in desktop.steps
    assert "copy" not in desktop.steps and "paste" not in desktop.steps  # never a Ctrl+C into a console
