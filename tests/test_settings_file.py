"""The settings window's writer: a change keeps the person's comments and order, is checked as the
agent checks the file, and a file that is not TOML is never written."""

from __future__ import annotations

import errno
import os
from pathlib import Path

import pytest

from phitray.errors import ConfigError
from phitray.settings import load_settings
from phitray.settings_file import SettingsFileError, change_setting, check_file
from phitray.ui.hotkey_recorder import combo_spelling, key_name

HAND_WRITTEN = """\
# My Phi Tray settings: written by hand.
[engine]
chain = ["openvino-cpu"]   # only the CPU on this laptop
model = "starter"

# The keys I use.
[hotkeys]
cancel = "ctrl+alt+esc"    # never AltGr

[translate]
language = "German"  # to my colleagues
"""


@pytest.fixture
def settings_file(tmp_path: Path) -> Path:
    path = tmp_path / "settings.toml"
    path.write_text(HAND_WRITTEN, encoding="utf-8")
    return path


def test_a_change_keeps_every_comment_and_the_order_and_reads_back_as_the_agent_reads_it(settings_file: Path) -> None:
    loaded = change_setting(settings_file, "hotkeys.picker", "Alt+Ctrl+J")
    change_setting(settings_file, "translate.language", "French")
    change_setting(settings_file, "hotkeys.actions", "ctrl+alt+q", "proofread")
    text = settings_file.read_text(encoding="utf-8")
    for comment in ("# My Phi Tray settings: written by hand.", "# only the CPU on this laptop", "# The keys I use.",
                    "# never AltGr", "# to my colleagues"):
        assert comment in text
    assert text.index("[engine]") < text.index("[hotkeys]") < text.index("[translate]")
    assert 'picker = "ctrl+alt+j"' in text and 'language = "French"  # to my colleagues' in text
    settings = load_settings(settings_file)
    assert settings.problems == ()
    assert (settings.settings.picker_hotkey, settings.settings.translate_language) == ("ctrl+alt+j", "French")
    assert settings.settings.action_hotkeys == {"proofread": "ctrl+alt+q"}
    assert loaded.settings.picker_hotkey == "ctrl+alt+j"


def test_none_removes_a_setting_so_its_default_applies(settings_file: Path) -> None:
    change_setting(settings_file, "translate.language", None)
    assert "language" not in settings_file.read_text(encoding="utf-8")
    assert load_settings(settings_file).settings.translate_language == "English"
    change_setting(settings_file, "hotkeys.actions", None, "not-there")  # nothing to remove is no error


def test_a_value_the_agent_would_refuse_is_named_and_nothing_is_written(settings_file: Path) -> None:
    for name, value, action_id, words in (
        ("hotkeys.picker", "p", "", "no modifier"),
        ("engine.chain", ["warp-drive"], "", "warp-drive"),
        ("review.before_replace", "yes", "", "true or false"),
        ("output.actions", "screen", "proofread", "not one of replace, popup, clipboard"),
        ("hotkeys.actions", "ctrl+alt+p", "Bad Id", "not an action id"),
    ):
        with pytest.raises(ConfigError, match=words):
            change_setting(settings_file, name, value, action_id)
    assert settings_file.read_text(encoding="utf-8") == HAND_WRITTEN


@pytest.mark.parametrize("content", ["[engine\nmodel = 'starter'\n", "picker = ctrl+alt+p\n", b"\xff\xfe[engine]"])
def test_a_file_that_is_not_toml_is_never_written(tmp_path: Path, content: str | bytes) -> None:
    path = tmp_path / "settings.toml"
    path.write_bytes(content if isinstance(content, bytes) else content.encode())
    before = path.read_bytes()
    assert "changes nothing" in check_file(path)
    with pytest.raises(SettingsFileError, match="changes nothing"):
        change_setting(path, "review.before_replace", True)
    assert path.read_bytes() == before
    assert not [p for p in tmp_path.iterdir() if p.name != "settings.toml"], "a temporary file was left"


def test_a_setting_where_the_file_has_no_table_is_refused(tmp_path: Path) -> None:
    path = tmp_path / "settings.toml"
    path.write_text('hotkeys = "ctrl+alt+p"\n', encoding="utf-8")
    with pytest.raises(SettingsFileError, match="not a table"):
        change_setting(path, "hotkeys.picker", "ctrl+alt+j")
    assert path.read_text(encoding="utf-8") == 'hotkeys = "ctrl+alt+p"\n'


def test_the_first_change_makes_the_file(tmp_path: Path) -> None:
    path = tmp_path / "config" / "settings.toml"
    change_setting(path, "hotkeys.actions", "ctrl+alt+q", "proofread")
    change_setting(path, "hotkeys.picker", "ctrl+alt+w")
    settings = load_settings(path)
    assert settings.problems == ()
    assert (settings.settings.picker_hotkey, settings.settings.action_hotkeys) == ("ctrl+alt+w", {"proofread": "ctrl+alt+q"})


def test_a_file_with_a_byte_order_mark_is_changed_and_keeps_its_mark(tmp_path: Path) -> None:
    path = tmp_path / "settings.toml"
    path.write_bytes(b"\xef\xbb\xbf" + HAND_WRITTEN.encode())
    assert check_file(path) == ""
    change_setting(path, "translate.language", "French")
    data = path.read_bytes()
    assert data.startswith(b"\xef\xbb\xbf# My Phi Tray settings") and data.count(b"\xef\xbb\xbf") == 1
    assert load_settings(path).settings.translate_language == "French"


def test_a_write_the_disk_refuses_raises_and_leaves_the_file_as_it_was(
    settings_file: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    def refuse(source: object, destination: object) -> None:
        raise OSError(errno.ENOSPC, "No space left on device")

    monkeypatch.setattr(os, "replace", refuse)
    with pytest.raises(OSError, match="No space left"):
        change_setting(settings_file, "translate.language", "French")
    assert settings_file.read_text(encoding="utf-8") == HAND_WRITTEN
    assert sorted(p.name for p in settings_file.parent.iterdir()) == ["settings.toml"]


def test_a_linked_settings_file_stays_a_link(settings_file: Path, tmp_path: Path) -> None:
    link = tmp_path / "config" / "settings.toml"
    link.parent.mkdir()
    link.symlink_to(settings_file)
    change_setting(link, "translate.language", "French")
    assert link.is_symlink() and load_settings(settings_file).settings.translate_language == "French"


def test_the_recorder_spells_a_pressed_combo_as_settings_toml_does() -> None:
    assert combo_spelling({"alt", "ctrl"}, "J") == "ctrl+alt+j"
    assert combo_spelling({"ctrl", "shift"}, "exclam") == "ctrl+shift+1"  # the key, not Shift's character
    assert combo_spelling({"super"}, "F5") == "super+f5"
    assert combo_spelling({"ctrl"}, "Control_L") == ""  # only a modifier so far
    assert combo_spelling(set(), "space") == "space"  # refused later, with the reason
    assert (key_name("Prior"), key_name("slash"), key_name("eacute")) == ("page_up", "/", "")
    # Windows with an AltGr layout: Ctrl+Alt+Z comes as the character it types; the virtual key names Z.
    assert combo_spelling({"ctrl", "alt"}, "zabovedot", virtual_key=0x5A) == "ctrl+alt+z"
    assert combo_spelling({"ctrl"}, "F13", virtual_key=0x7C) == "ctrl+f13"
