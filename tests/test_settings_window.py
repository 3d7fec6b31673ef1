"""The settings window of the running agent on the X11 desktop, driven as a person drives it: with the
keyboard alone.

`phitray settings` asks the running agent to open its window; the window takes
the keyboard itself (no test tool moves the focus) and every key after that is
a key press. What the window did (opened, checked a combo or an action, saved)
the tests learn from the milestones it writes to the log.
"""

from __future__ import annotations

import time
from collections.abc import Iterator
from pathlib import Path

import pytest

from phitray.paths import Paths
from phitray.settings import load_settings

from helpers.agent import RunningAgent, start_agent
from helpers.desktop import DesktopSession, TextWidget, popup_window, tray_icon_position, wait_gone
from helpers.settings_window import keys, wait_focused

pytestmark = pytest.mark.slow

SETTINGS = """\
# Written by hand: the starter model only.
[engine]
chain = ["openvino-cpu"]   # this machine has no NPU
model = "starter"
allow_pull = false

# Proofread on its own key.
[hotkeys.actions]
proofread = "ctrl+alt+p"   # p for proofread
"""


@pytest.fixture(scope="module")
def agent(session: DesktopSession, agent_paths: Paths) -> Iterator[RunningAgent]:
    running = start_agent(session, agent_paths, SETTINGS)
    yield running
    assert running.stop() == 0, running.output()


def open_settings(session: DesktopSession, agent: RunningAgent) -> str:
    """`phitray settings` while the agent runs: the agent's own window opens, with the keyboard."""
    opened = len(agent.milestones("window-opened", window="settings"))
    result = agent.command("settings")
    assert result.returncode == 0 and "opens its settings window" in result.stdout, result.stdout
    assert agent.wait_milestone("window-opened", 10, count=opened + 1, window="settings")["live"] is True
    window = popup_window(session, "Settings")
    wait_focused(session, window)
    return window


def test_a_picker_hotkey_recorded_in_the_window_works_at_once_and_the_comments_stay(
    session: DesktopSession, agent: RunningAgent, widget: TextWidget
) -> None:
    window = open_settings(session, agent)
    keys(session, "Tab", "Return")  # the tab row, then the picker's hotkey: Enter records
    session.press("ctrl+alt+j", 0.2)
    checked = agent.wait_milestone("hotkey-checked", 10, slot="hotkeys.picker", combo="ctrl+alt+j")
    assert checked["ok"] is True and checked["shown"] == "Works now.", checked
    keys(session, "Escape")  # closes the window
    wait_gone(session, window)
    text = agent.paths.settings_file.read_text(encoding="utf-8")
    assert load_settings(agent.paths.settings_file).settings.picker_hotkey == "ctrl+alt+j"
    for kept in ("# Written by hand: the starter model only.", "# this machine has no NPU",
                 "# Proofread on its own key.", "# p for proofread"):
        assert kept in text, f"{kept!r} was lost:\n{text}"
    # No restart: the new combo opens the picker on the selection at once.
    widget.fill("The new hotkey works.")
    widget.select_all()
    record = agent.job_after(lambda: session.press("ctrl+alt+j", 0.2))
    assert (record.kind, record.source, record.outcome) == ("capture", "hotkey", "done"), agent.log()[-2000:]
    picker = popup_window(session, "pick an action")
    keys(session, "Escape")  # the picker has the keyboard
    wait_gone(session, picker)
    assert widget.text() == "The new hotkey works."


def test_a_combo_another_action_has_is_refused_with_the_reason(session: DesktopSession, agent: RunningAgent) -> None:
    before = agent.paths.settings_file.read_bytes()
    window = open_settings(session, agent)
    keys(session, "Tab", "Return")
    session.press("ctrl+alt+p", 0.2)  # proofread's
    checked = agent.wait_milestone("hotkey-checked", 10, slot="hotkeys.picker", combo="ctrl+alt+p")
    assert checked["ok"] is False and "Proofread" in str(checked["shown"]), checked
    keys(session, "Tab", "Return")  # cancel's hotkey: a combo with no modifier
    session.press("k")
    checked = agent.wait_milestone("hotkey-checked", 10, slot="hotkeys.cancel", combo="k")
    assert checked["ok"] is False and "modifier" in str(checked["shown"]), checked
    keys(session, "Escape")
    wait_gone(session, window)
    assert agent.paths.settings_file.read_bytes() == before


