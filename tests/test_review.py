"""Never paste what the model got wrong, on the X11 desktop: a flagged answer stays out of the document
and opens in the popup with its reason; with review on, an edit opens with its changes marked and Enter
replaces. Only the person's keys and clicks move the focus."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest
from PIL import Image

from phitray.paths import Paths

from helpers.agent import STARTER_SETTINGS, RunningAgent, start_agent, strict_action
from helpers.desktop import DesktopSession, TextWidget, popup_window, wait_gone

pytestmark = pytest.mark.slow

DELETED, INSERTED = (0xFD, 0xE7, 0xE7), (0xE3, 0xF6, 0xE3)  # the popup's change marks (ui/popup.py)
SETTINGS = STARTER_SETTINGS + """
[hotkeys.actions]
proofread = "ctrl+alt+p"

[review]
before_replace = true
"""


@pytest.fixture(scope="module")
def agent(session: DesktopSession, agent_paths: Paths) -> Iterator[RunningAgent]:
    running = start_agent(session, agent_paths, SETTINGS, {"strict": strict_action(hotkey="ctrl+alt+s")})
    yield running
    assert running.stop() == 0, running.output()


def test_a_flagged_answer_never_reaches_the_editor_and_opens_with_its_reason(
    session: DesktopSession, agent: RunningAgent, widget: TextWidget
) -> None:
    text = "The cat sat on the mat near the door."
    session.set_clipboard("the person's own clipboard")
    widget.fill(text)
    widget.select_all()
    record = agent.job_after(lambda: session.press("ctrl+alt+s", 0.2))
    assert (record.outcome, record.output, record.flagged) == ("done", "popup", True), agent.log()[-2000:]
    assert "close_to_input" in record.failed_checks, record
    window = popup_window(session, "Strict")
    assert widget.text() == text and session.clipboard() == "the person's own clipboard"
    # The popup has the keyboard, with Another version focused, not Replace anyway: Enter asks for a new
    # sample (which may pass its checks or not) and pastes nothing.
    session.xdotool("key", "Return")
    retried = agent.wait_job(record.number + 1)
    assert (retried.action_id, retried.source, retried.output) == ("strict", "popup", "popup"), retried
    assert widget.text() == text
    again = popup_window(session, "Strict")
    session.xdotool("key", "Escape")  # the new popup has the keyboard too
    wait_gone(session, again)
    assert window and widget.text() == text


def test_review_shows_the_changes_and_enter_replaces(
    session: DesktopSession, agent: RunningAgent, widget: TextWidget, tmp_path: Path
) -> None:
    text = "their going too the park tomorow."
    widget.fill(text)
    widget.select_all()
    record = agent.job_after(lambda: session.press("ctrl+alt+p", 0.2))
    assert (record.outcome, record.output) == ("done", "popup"), agent.log()[-2000:]
    window = popup_window(session, "Proofread")
    assert widget.text() == text, "the edit replaced the text before it was reviewed"
    # Deleted words on a light red ground, inserted ones on a light green ground.
    with Image.open(session.screenshot(tmp_path / "review.png", window)) as image:
        colours = {image.convert("RGB").getpixel((x, y)) for x in range(image.width) for y in range(image.height)}
    assert DELETED in colours and INSERTED in colours, "the popup marks no changes"
    session.xdotool("key", "Return")  # the popup has the keyboard; Replace is focused
    paste = agent.wait_job(record.number + 1)
    assert (paste.kind, paste.outcome) == ("paste", "done")
    assert widget.wait_text(lambda current: current != text) != text
