"""Put the original back, on a real X server: four proofreads in the Tk editor (helpers/textwidget.py), then
the second one's original pasted back over its answer, as the tray's Recent does it.

The jobs thread runs on the X11 desktop adapters with the scripted model host; its events feed the history
module as the daemon feeds it, and the job submitted is the one Recent's "Put the original back" makes.
"""

from __future__ import annotations

import json
import sys
import time
from collections.abc import Iterator
from pathlib import Path

import pytest

from phitray.actions.library import load_actions
from phitray.app.history import History
from phitray.desktop import Desktop
from phitray.host.scripted import ScriptedHost
from phitray.jobs.capture import CaptureOptions
from phitray.jobs.thread import JobThread
from phitray.jobs.types import ActionJob, JobEvent, JobSettings, RestoreJob

from helpers.desktop import DesktopSession
from helpers.waiting import until

EDITOR = Path(__file__).parent / "helpers" / "textwidget.py"
ORIGINALS = [f"i has went to the shop number {number}." for number in ("one", "two", "three", "four")]


def fixed(text: str) -> str:
    return text.replace("i has went", "I went")


class Editor:
    """The Tk editor in its own process; `select` is the person selecting a part of what it holds."""

    def __init__(self, session: DesktopSession, content: Path, window: int) -> None:
        self.session, self.content, self.window, self.sequence = session, content, window, 0

    def text(self) -> str:
        return self.content.read_bytes().decode("utf-8")

    def select(self, before: str, selected: str, after: str) -> None:
        self.sequence += 1
        with open(self.content.with_suffix(".ctl"), "w", encoding="utf-8") as control:
            control.write(json.dumps({"seq": self.sequence, "before": before, "selected": selected,
                                      "after": after}) + "\n")
        ack = self.content.with_suffix(".ack")
        until(lambda: ack.exists() and ack.read_text() == str(self.sequence), "the editor to take the selection")
        self.session.xdotool("windowactivate", "--sync", str(self.window))

    def select_part(self, part: str) -> None:
        whole = self.text()
        start = whole.index(part)
        self.select(whole[:start], part, whole[start + len(part):])


@pytest.fixture
def editor(session: DesktopSession) -> Iterator[Editor]:
    name = f"history-{time.monotonic_ns()}"
    content = session.folder / f"{name}.txt"
    process = session.spawn([sys.executable, str(EDITOR), str(content), name], name)
    try:
        until(content.exists, "the editor")
        window = int(session.xdotool("search", "--sync", "--name", f"^{name}$").split()[0])
        yield Editor(session, content, window)
    finally:
        process.terminate()
        process.wait(timeout=5)


def test_four_proofreads_then_the_second_original_goes_back_over_its_answer(
        session: DesktopSession, x11: Desktop, editor: Editor, tmp_path: Path) -> None:
    history = History(tmp_path / "history.json", keep_on_disk=False, changed=lambda recent: None)
    events: list[JobEvent] = []

    def on_event(event: JobEvent) -> None:
        events.append(event)
        history.note(event)

    jobs = JobThread(x11, lambda: ScriptedHost(lambda request: fixed(request.prompt.split("<text>")[-1]
                                                                      .split("</text>")[0].strip())),
                     JobSettings(actions=load_actions(None), capture=CaptureOptions(paste_timeout=3)), on_event)
    session.set_clipboard("the person's own clipboard")
    editor.select("", ORIGINALS[0], " " + " ".join(ORIGINALS[1:]))
    for number, original in enumerate(ORIGINALS):
        editor.select_part(original)
        jobs.run_job(ActionJob("hotkey", "proofread"))
        assert jobs.last_record is not None and jobs.last_record.output == "replace", events[-1]
        until(lambda: fixed(original) in editor.text(), f"proofread {number + 1} in the editor")
    edited = " ".join(fixed(original) for original in ORIGINALS)
    assert editor.text() == edited
    assert [entry.original for entry in history.entries] == ORIGINALS[::-1]
    assert all(entry.pasted and entry.window is not None for entry in history.entries)

    second = history.entries[2]
    editor.select_part(second.answer)  # the person selects the answer, then picks Recent → Put the original back
    jobs.run_job(RestoreJob(second.action_id, second.window, second.original, second.answer))
    assert jobs.last_record is not None and jobs.last_record.output == "restore", events[-1]
    until(lambda: editor.text() == edited.replace(fixed(ORIGINALS[1]), ORIGINALS[1]), "the original back")
    until(lambda: session.clipboard() == "the person's own clipboard", "the clipboard given back")

    # The answer no longer selected: nothing is pasted, the original waits on the clipboard.
    restored = editor.text()
    editor.select(restored, "", "")
    latest = history.entries[0]
    jobs.run_job(RestoreJob(latest.action_id, latest.window, latest.original, latest.answer))
    assert jobs.last_record is not None and jobs.last_record.output == "clipboard", events[-1]
    assert editor.text() == restored
    until(lambda: session.clipboard() == ORIGINALS[3], "the original on the clipboard")
