"""The settings window on the X11 desktop, driven as a person drives it: with the keyboard alone.

`phitray settings` asks the running agent to open its window; the window takes
the keyboard itself (no test tool moves the focus) and every key after that is
a key press. What the window did (opened, checked a combo or an action, saved)
the tests learn from the milestones it writes to the log.
"""

from __future__ import annotations

import errno
import shutil
import subprocess
import sys
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import replace
from pathlib import Path

import pytest

from phitray.paths import Paths
from phitray.settings import load_settings

from helpers.agent import STARTER_SETTINGS, RunningAgent, start_agent
from helpers.agentlog import AgentLog
from helpers.desktop import DesktopSession, TextWidget, popup_window, tray_icon_position, wait_gone
from helpers.env import environment_for

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


def keys(session: DesktopSession, *names: str) -> None:
    """Key presses into whatever has the focus, a little apart, as a person types."""
    for name in names:
        session.xdotool("key", name)
        time.sleep(0.15)


def wait_focused(session: DesktopSession, window: str, timeout: float = 10) -> None:
    """Until the window manager says `window` is the active one: the window took the focus itself."""
    deadline = time.monotonic() + timeout
    while session.run("xdotool", "getactivewindow", check=False).strip() != window:
        assert time.monotonic() < deadline, "the window did not take the keyboard focus"
        time.sleep(0.05)
    time.sleep(0.4)  # Tk gives its widget the focus right after the window manager's


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


def test_a_settings_file_that_is_not_toml_is_left_untouched_with_a_message(
    session: DesktopSession, paths: Paths, tmp_path: Path
) -> None:
    paths.config_dir.mkdir(parents=True)
    broken = b"[hotkeys\npicker = ctrl+alt+j   # no quotes, no closing bracket\n"
    paths.settings_file.write_bytes(broken)
    with own_settings_window(session, paths, tmp_path) as (command, window):
        keys(session, "Tab", "Return")  # the picker's hotkey is disabled: nothing records
        session.press("ctrl+alt+k", 0.2)
        keys(session, "alt+g", "Tab", "space")  # General: review before replacing, disabled too
        keys(session, "Escape")
        assert command.process.wait(timeout=20) == 0
    said = (tmp_path / "settings.out").read_text()
    assert "is not valid TOML" in said and "changes nothing" in said, said
    assert paths.settings_file.read_bytes() == broken
    assert sorted(p.name for p in paths.config_dir.iterdir()) == ["settings.toml"]


def test_try_with_no_agent_running_runs_the_unsaved_action_in_a_process_of_its_own(
    session: DesktopSession, shared_paths: Paths, tmp_path: Path
) -> None:
    paths = replace(shared_paths, config_dir=tmp_path / "config", cache_dir=tmp_path / "cache", log_dir=tmp_path / "log")
    paths.config_dir.mkdir(parents=True)
    paths.settings_file.write_text(STARTER_SETTINGS, encoding="utf-8")
    with own_settings_window(session, paths, tmp_path) as (command, window):
        keys(session, "alt+a", "Tab", "Tab", "Tab", "Return")  # Actions: New action…
        editor = popup_window(session, "new action")
        wait_focused(session, editor)
        session.xdotool("type", "--delay", "40", "shout")
        keys(session, "Tab")
        session.xdotool("type", "--delay", "40", "Shout")
        keys(session, "Tab", "Tab", "Tab", "Tab", "Tab", "Tab", "Return")  # past output … sample text, to Try
        popup = popup_window(session, "Shout", timeout=30)
        ended = command.wait_milestone("try-ended", 90)
        assert ended["exit"] in (0, 3) and ended["answer_chars"] != 0, ended
        keys(session, "Escape")  # the popup took the keyboard
        wait_gone(session, popup)
        assert not (paths.user_actions_dir / "shout.toml").exists(), "Try saved the action"


