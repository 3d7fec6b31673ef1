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


def test_the_real_models_answer_replaces_the_selection_and_its_record_names_the_model(
        host: ModelHost, actions: ActionSet) -> None:
    """The sequence itself is test_jobs.py's; this is what only a real model gives: its own answer, tokens, speed."""
    text = "i has went to the store yesterday and buyed three apple."
    desktop = ScriptedDesktop(text=f"Dear Sam, {text} Bye.", selection=(10, 10 + len(text)))
    events: list[JobEvent] = []
    engine = engine_for(desktop, host, actions, events)
    engine.run_job(ActionJob("hotkey", "proofread"))
    assert desktop.text == f"Dear Sam, {run_action(host, actions.get('proofread'), text).text} Bye."
    record = engine.last_record
    assert record is not None and (record.backend, record.model, record.output) == ("openvino-cpu", "starter", "replace")
    assert record.tokens > 0 and record.tokens_per_second > 0 and record.decoding.startswith("prompt-lookup")


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