def test_a_new_action_made_in_the_editor_is_checked_as_typed_saved_and_tried(
    session: DesktopSession, agent: RunningAgent
) -> None:
    window = open_settings(session, agent)
    checks = len(agent.milestones("action-checked"))
    keys(session, "alt+a", "Tab", "Tab", "Tab", "Return")  # Actions tab: the list, the output, New action…
    opened = agent.wait_milestone("action-checked", 10, count=checks + 1)  # the editor checks its empty fields
    assert (opened["id"], opened["ok"], opened["field"]) == ("", False, "id"), opened
    editor = popup_window(session, "new action")
    wait_focused(session, editor)
    session.xdotool("type", "--delay", "40", "Shout!")  # the editor has the keyboard, on Id
    agent.wait_milestone("action-checked", 10, id="Shout!", ok=False, field="id")
    keys(session, *["BackSpace"] * 6)
    session.xdotool("type", "--delay", "40", "shout")
    agent.wait_milestone("action-checked", 10, id="shout", ok=False, field="title")
    keys(session, "Tab")
    session.xdotool("type", "--delay", "40", "Shout")
    agent.wait_milestone("action-checked", 10, id="shout", ok=True)
    # Output, hotkey, system prompt, prompt, sample text, Try, then Save.
    keys(session, "Tab", "Tab", "Tab", "Tab", "Tab", "Tab", "Tab", "Return")
    saved = agent.paths.user_actions_dir / "shout.toml"
    agent.wait_milestone("action-saved", 10, id="shout")
    assert saved.is_file()
    check = agent.command("actions", "check")
    assert check.returncode == 0, check.stdout
    assert "shout" in agent.command("actions", "list").stdout
    keys(session, "shift+Tab")  # back to Try
    record = agent.job_after(lambda: keys(session, "Return"))
    assert (record.action_id, record.source, record.output, record.outcome) == ("shout", "settings", "popup", "done"), \
        agent.log()[-2000:]
    popup = popup_window(session, "Shout")
    keys(session, "Escape")  # the popup has the keyboard
    wait_gone(session, popup)
    # Settings again: the open window comes back with the keyboard, and Esc closes it with its editor.
    assert agent.command("settings").returncode == 0
    wait_focused(session, window)
    keys(session, "Escape")
    wait_gone(session, window)
    assert not session.run("xdotool", "search", "--onlyvisible", "--name", "new action", check=False).strip()


def test_logging_of_text_switched_on_in_the_window_applies_to_the_next_job(
    session: DesktopSession, agent: RunningAgent, widget: TextWidget
) -> None:
    marker = "Plesae chek this sentense xq17."
    window = open_settings(session, agent)
    # General: the language, start on login, review before replacing, keeping results, then logging of text.
    keys(session, "alt+g", *["Tab"] * 5, "space")
    agent.wait_milestone("settings-saved", 10, key="log.include_text")
    keys(session, "Escape")
    wait_gone(session, window)
    assert load_settings(agent.paths.settings_file).settings.log_text
    session.set_clipboard("the person's own clipboard")
    widget.fill(marker)
    widget.select_all()
    record = agent.job_after(lambda: session.press("ctrl+alt+p", 0.2))
    assert record.action_id == "proofread"
    assert f"job {record.number} input: {marker!r}" in agent.log(), agent.log()[-2000:]


def test_a_backend_added_to_the_chain_in_the_model_tab_reloads_the_model_without_a_restart(
    session: DesktopSession, agent: RunningAgent
) -> None:
    loads = len(agent.milestones("model-ready"))
    window = open_settings(session, agent)
    # Model: the chain's list (openvino-cpu first, then the backends not used), the second row, and
    # past Move up and Move down to "Use / don't use".
    keys(session, "alt+m", "Tab", "Down", "Tab", "Tab", "Tab", "Return")
    agent.wait_milestone("settings-saved", 10, key="engine.chain")
    assert load_settings(agent.paths.settings_file).settings.chain == ("openvino-cpu", "openvino-npu")
    agent.wait_milestone("model-ready", 90, count=loads + 1)  # the host was started again on the new chain
    keys(session, "Escape")
    wait_gone(session, window)
    assert "# this machine has no NPU" in agent.paths.settings_file.read_text(encoding="utf-8")


def test_a_download_from_the_running_agents_window_runs_in_a_process_of_its_own(
    session: DesktopSession, agent: RunningAgent
) -> None:
    window = open_settings(session, agent)
    # Model: past the chain's list and its three buttons, the installed models and their two buttons,
    # to the catalog (its first row chosen) and Download. This agent's hub cannot be reached.
    keys(session, "alt+m", *["Tab"] * 9, "Return")
    ended = agent.wait_milestone("download-ended", 30, model_id="phi-3-mini-4k-instruct", backend_id="openvino-npu",
                                 by="settings")
    assert ended["outcome"] == "offline", agent.log()[-2000:]
    keys(session, "Escape")
    wait_gone(session, window)


def test_the_trays_settings_item_opens_the_window_with_the_keyboard(
    session: DesktopSession, agent: RunningAgent, tmp_path: Path
) -> None:
    opened = len(agent.milestones("window-opened", window="settings"))
    x, y = tray_icon_position(session, tmp_path)
    session.xdotool("mousemove", str(x), str(y), "click", "3")  # a person clicks the icon: its menu opens
    time.sleep(0.8)
    # From the bottom: Quit, About this PC…, Open log, Reload actions, Open actions folder, Settings….
    keys(session, *["Up"] * 6, "Return")
    agent.wait_milestone("window-opened", 10, count=opened + 1, window="settings", live=True)
    window = popup_window(session, "Settings")
    wait_focused(session, window)
    keys(session, "Escape")
    wait_gone(session, window)


