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
from phitray.jobs.types import ActionJob, CaptureJob, JobEvent, JobSettings
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
    engine.run_job(ActionJob("hotkey", "proofread"))
    answer = run_action(host, actions.get("proofread"), text).text
    assert [e.kind for e in events] == ["started", "delivered"], events
    assert desktop.text == f"Dear Sam, {answer} Bye."
    assert desktop.clipboard == ("the person's clipboard",)
    # The copy waited for the keys; the clipboard came back before the model ran and again after the paste.
    assert desktop.steps == ["snapshot", "copy", "restore", "offer", "expect paste in 7", "paste", "restore"]
    marks = engine.last_timeline.marks if engine.last_timeline else {}
    assert marks["modifiers_released"] < marks["clipboard_restored_after_copy"] < marks["prompt_sent"] < marks["paste_sent"]
    assert engine.last_replace is not None and engine.last_replace.original == text


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
    engine.run_job(ActionJob("hotkey", "ramble"))
    assert events[-1].kind == "failed" and "stopped" in events[-1].message
    assert "clipboard are as they were" in events[-1].message
    assert desktop.text == "A lighthouse at dusk." and desktop.clipboard == ("the person's clipboard",)
    host.wait_ready(30)
    desktop.selection, desktop.held_polls = (0, 21), 0
    events.clear()
    engine.run_job(ActionJob("hotkey", "proofread"))
    assert events[-1].kind == "delivered"
    assert desktop.text == run_action(host, actions.get("proofread"), "A lighthouse at dusk.").text



