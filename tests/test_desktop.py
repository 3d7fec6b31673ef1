"""End to end on a real X server: the agent as its own process, driven with xdotool as a person would.

Xvfb, a session bus with dunst, trayer and a Tk editor (helpers/desktop.py);
the starter model on openvino-cpu. Expected answers come from the same action
run through an in-process model host: greedy decoding gives the same text.
"""

from __future__ import annotations

import time
from collections.abc import Iterator
from pathlib import Path

import pytest
from PIL import Image

from phitray.actions.library import load_actions
from phitray.actions.runner import run_action
from phitray.paths import Paths
from phitray.host.client import ModelHost

from helpers.agent import HOTKEY_SETTINGS, RunningAgent, start_agent, story_action
from helpers.desktop import click_button, popup_window, tray_icon_position, wait_gone, DesktopSession, TextWidget

pytestmark = pytest.mark.slow

SETTINGS = HOTKEY_SETTINGS + """
[capture]
timeout_ms = "soon"   # wrong on purpose: reported, and the default applies
"""
RAMBLE = story_action("ramble", hotkey="ctrl+alt+r")
TEXT = "i has went to the store yesterday and buyed three apple."


@pytest.fixture(scope="module")
def agent(session: DesktopSession, agent_paths: Paths) -> Iterator[RunningAgent]:
    running = start_agent(session, agent_paths, SETTINGS, {"ramble": RAMBLE})
    yield running
    assert running.stop() == 0, running.output()


@pytest.fixture(scope="module")
def expected(agent: RunningAgent, agent_paths: Paths, starter_host: ModelHost) -> object:
    """expected(action_id, text) -> the answer the agent must deliver for it (greedy: the same text)."""
    actions = load_actions(agent_paths.user_actions_dir)  # the agent fixture wrote the test's action files
    return lambda action_id, text: run_action(starter_host, actions.get(action_id), text).text


def test_a_bad_setting_is_reported_and_the_rest_works(session: DesktopSession, agent: RunningAgent) -> None:
    assert session.wait_notification("capture.timeout_ms: must be a whole number of milliseconds")
    assert "using the default 600" in session.notifications()


def test_hotkey_replaces_the_selection_and_gives_the_clipboard_back(
    session: DesktopSession, agent: RunningAgent, widget: TextWidget, expected: object
) -> None:
    assert callable(expected)
    answer = expected("proofread", TEXT)
    assert answer.strip() and answer != TEXT
    session.set_clipboard("the person's own clipboard ✓ 42")
    widget.fill(TEXT)
    widget.select_all()
    record = agent.job_after(lambda: session.press("ctrl+alt+p", 0.3))
    assert record.outcome == "done", agent.log()[-2000:]
    assert widget.wait_text(lambda text: text != TEXT) == answer
    assert session.clipboard() == "the person's own clipboard ✓ 42"
    assert session.keys_down() == [], "a key is stuck down after the action"
    assert record.timings["prompt_sent"] > record.timings["modifiers_released"] > record.timings["pressed"]
    assert record.timings["clipboard_restored"] >= record.timings["paste_taken"]


def test_a_clipboard_with_html_comes_back_with_every_format(
    session: DesktopSession, agent: RunningAgent, widget: TextWidget
) -> None:
    session.set_clipboard("<p>rich <b>text</b></p>", target="text/html")
    widget.fill("Short line to proofread .")
    widget.select_all()
    assert agent.job_after(lambda: session.press("ctrl+alt+p", 0.3)).outcome == "done"
    assert "text/html" in session.clipboard_targets()
    assert session.run("xclip", "-o", "-selection", "clipboard", "-t", "text/html") == "<p>rich <b>text</b></p>"


def test_nothing_selected_leaves_text_and_clipboard_alone(
    session: DesktopSession, agent: RunningAgent, widget: TextWidget
) -> None:
    widget.fill("nothing here is selected")
    session.xdotool("key", "End")  # typing leaves no selection
    session.set_clipboard("older clipboard content that must not be used")
    assert agent.job_after(lambda: session.press("ctrl+alt+p", 0.3)).outcome == "NothingSelected"
    assert popup_window(session, "No text is selected")  # the agent's notice window, by the pointer
    time.sleep(0.3)
    assert widget.text() == "nothing here is selected"
    assert session.clipboard() == "older clipboard content that must not be used"


