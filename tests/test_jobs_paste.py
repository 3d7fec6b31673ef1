"""The jobs thread's paste and the clipboard around it, against a scripted model host and a scripted desktop:
a window that comes back or will not, a person who has moved on, elevated windows and consoles, PRIMARY,
and a Ctrl+V that cannot be sent or is taken late."""

from __future__ import annotations

import dataclasses
import threading

from phitray import errors
from phitray.actions.library import ActionSet
from phitray.backends.base import Request
from phitray.desktop import WindowTraits
from phitray.host.scripted import Answer, ScriptedHost
from phitray.jobs.capture import CaptureOptions
from phitray.jobs.thread import JobThread
from phitray.jobs.types import ActionJob, CaptureJob, JobEvent, JobSettings

from helpers.scripted import ScriptedDesktop
from helpers.scripted_x11 import PrimaryEditor
from helpers.scripted_jobs import FIXED, actions, answer_for, engine_for, host  # noqa: F401 (fixtures)


def test_from_the_tray_the_persons_window_comes_back_before_the_copy(host: ScriptedHost, actions: ActionSet) -> None:
    """A tray click puts the taskbar in front; Ctrl+C must go to the window the person was in."""
    text = "i has went to the store yesterday."
    desktop = ScriptedDesktop(text=text, selection=(0, len(text)), front=3)
    events: list[JobEvent] = []
    engine_for(desktop, host, actions, events).run_job(ActionJob("tray", "proofread"))
    assert desktop.steps[:3] == ["snapshot", "activate 7", "copy"], desktop.steps
    assert [e.kind for e in events] == ["started", "delivered"] and events[-1].output == "replace"


def test_a_window_that_will_not_come_back_is_sent_no_keys(host: ScriptedHost, actions: ActionSet) -> None:
    desktop = ScriptedDesktop(text="words", selection=(0, 5), front=3, activation_works=False)
    events: list[JobEvent] = []
    engine_for(desktop, host, actions, events).run_job(ActionJob("tray", "proofread"))
    assert [e.kind for e in events] == ["notice"] and "did not come back to the front" in events[0].message
    assert "copy" not in desktop.steps and desktop.clipboard == ("the person's clipboard",)


def test_when_the_person_has_moved_on_no_ctrl_v_is_sent_and_the_answer_opens_in_the_popup(
        host: ScriptedHost, actions: ActionSet) -> None:
    text = "i has went to the store yesterday."
    desktop = ScriptedDesktop(text=text, selection=(0, len(text)))
    events: list[JobEvent] = []

    def switched_away(event: JobEvent) -> None:
        """The person clicks into another window while the model works, and Windows keeps it in front."""
        events.append(event)
        if event.kind == "started":
            desktop.front, desktop.activation_works = 9, False

    JobThread(desktop.desktop(), lambda: host, JobSettings(actions=actions, capture=CaptureOptions(paste_timeout=0.3)),
              switched_away).run_job(ActionJob("hotkey", "proofread"))
    assert not any(step.startswith("paste") for step in desktop.steps), desktop.steps
    done = events[-1]
    assert done.kind == "delivered" and done.output == "popup" and "no longer in front" in done.message
    assert desktop.text == text and desktop.clipboard == ("the person's clipboard",)


def test_an_elevated_window_is_named_instead_of_nothing_selected(host: ScriptedHost, actions: ActionSet) -> None:
    reason = "regedit.exe runs as administrator, and Windows keeps programs without those rights from it."
    desktop = ScriptedDesktop(text="words", selection=(0, 5), traits_of_editor=WindowTraits(unreachable=reason))
    events: list[JobEvent] = []
    engine_for(desktop, host, actions, events).run_job(ActionJob("hotkey", "proofread"))
    assert [e.kind for e in events] == ["notice"] and events[0].message == reason
    assert desktop.steps == []  # not even a snapshot


def test_a_console_is_copied_from_and_pasted_into_with_the_insert_keys(host: ScriptedHost, actions: ActionSet) -> None:
    text = "i has went to the store yesterday."
    desktop = ScriptedDesktop(text=text, selection=(0, len(text)), traits_of_editor=WindowTraits(terminal=True))
    events: list[JobEvent] = []
    engine_for(desktop, host, actions, events).run_job(ActionJob("hotkey", "proofread"))
    assert "copy (terminal)" in desktop.steps and "paste (terminal)" in desktop.steps
    assert "copy" not in desktop.steps and "paste" not in desktop.steps  # never a Ctrl+C into a console


