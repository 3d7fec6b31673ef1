"""The bad-input corpus (bad_input.json) through the job engine on the real starter model.

Each selection goes through the whole hotkey path of `JobThread.run_job` with
the scripted editor (helpers/scripted.py). Whatever the input, the person gets
either the model's answer in place of exactly their selection, or a message,
and in both cases their clipboard back; nothing raises.
"""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from phitray.actions.library import ActionSet, load_actions, read_action
from phitray.jobs.capture import CaptureOptions
from phitray.jobs.thread import JobThread
from phitray.jobs.types import ActionJob, CaptureJob, JobEvent, JobSettings
from phitray.host.client import ModelHost

from helpers.scripted import ScriptedDesktop

pytestmark = pytest.mark.slow

CASES = json.loads(Path(__file__).with_name("bad_input.json").read_text(encoding="utf-8"))
FIX = read_action('''
id = "fix"
title = "Fix"
output = "replace"
max_new_tokens = 24
prompt = "Proofread the text between <text> and </text>.\\n\\n$text"

[checks]  # about the path, not the answers
same_language = false
no_loop = false
no_prompt_echo = false
''', "fix.toml")


# Every way the agent may decline an input; anything else (a library's error text) fails the test.
CLEAR_MESSAGES = (
    "There is no text to work on",
    "takes at most",
    "the model gave an empty answer; nothing was changed",
    "is longer than",  # a selection over the ceiling is read only up to it, and nothing is changed
)


def text_of(case: dict[str, object]) -> str:
    if "repeat" in case:
        return str(case["repeat"]) * int(str(case["times"]))
    return str(case["text"])


@pytest.fixture(scope="module")
def host(starter_host: ModelHost) -> ModelHost:
    return starter_host


@pytest.fixture(scope="module")
def actions() -> ActionSet:
    return ActionSet({**load_actions(None).actions, "fix": FIX}, ())


def test_the_corpus_has_at_least_thirty_cases() -> None:
    assert len(CASES) >= 30 and len({case["name"] for case in CASES}) == len(CASES)


@pytest.mark.parametrize("case", CASES, ids=[case["name"] for case in CASES])
def test_bad_input_gets_an_answer_or_a_message_and_loses_nothing(
    case: dict[str, object], host: ModelHost, actions: ActionSet
) -> None:
    selection = text_of(case)
    before, after = "Kept before. ", " Kept after."
    desktop = ScriptedDesktop(text=before + selection + after, selection=(len(before), len(before) + len(selection)))
    desktop.clipboard = ("the person's clipboard ✓",)
    events: list[JobEvent] = []
    engine = JobThread(desktop.desktop(), lambda: host, JobSettings(actions=actions, capture=CaptureOptions(paste_timeout=0.5)), events.append)
    engine.run_job(ActionJob("hotkey", "fix"))
    last = events[-1]
    assert desktop.clipboard == ("the person's clipboard ✓",)
    if last.kind == "delivered" and last.output == "replace":
        assert desktop.text == before + last.text + after
    else:
        assert last.kind in ("notice", "failed", "delivered") and last.message.strip(), last
        assert any(clear in last.message for clear in CLEAR_MESSAGES), f"not a message for a person: {last.message}"
        if last.kind != "delivered":
            assert desktop.text == before + selection + after
    assert host.wait_ready(10)  # the model host survived it