def test_popup_streams_the_answer_and_copy_puts_it_on_the_clipboard(
    session: DesktopSession, agent: RunningAgent, widget: TextWidget, expected: object, tmp_path: Path
) -> None:
    assert callable(expected)
    text = "The old lighthouse keeper heard a knock at midnight."
    answer = expected("ramble", text)
    widget.fill(text)
    widget.select_all()
    jobs_before = len(agent.jobs())
    session.xdotool("key", "ctrl+alt+r")
    window = popup_window(session, "Ramble")
    # While the answer streams, the popup's text area fills up: count its dark pixels over time.
    inked = []
    while len(agent.jobs()) == jobs_before and len(inked) < 40:
        shot = session.screenshot(tmp_path / f"popup-{len(inked)}.png", window)
        with Image.open(shot) as image:
            grey = image.convert("L")
            body = grey.crop((8, 30, grey.width - 8, grey.height - 40))
            inked.append(sum(1 for value in body.tobytes() if value < 100))
    record = agent.wait_job(jobs_before + 1)
    assert record.outcome == "done"
    streaming = [count for count in inked[:-1] if count > 0]
    assert len(set(streaming)) >= 2, f"the popup did not fill while streaming: {inked}"
    assert record.timings["first_chunk"] < record.timings["answer_done"]
    session.set_clipboard("before copy")
    click_button(session, window, 0)  # Copy
    deadline = time.monotonic() + 5
    while session.clipboard() != answer and time.monotonic() < deadline:
        time.sleep(0.05)
    assert session.clipboard() == answer
    assert widget.text() == text  # a popup never touches the document
    click_button(session, window, 3)  # Close
    wait_gone(session, window)


def test_a_press_while_busy_runs_one_job_and_says_so(
    session: DesktopSession, agent: RunningAgent, widget: TextWidget
) -> None:
    widget.fill("A quiet town by the sea.")
    widget.select_all()
    jobs_before = len(agent.jobs())
    popups = len(agent.milestones("window-opened", window="popup"))
    session.xdotool("key", "ctrl+alt+r")
    agent.wait_milestone("window-opened", 10, count=popups + 1, window="popup")
    popup_window(session, "Ramble")
    session.xdotool("key", "ctrl+alt+p")
    session.xdotool("key", "ctrl+alt+p")
    assert popup_window(session, "Still working on the last action")
    agent.wait_job(jobs_before + 1)
    time.sleep(0.5)
    assert len(agent.jobs()) == jobs_before + 1, "a second job ran while the first was busy"
    assert widget.text() == "A quiet town by the sea."


@pytest.mark.parametrize("how", ["cancel hotkey", "Esc in the popup"])
def test_cancel_stops_a_streaming_answer(session: DesktopSession, agent: RunningAgent, widget: TextWidget, how: str) -> None:
    widget.fill("Once upon a time in a city of glass.")
    widget.select_all()
    jobs_before = len(agent.jobs())
    session.xdotool("key", "ctrl+alt+r")
    popup_window(session, "Ramble")  # a person sees it open
    if how == "cancel hotkey":
        session.xdotool("key", "ctrl+alt+Escape")
    else:
        session.xdotool("key", "Escape")  # the popup has the keyboard: nothing gives it the focus
    record = agent.wait_job(jobs_before + 1)
    assert record.outcome == "Cancelled"
    assert "answer_done" not in record.timings and "paste_sent" not in record.timings
    assert widget.text() == "Once upon a time in a city of glass."