def test_remove_asks_first_no_keeps_the_model_and_yes_removes_it(
    session: DesktopSession, shared_paths: Paths, paths: Paths, tmp_path: Path
) -> None:
    paths.config_dir.mkdir(parents=True)
    shutil.copytree(shared_paths.models_dir / "tiny-phi3", paths.models_dir / "tiny-phi3")
    with own_settings_window(session, paths, tmp_path) as (command, window):
        # Model: the chain's list, Move up, Move down, Use / don't use, the installed models, Use this model,
        # Remove…; the question's default is No.
        keys(session, "alt+m", *["Tab"] * 7, "Return")
        question = _dialog(session, "Remove model")
        wait_focused(session, question)
        keys(session, "Return")
        time.sleep(1)
        assert (paths.models_dir / "tiny-phi3").is_dir(), "No removed the model"
        wait_focused(session, window)  # the question gave the keyboard back to the window
        keys(session, "Return")  # Remove… still has the focus
        question = _dialog(session, "Remove model")
        wait_focused(session, question)
        keys(session, "Tab", "Return")  # Yes
        deadline = time.monotonic() + 10
        while (paths.models_dir / "tiny-phi3").exists():
            assert time.monotonic() < deadline, "Yes did not remove the model"
            time.sleep(0.1)
        command.wait_milestone("model-removed", 10, model_id="tiny-phi3")


def test_delete_asks_first_and_takes_the_action_with_its_settings(
    session: DesktopSession, paths: Paths, tmp_path: Path
) -> None:
    paths.user_actions_dir.mkdir(parents=True)
    mine = paths.user_actions_dir / "shout.toml"
    # Ordered first, so the list starts on it.
    mine.write_text('id = "shout"\ntitle = "Shout"\norder = 1\nprompt = "Say $text loudly."\n', encoding="utf-8")
    paths.settings_file.write_text('# mine\n[hotkeys.actions]\nshout = "ctrl+alt+y"\n\n[output.actions]\n'
                                   'shout = "popup"\nsummarize = "clipboard"\n', encoding="utf-8")
    with own_settings_window(session, paths, tmp_path) as (command, window):
        # Actions: the list (on Shout), the output, New action…, Edit…, Delete…; the question's default is No.
        keys(session, "alt+a", *["Tab"] * 5, "Return")
        question = _dialog(session, "Delete action")
        wait_focused(session, question)
        keys(session, "Return")
        time.sleep(1)
        assert mine.is_file(), "No deleted the action"
        wait_focused(session, window)
        keys(session, "Return")  # Delete… still has the focus
        question = _dialog(session, "Delete action")
        wait_focused(session, question)
        keys(session, "Tab", "Return")  # Yes
        command.wait_milestone("action-deleted", 10, id="shout")
        assert not mine.exists()
        kept = paths.settings_file.read_text(encoding="utf-8")
        assert "shout" not in kept and kept.startswith("# mine") and 'summarize = "clipboard"' in kept, kept


def test_a_settings_file_the_disk_will_not_replace_is_a_failed_save_and_the_box_goes_back(
    session: DesktopSession, paths: Paths, tmp_path: Path
) -> None:
    paths.config_dir.mkdir(parents=True)
    written = b"# mine\n[review]\nbefore_replace = false   # ask me later\n"
    paths.settings_file.write_bytes(written)
    # Immutable: the file can be read, a file beside it made, but the move over it is refused, as Windows refuses
    # it while another program holds the file.
    with protected(paths.settings_file), own_settings_window(session, paths, tmp_path) as (command, window):
        keys(session, "alt+g", "Tab", "Tab", "Tab", "space")  # General: language, start on login, review
        failed = command.wait_milestone("settings-not-saved", 10, key="review.before_replace")
        assert "could not be written (Operation not permitted)" in str(failed["problem"]), failed
        assert paths.settings_file.read_bytes() == written
        assert sorted(p.name for p in paths.config_dir.iterdir()) == ["settings.toml"], "a temporary file was left"
        subprocess.run(["chattr", "-i", str(paths.settings_file)], check=True)
        # The box shows the saved value again, so the next press turns review on.
        keys(session, "space")
        command.wait_milestone("settings-saved", 10, key="review.before_replace")
        assert load_settings(paths.settings_file).settings.review_before_replace is True
        assert "# ask me later" in paths.settings_file.read_text(encoding="utf-8")
        keys(session, "Escape")
        assert command.process.wait(timeout=20) == 0
    assert "Traceback" not in command.output(), command.output()


