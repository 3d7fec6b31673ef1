"""The jobs thread's test bench: a scripted model host that answers as the tests expect, the built-in actions
with proofread's checks lenient, and a `JobThread` on a scripted desktop (test_jobs.py, test_jobs_paste.py)."""

from __future__ import annotations

import dataclasses

import pytest

from phitray.actions.checks import Checks
from phitray.actions.library import ActionSet, load_actions, read_action
from phitray.backends.base import Request
from phitray.host.scripted import Answer, ScriptedHost
from phitray.jobs.capture import CaptureOptions
from phitray.jobs.thread import JobThread
from phitray.jobs.types import JobEvent, JobSettings

from helpers.agent import story_action, strict_action
from helpers.scripted import ScriptedDesktop

LONG = read_action(story_action("ramble", output="replace", max_new_tokens=400), "ramble.toml")
STRICT = read_action(strict_action(), "strict.toml")
FIXED = "I have gone to the store yesterday and bought three apples."


def answer_for(request: Request) -> Answer:
    """What the scripted model says: a long slow story for ramble, a fix for the edits, a new sentence otherwise."""
    if "long story" in request.prompt:
        return Answer.words("Once upon a time " * 200, piece_seconds=0.005)
    if "in other words" in request.prompt:
        return Answer.words("Completely unrelated words about ships on a grey ocean.")
    text = request.prompt.split("<text>")[-1].split("</text>")[0].strip()
    return Answer.words(FIXED if text.startswith("i has went") else text)


@pytest.fixture
def host() -> ScriptedHost:
    return ScriptedHost(answer_for)


@pytest.fixture(scope="module")
def actions() -> ActionSet:
    """The built-ins, with proofread's checks lenient: these tests are about the sequence."""
    builtin = load_actions(None)
    lenient = dataclasses.replace(builtin.get("proofread"), checks=Checks(close_to_input=0.01, same_language=False))
    return ActionSet({**builtin.actions, "proofread": lenient, "ramble": LONG}, ())


def engine_for(desktop: ScriptedDesktop, host: ScriptedHost, actions: ActionSet, events: list[JobEvent]) -> JobThread:
    return JobThread(desktop.desktop(), lambda: host, JobSettings(actions=actions, capture=CaptureOptions(paste_timeout=0.3)),
                     events.append)
