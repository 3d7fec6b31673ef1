"""Soak, opt-in: thousands of actions through the job engine on the starter model; memory must stay flat.

    PHITRAY_SOAK=10000 pytest tests/reliability/test_soak.py -s

Each action is the whole hotkey path of `JobThread.run_job` with the scripted
editor (helpers/scripted.py) and the resident model host. The resident set of
this process (the daemon's side: engine, supervisor, pipe) and of the model
host is read after a warm-up and at the end; neither may grow by more than 5 %.
"""

from __future__ import annotations

import os
import time

import pytest

from phitray.actions.library import ActionSet, load_actions, read_action
from phitray.jobs.capture import CaptureOptions
from phitray.jobs.thread import JobThread
from phitray.jobs.types import ActionJob, CaptureJob, JobEvent, JobSettings
from phitray.host.client import ModelHost

from helpers.proc import rss_kb
from helpers.scripted import ScriptedDesktop

ACTIONS = int(os.environ.get("PHITRAY_SOAK", "0"))
pytestmark = [pytest.mark.slow, pytest.mark.skipif(not ACTIONS, reason="opt-in: PHITRAY_SOAK=10000")]

FIX = read_action('''
id = "fix"
title = "Fix"
output = "replace"
max_new_tokens = 12
prompt = "Proofread the text between <text> and </text>.\\n\\n$text"

[checks]  # about the path, not the answers
same_language = false
no_loop = false
no_prompt_echo = false
''', "fix.toml")
SENTENCES = ("i has went to the store.", "their going home tomorow.", "we was happy with it.", "she dont like rain.")


def test_thousands_of_actions_keep_memory_flat(starter_host: ModelHost) -> None:
    actions = ActionSet({**load_actions(None).actions, "fix": FIX}, ())
    events: list[JobEvent] = []
    warm_up = min(max(ACTIONS // 20, 50), ACTIONS // 2)  # a short run still has a second half to compare
    baseline: dict[str, int] = {}
    failures = 0
    started = time.monotonic()
    for number in range(ACTIONS):
        if number == warm_up:
            baseline = {"daemon side": rss_kb(os.getpid()), "model host": rss_kb(starter_host.pid or 0)}
        sentence = SENTENCES[number % len(SENTENCES)] + f" ({number})"
        desktop = ScriptedDesktop(text=sentence, selection=(0, len(sentence)))
        events.clear()
        JobThread(desktop.desktop(), lambda: starter_host, JobSettings(actions=actions, capture=CaptureOptions()), events.append).run_job(ActionJob("hotkey", "fix"))
        failures += events[-1].kind != "delivered"
        assert desktop.clipboard == ("the person's clipboard",)
    final = {"daemon side": rss_kb(os.getpid()), "model host": rss_kb(starter_host.pid or 0)}
    growth = {side: (final[side] - baseline[side]) / baseline[side] for side in final}
    print(f"soak: {ACTIONS} actions in {time.monotonic() - started:.0f} s, {failures} not done; RSS after "
          f"{warm_up} → end: " + ", ".join(f"{side} {baseline[side] / 1024:.1f} → {final[side] / 1024:.1f} MB "
                                          f"({100 * growth[side]:+.2f} %)" for side in final))
    assert failures == 0
    assert all(g <= 0.05 for g in growth.values()), growth