def test_a_new_action_whose_file_exists_is_refused_and_the_file_is_kept(
    session: DesktopSession, paths: Paths, tmp_path: Path
) -> None:
    paths.user_actions_dir.mkdir(parents=True)
    theirs = {"bar.toml": b'id = "foo"\ntitle = "Foo"\nprompt = "Say $text."\n',  # a file named unlike its id
              "half.toml": b'id = "half"\ntitle = "Half\nprompt = "$text"\n'}  # a half-edited file that fails to load
    for name, content in theirs.items():
        (paths.user_actions_dir / name).write_bytes(content)
    with own_settings_window(session, paths, tmp_path) as (command, window):
        keys(session, "alt+a", "Tab", "Tab", "Tab", "Return")  # Actions: New action…
        editor = popup_window(session, "new action")
        wait_focused(session, editor)
        session.xdotool("type", "--delay", "40", "bar")
        keys(session, "Tab")
        session.xdotool("type", "--delay", "40", "Bar")
        refused = command.wait_milestone("action-checked", 10, id="bar", field="id")
        assert refused["ok"] is False and "bar.toml holds your action 'foo'" in str(refused["problem"]), refused
        keys(session, "shift+Tab", "BackSpace", "BackSpace", "BackSpace")
        session.xdotool("type", "--delay", "40", "half")
        refused = command.wait_milestone("action-checked", 10, id="half", field="id")
        assert refused["ok"] is False and "half.toml is a file of yours that does not load" in str(refused["problem"])
        keys(session, *["Tab"] * 8, "Return")  # to Save, which is off: nothing happens
        time.sleep(1)
        keys(session, "Escape")
    assert not command.milestones("action-saved")
    assert {name: (paths.user_actions_dir / name).read_bytes() for name in theirs} == theirs
    assert sorted(p.name for p in paths.user_actions_dir.iterdir()) == sorted(theirs)


SHOUT = 'id = "shout"\ntitle = "Shout"\norder = 1\nprompt = "Say $text loudly."\n'


def test_an_action_file_changed_by_hand_while_the_editor_was_open_is_overwritten_only_when_asked(
    session: DesktopSession, paths: Paths, tmp_path: Path
) -> None:
    paths.user_actions_dir.mkdir(parents=True)
    mine = paths.user_actions_dir / "shout.toml"
    mine.write_text(SHOUT, encoding="utf-8")
    with own_settings_window(session, paths, tmp_path) as (command, window):
        keys(session, "alt+a", "Tab", "Tab", "Tab", "Tab", "Return")  # Actions: the list (on Shout) … Edit…
        editor = popup_window(session, "edit action shout")
        wait_focused(session, editor)
        by_hand = SHOUT + "# tried a new prompt in my text editor\n"
        mine.write_text(by_hand, encoding="utf-8")
        session.xdotool("type", "--delay", "40", "!")  # the title, where the editor opens
        keys(session, *["Tab"] * 7, "Return")  # output, hotkey, system, prompt, sample, Try, Save
        question = _dialog(session, "Action file changed")
        wait_focused(session, question)
        keys(session, "Return")  # No, the default
        kept = command.wait_milestone("action-not-saved", 10, id="shout")
        assert "keeps those changes" in str(kept["problem"]), kept
        assert mine.read_text(encoding="utf-8") == by_hand
        wait_focused(session, editor)
        keys(session, "Return")  # Save still has the focus
        question = _dialog(session, "Action file changed")
        wait_focused(session, question)
        keys(session, "Tab", "Return")  # Yes
        command.wait_milestone("action-saved", 10, id="shout")
        assert 'title = "Shout!"' in mine.read_text(encoding="utf-8")
        # Saved by the editor itself, the file is the editor's again: the next Save asks nothing.
        keys(session, "Return")
        command.wait_milestone("action-saved", 10, count=2, id="shout")
        keys(session, "Escape")
    assert len(command.milestones("action-not-saved")) == 1


