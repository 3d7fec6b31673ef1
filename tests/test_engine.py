"""The job engine on the real starter model, with a scripted desktop at the project's own seam.

The scripted desktop is a document with a selection and a clipboard, acting as
an editor does: Ctrl+C copies the selection, Ctrl+V replaces it with the
clipboard. It records every step, so the order of the capture/delivery
sequence is checked, and faults (nothing selected, a paste the window ignores)
are one flag away. The X11 adapters themselves are covered in test_desktop.py.
"""

from __future__ import annotations

import os
import signal
import threading
import time
from collections.abc import Iterator
from dataclasses import dataclass, field

import pytest

from phitray.actions.library import ActionSet, load_actions, read_action
from phitray.actions.runner import run_action
from phitray.backends.chain import ChainOptions
from phitray.capture import CaptureOptions
from phitray.desktop import Desktop
from phitray.hotkeys import Combo
from phitray.jobs import Job, JobEngine, JobEvent
from phitray.paths import Paths
from phitray.supervisor import ModelHost

pytestmark = pytest.mark.slow

LONG = read_action('''
id = "ramble"
title = "Ramble"
output = "replace"
max_new_tokens = 400
prompt = "Write a very long story that begins with the text between <text> and </text>.\\n\\n$text"
''', "ramble.toml")


@dataclass
class ScriptedDesktop:
    """An editor window, the clipboard and the keyboard, as plain data."""

    text: str = ""
    selection: tuple[int, int] | None = None
    clipboard: tuple[str, ...] = ("the person's clipboard",)  # a snapshot is the whole tuple
    held_polls: int = 2  # the hotkey's keys stay down for this many polls
    paste_works: bool = True
    mark: int = 0
    steps: list[str] = field(default_factory=list)

    # Keys
    def any_key_held(self) -> bool:
        self.held_polls -= 1
        return self.held_polls >= 0

    def modifiers_held(self) -> tuple[str, ...]:
        return ("ctrl", "alt") if self.held_polls > 0 else ()

    def release_modifiers(self) -> None:
        self.steps.append("release")

    def send_copy(self) -> None:
        self.steps.append("copy")
        if self.any_key_held_now():
            return  # a held Alt turns Ctrl+C into something else
        if self.selection:
            self.clipboard = (self.text[self.selection[0]:self.selection[1]],)
            self.mark += 1

    def any_key_held_now(self) -> bool:
        return self.held_polls > 0

    def send_paste(self) -> None:
        self.steps.append("paste")
        if self.paste_works and self.selection:
            start, end = self.selection
            self.text = self.text[:start] + self.clipboard[0] + self.text[end:]
            self.selection = None
            self.taken.set()

    def send_undo(self) -> None:
        self.steps.append("undo")

    # Clipboard
    def snapshot(self) -> tuple[str, ...]:
        self.steps.append("snapshot")
        return self.clipboard

    def restore(self, snapshot: object) -> None:
        self.steps.append("restore")
        assert isinstance(snapshot, tuple)
        self.clipboard = snapshot

    def change_mark(self) -> int:
        return self.mark

    def wait_for_change(self, mark: int, timeout: float) -> bool:
        return self.mark != mark

    def read_text(self) -> str | None:
        return self.clipboard[0] if self.clipboard else None

    def read_selection(self) -> str | None:
        return None

    def offer_text(self, text: str) -> "ScriptedDesktop":
        self.steps.append("offer")
        self.clipboard = (text,)
        self.taken = threading.Event()
        return self

    def wait_taken(self, timeout: float) -> bool:
        return self.taken.wait(timeout)

    def close(self) -> None:
        pass

    # Focus and hotkeys
    def current(self) -> int | None:
        return 7

    def activate(self, window: int) -> bool:
        return True

    def alive(self, window: int) -> bool:
        return True

    def start(self, bindings: dict[Combo, object]) -> None:
        pass

    def stop(self) -> None:
        pass

    def desktop(self) -> Desktop:
        return Desktop(clipboard=self, keys=self, focus=self, hotkeys=self)  # type: ignore[arg-type]


@pytest.fixture(scope="module")
def host(shared_paths: Paths) -> Iterator[ModelHost]:
    options = ChainOptions(chain=("openvino-cpu",), model_id="starter", cache_dir=shared_paths.cache_dir, allow_pull=False)
    with ModelHost(options, shared_paths, max_restarts=3) as running:
        running.start()
        yield running


@pytest.fixture(scope="module")
def actions() -> ActionSet:
    builtin = load_actions(None)
    return ActionSet({**builtin.actions, "ramble": LONG}, ())


def engine_for(desktop: ScriptedDesktop, host: ModelHost, actions: ActionSet, events: list[JobEvent]) -> JobEngine:
    return JobEngine(desktop.desktop(), lambda: host, lambda: actions, lambda: CaptureOptions(paste_timeout=0.3),
                     events.append)


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
    assert desktop.steps == ["snapshot", "copy", "restore", "offer", "paste", "restore"]
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
    desktop = ScriptedDesktop(text="Once upon a time", selection=(0, 16))
    events: list[JobEvent] = []
    streamed = threading.Event()

    def on_event(event: JobEvent) -> None:
        events.append(event)
        if event.kind == "started":
            streamed.set()

    engine = JobEngine(desktop.desktop(), lambda: host, lambda: actions, lambda: CaptureOptions(), on_event,
                       output_overrides={"ramble": "popup"})
    engine.start()
    try:
        assert engine.submit(Job("action", "hotkey", "ramble"))
        assert streamed.wait(10)
        assert not engine.submit(Job("action", "hotkey", "proofread"))
        assert events[-1].kind == "busy"
        time.sleep(0.2)
        assert engine.cancel()
        deadline = time.monotonic() + 10
        while engine.busy and time.monotonic() < deadline:
            time.sleep(0.01)
    finally:
        engine.stop()
    kinds = [e.kind for e in events]
    assert "failed" in kinds and any("Cancelled" in e.message for e in events), kinds
    assert "done" not in kinds
    assert desktop.text == "Once upon a time" and desktop.clipboard == ("the person's clipboard",)


def test_the_model_host_dying_mid_answer_loses_nothing_and_the_next_job_works(
    host: ModelHost, actions: ActionSet
) -> None:
    desktop = ScriptedDesktop(text="A lighthouse at dusk.", selection=(0, 21))
    events: list[JobEvent] = []

    def on_event(event: JobEvent) -> None:
        events.append(event)
        if event.kind == "text" and len([e for e in events if e.kind == "text"]) == 3 and host.pid:
            os.kill(host.pid, signal.SIGKILL)

    engine = JobEngine(desktop.desktop(), lambda: host, lambda: actions, lambda: CaptureOptions(), on_event,
                       output_overrides={"ramble": "popup"})
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