def test_the_tray_icon_shows_and_its_menu_runs_an_action_on_the_clipboard(
    session: DesktopSession, agent: RunningAgent, widget: TextWidget, expected: object, tmp_path: Path
) -> None:
    assert callable(expected)
    x, y = tray_icon_position(session, tmp_path)
    clipboard_text = "their is a error in this sentense."
    session.set_clipboard(clipboard_text)
    with Image.open(session.screenshot(tmp_path / "before.png")) as image:
        before = image.convert("L").crop((x - 300, y + 10, x, y + 300)).tobytes()
        before_light = sum(1 for value in before if value > 150)
    session.xdotool("mousemove", str(x), str(y), "click", "3")
    time.sleep(0.8)
    with Image.open(session.screenshot(tmp_path / "menu.png")) as image:
        after = image.convert("L").crop((x - 300, y + 10, x, y + 300)).tobytes()
        after_light = sum(1 for value in after if value > 150)
    assert after_light > before_light + 5000, "no menu appeared under the tray icon"
    jobs_before = len(agent.jobs())
    # First enabled item is "Pick an action…"; the next one opens "Run on clipboard text"; its first item is Proofread.
    for key in ("Down", "Down", "Right", "Return"):
        session.xdotool("key", key)
        time.sleep(0.15)
    record = agent.wait_job(jobs_before + 1)
    assert (record.action_id, record.source, record.outcome) == ("proofread", "tray", "done")
    window = popup_window(session, "Proofread")
    session.set_clipboard("something else")
    click_button(session, window, 0)
    answer = expected("proofread", clipboard_text)
    deadline = time.monotonic() + 5
    while session.clipboard() != answer and time.monotonic() < deadline:
        time.sleep(0.05)
    assert session.clipboard() == answer
    click_button(session, window, 3)
    wait_gone(session, window)


def test_a_second_launch_notifies_the_first_and_exits(session: DesktopSession, agent: RunningAgent) -> None:
    result = agent.command("run", timeout=30)
    assert result.returncode == 0
    assert "already running" in result.stdout
    assert session.wait_notification("Phi Tray is running")
    assert agent.process.poll() is None


def test_autostart_on_and_off_writes_and_removes_the_desktop_file(agent: RunningAgent) -> None:
    entry = Path(agent.env["XDG_CONFIG_HOME"]) / "autostart" / "phitray.desktop"
    assert agent.command("autostart", "on").returncode == 0
    text = entry.read_text()
    assert "[Desktop Entry]" in text and "-m phitray run" in text
    validate = agent.command("autostart", "status")
    assert "on (" in validate.stdout
    import subprocess

    assert subprocess.run(["desktop-file-validate", str(entry)], capture_output=True).returncode == 0
    assert agent.command("autostart", "off").returncode == 0
    assert not entry.exists()
    assert "off" in agent.command("autostart", "status").stdout


def test_the_picker_runs_the_filtered_action_on_the_selection(
    session: DesktopSession, agent: RunningAgent, widget: TextWidget, expected: object
) -> None:
    assert callable(expected)
    widget.fill(TEXT)
    widget.select_all()
    session.set_clipboard("clipboard before the picker")
    jobs_before = len(agent.jobs())
    # As a person does: the hotkey, then typing at once, before the picker is even on screen. Nothing
    # moves the focus; the keys must go to the picker, not over the selection.
    # One command: 50 ms after letting go of the hotkey, as a quick typist does, the picker not yet on screen.
    session.xdotool("key", "ctrl+alt+space", "sleep", "0.05", "type", "--delay", "30", "proof")
    session.xdotool("key", "Return")
    capture, action = agent.wait_job(jobs_before + 1), agent.wait_job(jobs_before + 2)
    assert (capture.kind, action.action_id, action.source, action.outcome) == ("capture", "proofread", "picker", "done")
    assert widget.wait_text(lambda text: text != TEXT) == expected("proofread", TEXT)
    assert session.clipboard() == "clipboard before the picker"


def test_a_custom_instruction_from_the_picker_answers_in_a_popup(
    session: DesktopSession, agent: RunningAgent, widget: TextWidget, expected: object
) -> None:
    widget.fill("Seven cats sat on a wall.")
    widget.select_all()
    jobs_before = len(agent.jobs())
    # "count the cats" matches no action: an instruction.
    session.xdotool("key", "ctrl+alt+space", "sleep", "0.05", "type", "--delay", "20", "count the cats")
    session.xdotool("key", "Return")
    record = agent.wait_job(jobs_before + 2)
    assert (record.action_id, record.outcome) == ("custom", "done")
    window = popup_window(session, "Custom instruction")
    click_button(session, window, 3)
    wait_gone(session, window)
    assert widget.text() == "Seven cats sat on a wall."


