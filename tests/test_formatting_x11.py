"""Formatting kept, on a real X server: a proofread of a selection with bold and a link, in a small rich
editor (helpers/richtext.py) that speaks HTML on the X selections as browsers and word processors do.

The jobs thread runs the built-in proofread on the X11 desktop adapters; the scripted model host answers
in Markdown, as a model given Markdown does. A rich paste keeps the bold and the link; a plain one gets
clean text; the checks and the popup see the plain text.
"""

from __future__ import annotations

import dataclasses
import json
import sys
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest

from phitray.actions.library import ActionSet, load_actions
from phitray.backends.base import Request
from phitray.desktop import Desktop
from phitray.host.scripted import ScriptedHost
from phitray.jobs.capture import MAX_HTML_BYTES, CaptureOptions
from phitray.jobs.paste import paste_text
from phitray.jobs.thread import JobThread
from phitray.jobs.timeline import Timeline
from phitray.jobs.types import ActionJob, Delivered, JobEvent, JobSettings, PasteJob

from helpers.desktop import DesktopSession
from helpers.waiting import until

pytestmark = pytest.mark.slow
EDITOR = Path(__file__).parent / "helpers" / "richtext.py"
PEER = Path(__file__).parent / "helpers" / "x11_peer.py"
SELECTION = '<p>Ths is <b>bold</b> and <a href="https://example.com/a_b?x=1">a link</a>.</p>'
ANSWER = "This is **bold** and [a link](https://example.com/a_b?x=1)."


@dataclass
class RichEditor:
    session: DesktopSession
    content: Path
    window: int
    process: object
    sequence: int = 0

    def load(self, fragment: str) -> None:
        """Hold `fragment`, all of it selected, and focus the editor."""
        self.sequence += 1
        with open(self.content.with_suffix(".ctl"), "w", encoding="utf-8") as control:
            control.write(json.dumps({"seq": self.sequence, "html": fragment}) + "\n")
        ack = self.content.with_suffix(".ack")
        until(lambda: ack.exists() and ack.read_text() == str(self.sequence), "the editor to take the text")
        self.session.xdotool("windowactivate", "--sync", str(self.window))

    def pasted(self) -> dict[str, str]:
        done = self.content.with_name(self.content.name + ".pasted")
        until(done.exists, "the editor's paste")
        return dict(json.loads(done.read_text(encoding="utf-8")))

    def text(self) -> str:
        return self.content.read_bytes().decode("utf-8")

    def html(self) -> str:
        return self.content.with_name(self.content.name + ".html").read_text(encoding="utf-8")


def open_editor(session: DesktopSession, mode: str) -> Iterator[RichEditor]:
    name = f"rich-{mode}-{time.monotonic_ns()}"
    content = session.folder / f"{name}.txt"
    process = session.spawn([sys.executable, str(EDITOR), str(content), name, mode], name)
    try:
        until(content.exists, "the rich editor")
        window = int(session.xdotool("search", "--sync", "--name", f"^{name}$").split()[0])
        yield RichEditor(session, content, window, process)
    finally:
        process.terminate()
        process.wait(timeout=5)


def proofread(x11: Desktop, editor: RichEditor) -> tuple[list[Request], list[JobEvent]]:
    """The person's proofread hotkey on the editor's selection; the model answers in Markdown."""
    requests: list[Request] = []

    def answer(request: Request) -> str:
        requests.append(request)
        return ANSWER

    events: list[JobEvent] = []
    jobs = JobThread(x11, lambda: ScriptedHost(answer), JobSettings(actions=load_actions(None),
                     capture=CaptureOptions(paste_timeout=3)), events.append)
    editor.load(SELECTION)
    jobs.run_job(ActionJob("hotkey", "proofread"))
    return requests, events


@pytest.mark.parametrize("mode", ["rich", "copy"])
def test_bold_and_a_link_survive_a_proofread_in_a_rich_editor(session: DesktopSession, x11: Desktop,
                                                              mode: str) -> None:
    """"rich": the selection is read from PRIMARY; "copy": the editor exports none, so the agent copies."""
    for editor in open_editor(session, mode):
        session.set_clipboard("the person's own clipboard")
        requests, events = proofread(x11, editor)
        assert len(requests) == 1
        # The model worked on the Markdown form, told to keep its marks.
        assert "Ths is **bold** and [a link](https://example.com/a_b?x=1)." in requests[0].prompt
        assert "Markdown" in (requests[0].system or "")
        assert editor.pasted() == {"target": "text/html"}
        assert editor.text() == "This is bold and a link."
        html = editor.html()
        assert "<b>bold</b>" in html and '<a href="https://example.com/a_b?x=1">a link</a>' in html
        delivered = [event for event in events if isinstance(event, Delivered)]
        assert delivered and delivered[0].output == "replace"
        assert delivered[0].text == "This is bold and a link." and delivered[0].original == "Ths is bold and a link."
        assert all(check.passed for check in delivered[0].checks)  # on the plain text: no mark counts as a change
        until(lambda: session.clipboard() == "the person's own clipboard", "the clipboard given back")


def test_a_plain_editor_gets_clean_text_without_markdown_symbols(session: DesktopSession, x11: Desktop) -> None:
    for editor in open_editor(session, "plain"):
        requests, _ = proofread(x11, editor)
        assert "**bold**" in requests[0].prompt
        assert editor.pasted() == {"target": "UTF8_STRING"}
        assert editor.text() == "This is bold and a link."
        assert not any(mark in editor.text() for mark in ("*", "[", "](", "_", "#"))


