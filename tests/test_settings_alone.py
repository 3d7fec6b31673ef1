"""The settings window with no agent running (`phitray settings` in a process of its own, which only writes
the files), driven with the keyboard alone: files it must not break, questions it asks first, and disks that
refuse a save.
"""

from __future__ import annotations

import shutil
import subprocess
import time
from dataclasses import replace
from pathlib import Path

import pytest

from phitray.paths import Paths
from phitray.settings import load_settings

from helpers.agent import STARTER_SETTINGS
from helpers.desktop import DesktopSession, popup_window, wait_gone
from helpers.disks import fill, protected, small_disk
from helpers.settings_window import dialog, keys, own_settings_window, wait_focused

pytestmark = pytest.mark.slow


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
        question = dialog(session, "Remove model")
        wait_focused(session, question)
        keys(session, "Return")
        time.sleep(1)
        assert (paths.models_dir / "tiny-phi3").is_dir(), "No removed the model"
        wait_focused(session, window)  # the question gave the keyboard back to the window
        keys(session, "Return")  # Remove… still has the focus
        question = dialog(session, "Remove model")
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
        question = dialog(session, "Delete action")
        wait_focused(session, question)
        keys(session, "Return")
        time.sleep(1)
        assert mine.is_file(), "No deleted the action"
        wait_focused(session, window)
        keys(session, "Return")  # Delete… still has the focus
        question = dialog(session, "Delete action")
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
        question = dialog(session, "Action file changed")
        wait_focused(session, question)
        keys(session, "Return")  # No, the default
        kept = command.wait_milestone("action-not-saved", 10, id="shout")
        assert "keeps those changes" in str(kept["problem"]), kept
        assert mine.read_text(encoding="utf-8") == by_hand
        wait_focused(session, editor)
        keys(session, "Return")  # Save still has the focus
        question = dialog(session, "Action file changed")
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