def test_popup_replace_pastes_into_the_editor_and_tray_undo_takes_it_back(
    session: DesktopSession, agent: RunningAgent, widget: TextWidget, expected: object, tmp_path: Path
) -> None:
    assert callable(expected)
    text = "The rain stopped at noon."
    answer = expected("ramble", text)
    widget.fill(text)
    widget.select_all()
    session.set_clipboard("keep me")
    jobs_before = len(agent.jobs())
    session.xdotool("key", "ctrl+alt+r")
    agent.wait_job(jobs_before + 1)
    window = popup_window(session, "Ramble")
    click_button(session, window, 1)  # Replace
    paste = agent.wait_job(jobs_before + 2)
    assert (paste.kind, paste.outcome) == ("paste", "done")
    assert widget.wait_text(lambda current: current != text) == answer
    assert session.clipboard() == "keep me"
    x, y = tray_icon_position(session, tmp_path)
    session.xdotool("mousemove", str(x), str(y), "click", "3")
    time.sleep(0.8)
    for key in ("Down", "Down", "Down", "Return"):  # Pick…, Run on clipboard text, (Cancel is off), Undo
        session.xdotool("key", key)
        time.sleep(0.15)
    undo = agent.wait_job(jobs_before + 3)
    assert (undo.kind, undo.outcome) == ("undo", "done")
    assert widget.wait_text(lambda current: current == text) == text


def test_clipboard_output_leaves_the_result_on_the_clipboard_and_says_so(
    session: DesktopSession, agent: RunningAgent, widget: TextWidget, expected: object
) -> None:
    assert callable(expected)
    text = "In the event that it happens to be raining, we will at this point in time stay inside."
    widget.fill(text)
    widget.select_all()
    assert agent.job_after(lambda: session.press("ctrl+alt+k", 0.3)).outcome == "done"
    assert popup_window(session, "The result is on the clipboard")
    assert session.clipboard() == expected("concise", text)
    assert widget.text() == text


def test_pause_from_the_tray_turns_the_icon_grey_and_the_hotkeys_off(
    session: DesktopSession, agent: RunningAgent, widget: TextWidget, tmp_path: Path
) -> None:
    def toggle_pause(icon_now: str) -> None:
        x, y = tray_icon_position(session, tmp_path, icon_now)
        session.xdotool("mousemove", str(x), str(y), "click", "3")
        time.sleep(0.8)
        # From the bottom (Recent above comes once a job has run): Quit, About this PC…, Open log, Reload
        # actions, Open actions folder, Settings…, Start on login, Pause hotkeys.
        for key in ("Up",) * 8 + ("Return",):
            session.xdotool("key", key)
            time.sleep(0.1)

    toggle_pause("ready")
    assert session.wait_notification("Hotkeys paused.")
    tray_icon_position(session, tmp_path, "paused")
    widget.fill("their is a mistake")
    widget.select_all()
    jobs_before = len(agent.jobs())
    session.press("ctrl+alt+p", 0.3)
    time.sleep(1.0)
    assert len(agent.jobs()) == jobs_before and widget.text() == "their is a mistake"
    toggle_pause("paused")
    assert session.wait_notification("Hotkeys on again.")
    tray_icon_position(session, tmp_path, "ready")
    widget.select_all()  # the tray menu took the keyboard focus
    session.press("ctrl+alt+p", 0.3)
    assert agent.wait_job(jobs_before + 1).outcome == "done"


def test_the_log_holds_timings_but_never_the_selected_text(agent: RunningAgent) -> None:
    log = agent.log()
    assert agent.jobs() and agent.jobs()[0].timings, "no job record with its timings"
    for secret in (TEXT, "Seven cats sat on a wall", "The rain stopped at noon", "their is a error in this sentense",
                   "the person's own clipboard"):
        assert secret not in log