def test_the_record_says_how_the_selection_was_taken(host: ScriptedHost, actions: ActionSet) -> None:
    text = "i has went to the store yesterday."
    for desktop, path in ((ScriptedDesktop(text=text, selection=(0, len(text))), "copy"),
                          (PrimaryEditor(text=text, selection=(0, len(text))), "primary")):
        engine = engine_for(desktop, host, actions, [])
        engine.run_job(ActionJob("hotkey", "proofread"))
        assert engine.last_record is not None and (engine.last_record.outcome, engine.last_record.capture) == \
            ("done", path)
        assert desktop.text == FIXED and desktop.clipboard == ("the person's clipboard",)
    picker = PrimaryEditor(text=text, selection=(0, len(text)))
    engine = engine_for(picker, host, actions, [])
    engine.run_job(CaptureJob("hotkey"))
    assert engine.last_record is not None and engine.last_record.capture == "primary"
    engine.run_job(ActionJob("tray", "proofread", from_clipboard=True))
    assert engine.last_record is not None and engine.last_record.capture == ""


def test_a_selection_read_from_primary_gives_back_the_clipboard_as_it_is_at_the_paste(actions: ActionSet) -> None:
    """The clipboard was never touched: what the person copied while the model worked is what comes back."""
    text = "i has went to the store yesterday."
    desktop = PrimaryEditor(text=text, selection=(0, len(text)))

    def copy_meanwhile(request: Request) -> Answer:
        desktop.clipboard = ("copied while the model worked",)
        return answer_for(request)
    engine_for(desktop, ScriptedHost(copy_meanwhile), actions, []).run_job(ActionJob("hotkey", "proofread"))
    assert desktop.text == FIXED and desktop.clipboard == ("copied while the model worked",)
    assert desktop.steps[:2] == ["read primary for 7", "snapshot"] and "copy" not in desktop.steps


class FailingPaste(ScriptedDesktop):
    def send_paste(self, terminal: bool = False) -> None:
        self.steps.append("paste")
        raise errors.DesktopError("The keyboard layout has no Control_L+v key.")


def test_a_ctrl_v_that_cannot_be_sent_still_gives_the_clipboard_back(host: ScriptedHost, actions: ActionSet) -> None:
    text = "i has went to the store yesterday."
    desktop = FailingPaste(text=text, selection=(0, len(text)))
    events: list[JobEvent] = []
    engine_for(desktop, host, actions, events).run_job(ActionJob("hotkey", "proofread"))
    assert events[-1].kind == "failed" and "Control_L+v" in events[-1].message
    assert desktop.steps[-2:] == ["paste", "restore"]
    assert desktop.clipboard == ("the person's clipboard",) and desktop.text == text


@dataclasses.dataclass
class LatePaste(ScriptedDesktop):
    """A remote desktop: its read of the offer comes `read_after` seconds after Ctrl+V."""

    read_after: float = 2.0

    def send_paste(self, terminal: bool = False) -> None:
        self.steps.append("paste")
        threading.Timer(self.read_after, self._read_offer).start()

    def _read_offer(self) -> None:
        """A timer thread: the remote side asks for the clipboard now, and pastes what it gets."""
        assert self.selection is not None
        self.text = self.text[:self.selection[0]] + self.clipboard[0] + self.text[self.selection[1]:]
        if self.clipboard[0] != "the person's clipboard":
            self.taken.set()


def test_a_slow_window_is_waited_for_past_the_usual_paste_wait(host: ScriptedHost, actions: ActionSet) -> None:
    text = "i has went to the store yesterday."
    slow = LatePaste(text=text, selection=(0, len(text)), traits_of_editor=WindowTraits(slow_copy=True))
    engine_for(slow, host, actions, []).run_job(ActionJob("hotkey", "proofread"))  # paste_timeout is 0.3 s
    assert slow.text == FIXED and slow.clipboard == ("the person's clipboard",)
    ordinary = LatePaste(text=text, selection=(0, len(text)), read_after=0.6)
    events: list[JobEvent] = []
    engine_for(ordinary, host, actions, events).run_job(ActionJob("hotkey", "proofread"))
    assert (events[-1].kind, events[-1].output) == ("delivered", "popup")  # the answer is shown, not lost