def test_an_action_saved_on_a_full_disk_is_a_failed_save_and_the_old_file_stays_whole(
    session: DesktopSession, paths: Paths, tmp_path: Path
) -> None:
    paths.config_dir.mkdir(parents=True)
    with small_disk(paths.config_dir):
        paths.user_actions_dir.mkdir()
        mine = paths.user_actions_dir / "shout.toml"
        # Just under one 4 KiB page, so the longer title needs a second one: a file truncated in place would
        # free its page, take it again and be cut short at 4,096 bytes.
        original = (SHOUT + "# " + "-" * (4080 - len(SHOUT) - 3) + "\n").encode()
        mine.write_bytes(original)
        fill(paths.config_dir)
        with own_settings_window(session, paths, tmp_path) as (command, window):
            keys(session, "alt+a", "Tab", "Tab", "Tab", "Tab", "Return")  # Edit…
            editor = popup_window(session, "edit action shout")
            wait_focused(session, editor)
            session.xdotool("type", "--delay", "20", " as loud as you can, in capitals")
            keys(session, *["Tab"] * 7, "Return")  # Save
            failed = command.wait_milestone("action-not-saved", 10, id="shout")
            assert "No space left on device" in str(failed["problem"]) and "it is as it was" in str(failed["problem"])
            assert mine.read_bytes() == original
            assert sorted(p.name for p in paths.user_actions_dir.iterdir()) == ["shout.toml"]
            keys(session, "Escape")


@contextmanager
def protected(path: Path) -> Iterator[None]:
    """`path` immutable (chattr +i: root, and a file system that has the flag) for the block."""
    made = subprocess.run(["chattr", "+i", str(path)], capture_output=True, text=True)
    if made.returncode != 0:
        pytest.skip(f"cannot make a file immutable here: {made.stderr.strip()}")
    try:
        yield
    finally:
        subprocess.run(["chattr", "-i", str(path)], capture_output=True)


@contextmanager
def small_disk(folder: Path) -> Iterator[None]:
    """A 64 KiB file system of its own at `folder` (a tmpfs: root) for the block."""
    mounted = subprocess.run(["mount", "-t", "tmpfs", "-o", "size=64k", "tmpfs", str(folder)], capture_output=True,
                             text=True)
    if mounted.returncode != 0:
        pytest.skip(f"cannot mount a small tmpfs here: {mounted.stderr.strip()}")
    try:
        yield
    finally:
        subprocess.run(["umount", "-l", str(folder)], check=True)


def fill(folder: Path) -> None:
    with open(folder / ".filler", "wb", buffering=0) as out:
        try:
            while True:
                out.write(b"\0" * 4096)
        except OSError as error:
            assert error.errno == errno.ENOSPC


class SettingsCommand(AgentLog):
    """`phitray settings` with no agent running: its process, and the log it writes as the agent would."""

    def __init__(self, process: subprocess.Popen[bytes], paths: Paths, out: Path) -> None:
        self.process, self.paths, self.out = process, paths, out

    @property
    def log_file(self) -> Path:
        return self.paths.log_file

    def output(self) -> str:
        return self.out.read_text(encoding="utf-8", errors="replace")


@contextmanager
def own_settings_window(session: DesktopSession, paths: Paths, tmp_path: Path) -> Iterator[tuple[SettingsCommand, str]]:
    """`phitray settings` with no agent running for `paths`: a window of its own that only writes the files.
    Yields the command and its window once the window has the keyboard; what it prints goes to settings.out."""
    (tmp_path / "runtime").mkdir(mode=0o700)
    env = environment_for(paths, DISPLAY=session.display, XDG_RUNTIME_DIR=str(tmp_path / "runtime"),
                          XDG_CONFIG_HOME=str(tmp_path / "xdg-config"))
    with open(tmp_path / "settings.out", "w") as out:
        command = subprocess.Popen([sys.executable, "-m", "phitray", "settings"], env=env, stdin=subprocess.DEVNULL,
                                   stdout=out, stderr=subprocess.STDOUT)
    try:
        window = popup_window(session, "Settings", timeout=30)
        wait_focused(session, window)
        yield SettingsCommand(command, paths, tmp_path / "settings.out"), window
    finally:
        if command.poll() is None:
            command.terminate()
            command.wait(timeout=10)


def _dialog(session: DesktopSession, title: str, timeout: float = 10) -> str:
    deadline = time.monotonic() + timeout
    while not (found := session.run("xdotool", "search", "--onlyvisible", "--name", f"^{title}$", check=False).split()):
        assert time.monotonic() < deadline, f"no {title!r} dialog"
        time.sleep(0.05)
    return found[-1]