def test_an_action_that_does_not_keep_formatting_works_on_the_plain_text(session: DesktopSession,
                                                                         x11: Desktop) -> None:
    builtin = load_actions(None)
    plain = dataclasses.replace(builtin.get("proofread"), format="plain")
    for editor in open_editor(session, "rich"):
        requests: list[Request] = []

        def answer(request: Request) -> str:
            requests.append(request)
            return "This is bold and a link."
        jobs = JobThread(x11, lambda: ScriptedHost(answer),
                         JobSettings(actions=ActionSet({**builtin.actions, "proofread": plain}, ()),
                                     capture=CaptureOptions(paste_timeout=3)), lambda event: None)
        editor.load(SELECTION)
        jobs.run_job(ActionJob("hotkey", "proofread"))
        assert "Ths is bold and a link." in requests[0].prompt and "**" not in requests[0].prompt
        assert editor.pasted() == {"target": "UTF8_STRING"}  # no HTML was offered: the editor took the text
        assert editor.text() == "This is bold and a link." and "<b>" not in editor.html()


def test_an_answer_reviewed_in_the_popup_is_pasted_with_its_formatting(session: DesktopSession, x11: Desktop) -> None:
    """With review on, the edit opens in the popup first; Another version works on the Markdown again, and
    Replace pastes the HTML the answer came with."""
    for editor in open_editor(session, "rich"):
        events: list[JobEvent] = []
        prompts: list[str] = []

        def answer(request: Request) -> str:
            prompts.append(request.prompt)
            return ANSWER
        jobs = JobThread(x11, lambda: ScriptedHost(answer),
                         JobSettings(actions=load_actions(None), review_before_replace=True,
                                     capture=CaptureOptions(paste_timeout=3)), events.append)
        editor.load(SELECTION)
        jobs.run_job(ActionJob("hotkey", "proofread"))
        shown = [event for event in events if isinstance(event, Delivered)][0]
        assert shown.output == "popup" and shown.review and shown.text == "This is bold and a link."
        assert "<strong>bold</strong>" in shown.html
        assert shown.retry is not None
        jobs.run_job(shown.retry)  # Another version: a sample, on the selection's Markdown again
        again = [event for event in events if isinstance(event, Delivered)][-1]
        assert again is not shown and again.text == shown.text and again.html == shown.html
        assert len(prompts) == 2 and all("**bold**" in prompt for prompt in prompts)
        editor.load(SELECTION)  # the person's selection, still there under the popup
        jobs.run_job(PasteJob("proofread", again.text, editor.window, again.original, html=again.html))
        assert editor.pasted() == {"target": "text/html"}
        assert editor.text() == "This is bold and a link." and "<b>bold</b>" in editor.html()


def peer(session: DesktopSession, mode: str, *args: str) -> Iterator[Callable[..., Any]]:
    """An x11_peer.py process; yields first(key): the first value it logged under `key`."""
    log = session.folder / f"peer-{mode}-{time.monotonic_ns()}.log"
    process = session.spawn([sys.executable, str(PEER), mode, str(log), *args], f"peer-{mode}")

    def first(key: str, where: Callable[[Any], bool] = lambda _: True) -> Any:
        found: list[Any] = []

        def logged() -> bool:
            lines = log.read_text(encoding="utf-8").splitlines() if log.exists() else []
            found[:] = [line[key] for line in map(json.loads, lines) if key in line and where(line[key])][:1]
            return bool(found)
        until(logged, f"the peer to log {key}")
        return found[0]
    try:
        first("ready")
        yield first
    finally:
        process.terminate()
        process.wait(timeout=5)


def test_a_manager_reading_the_html_of_every_owner_does_not_end_the_paste(session: DesktopSession,
                                                                          x11: Desktop) -> None:
    """The paste is the target's read of text/html after Ctrl+V, never a clipboard manager's read of it."""
    fragment = "<p>the <b>answer</b> ✓</p>"
    for reader in peer(session, "reader", "text/html"):
        for target in peer(session, "target", "busyrich", "0.3", "text/html"):  # reads 300 ms after Ctrl+V
            window = int(target("window"))
            session.xdotool("windowactivate", "--sync", str(window))
            session.set_clipboard("the person's old clipboard")
            timeline = Timeline()
            assert paste_text(x11, "the answer ✓", x11.clipboard.snapshot(), CaptureOptions(paste_timeout=3),
                              timeline, window, fragment)
            reader("read", lambda read: read == fragment)  # it read the offer's HTML before Ctrl+V went
            assert target("pasted") == fragment
            assert timeline.marks["paste_taken"] - timeline.marks["paste_sent"] >= 0.3
            until(lambda: session.clipboard() == "the person's old clipboard", "the clipboard given back")


def test_html_over_the_limit_is_not_read(session: DesktopSession, x11: Desktop) -> None:
    """An owner announcing 10 MB of text/html: nothing of it is read past the capture's limit, and a read
    within a larger limit gets it whole."""
    for owner in peer(session, "owner", "CLIPBOARD", "text/html", "10"):
        assert x11.clipboard.read_html(max_bytes=MAX_HTML_BYTES) is None
        assert MAX_HTML_BYTES < 10_000_000
        assert len((x11.clipboard.read_html(max_bytes=20_000_000) or "").encode()) == 10_000_000
        assert owner("sent") >= 0
