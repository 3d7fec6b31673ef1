"""The settings file: every field optional, a bad field keeps its default, nothing raises."""

from __future__ import annotations

from pathlib import Path

from phitray.backends.registry import DEFAULT_CHAIN
from phitray.hotkeys import bind_all, parse_combo
from phitray.errors import HotkeyError
from phitray.settings import Settings, load_settings, parse_settings

import pytest


def write(tmp_path: Path, text: str | bytes) -> Path:
    path = tmp_path / "settings.toml"
    path.write_bytes(text if isinstance(text, bytes) else text.encode())
    return path


def test_no_file_means_the_defaults_and_no_problem(tmp_path: Path) -> None:
    loaded = load_settings(tmp_path / "missing.toml")
    assert loaded.settings == Settings() and loaded.problems == ()
    assert loaded.settings.picker_hotkey == "ctrl+alt+space"  # not ctrl+space: the CJK input toggle


def test_good_fields_are_read_and_normalised(tmp_path: Path) -> None:
    loaded = load_settings(write(tmp_path, """
[hotkeys]
picker = "Alt+Ctrl+K"
[hotkeys.actions]
proofread = "ctrl+alt+p"
summarize = ""
[engine]
chain = ["openvino-cpu", "onnx-cpu"]
model = "starter"
[output.actions]
summarize = "clipboard"
[capture]
timeout_ms = 900
use_primary = true
[translate]
language = "German"
"""))
    s = loaded.settings
    assert loaded.problems == ()
    assert s.picker_hotkey == "ctrl+alt+k"
    assert s.action_hotkeys == {"proofread": "ctrl+alt+p", "summarize": ""}
    assert s.chain == ("openvino-cpu", "onnx-cpu") and s.model_id == "starter"
    assert s.action_outputs == {"summarize": "clipboard"}
    assert (s.capture_timeout_ms, s.use_primary, s.translate_language) == (900, True, "German")


def test_each_bad_field_is_named_and_keeps_its_default_while_the_rest_apply(tmp_path: Path) -> None:
    path = write(tmp_path, """
[hotkeys]
picker = "ctrl+space+space+x"
cancel = "ctrl+alt+q"
[engine]
chain = ["warp-drive"]
max_characters = "lots"
[capture]
timeout_ms = 5
mystery = 1
[output.actions]
proofread = "screen"
[log]
level = "loud"
""")
    loaded = load_settings(path)
    s = loaded.settings
    messages = [str(p) for p in loaded.problems]
    assert len(messages) == 7, messages
    assert all(m.startswith(str(path)) for m in messages)
    assert any("hotkeys.picker" in m and "using the default 'ctrl+alt+space'" in m for m in messages)
    assert any("engine.chain" in m and "warp-drive" in m for m in messages)
    assert any("engine.max_characters" in m and "positive whole number" in m for m in messages)
    assert any("capture.timeout_ms" in m and "5 is not between 50 and 10000" in m for m in messages)
    assert any("capture.mystery: unknown setting" in m for m in messages)
    assert any("output.actions" in m and "'screen' is not one of replace, popup, clipboard" in m for m in messages)
    assert any("log.level" in m for m in messages)
    assert s.cancel_hotkey == "ctrl+alt+q"  # the good field in the same section applies
    assert (s.picker_hotkey, s.chain, s.capture_timeout_ms, s.log_level) == ("ctrl+alt+space", DEFAULT_CHAIN, 600, "info")


@pytest.mark.parametrize("content, fragment", [
    ("[engine\nmodel = 1", "not valid TOML"),
    (b"\xff\xfe[engine]", "not UTF-8"),
    ("engine = 3", "must be a [engine] table"),
])
def test_a_broken_file_is_one_message_and_all_defaults(tmp_path: Path, content: str | bytes, fragment: str) -> None:
    loaded = load_settings(write(tmp_path, content))
    assert loaded.settings == Settings(source=loaded.settings.source)
    assert len(loaded.problems) == 1 and fragment in str(loaded.problems[0])


def test_a_file_saved_with_a_byte_order_mark_is_read_like_any_other(tmp_path: Path) -> None:
    loaded = load_settings(write(tmp_path, '\ufeff# saved by Notepad\n[translate]\nlanguage = "German"\n'.encode()))
    assert loaded.problems == ()
    assert loaded.settings.translate_language == "German"


@pytest.mark.parametrize("spelling, canonical", [
    ("ctrl+alt+space", "ctrl+alt+space"),
    ("Alt + Control + P", "ctrl+alt+p"),
    ("win+shift+Return", "shift+super+enter"),
    ("cmd+option+escape", "alt+super+esc"),
    ("F9", "f9"),
    ("ctrl+alt+/", "ctrl+alt+/"),
])
def test_combos_have_one_spelling(spelling: str, canonical: str) -> None:
    assert str(parse_combo(spelling)) == canonical


@pytest.mark.parametrize("spelling, reason", [
    ("p", "no modifier"),
    ("shift+a", "capitals"),
    ("ctrl+alt", "only modifiers"),
    ("ctrl+hyper+x", "not a modifier"),
    ("ctrl+alt+ß", "not a key"),
    ("ctrl+c", "belongs to every application"),
    ("", "not a hotkey"),
])
def test_unusable_combos_say_why(spelling: str, reason: str) -> None:
    with pytest.raises(HotkeyError, match=reason):
        parse_combo(spelling)


def test_a_combo_taken_twice_names_both_and_the_fixed_hotkeys_win() -> None:
    bindings, problems = bind_all(
        {"picker": ("ctrl+alt+space", "settings.toml [hotkeys] picker"), "cancel": ("ctrl+alt+x", "settings.toml [hotkeys] cancel")},
        {"proofread": ("Alt+Ctrl+Space", "proofread.toml"), "summarize": ("ctrl+alt+s", "mine.toml"),
         "zeta": ("ctrl+alt+s", "zeta.toml"), "broken": ("ctrl+", "broken.toml")},
    )
    assert {str(c): b.action_id or b.kind for c, b in bindings.items()} == {
        "ctrl+alt+space": "picker", "ctrl+alt+x": "cancel", "ctrl+alt+s": "summarize"}
    messages = [str(p) for p in problems]
    assert any("proofread.toml: ctrl+alt+space is already the picker hotkey (settings.toml [hotkeys] picker)" in m for m in messages)
    assert any("zeta.toml: ctrl+alt+s is already action summarize (mine.toml); action zeta gets no hotkey" in m for m in messages)
    assert any(m.startswith("broken.toml") for m in messages)


def test_run_flags_for_the_log_outlast_a_change_of_the_settings() -> None:
    """`run --log-text` keeps the texts logged when the window saves a file without include_text, and
    switching include_text off in the file lowers the level again unless `--debug` holds it."""
    from phitray.logs import LogFlags

    plain = Settings()
    asked = parse_settings({"log": {"include_text": True, "level": "warning"}}, "settings.toml").settings
    assert LogFlags(log_text=True).settings(plain).log_text and LogFlags(log_text=True).level(plain) == "debug"
    assert LogFlags().settings(asked).log_text and LogFlags().level(asked) == "debug"
    assert not LogFlags().settings(plain).log_text and LogFlags().level(plain) == plain.log_level == "info"
    assert LogFlags(debug=True).level(plain) == "debug" and not LogFlags(debug=True).settings(plain).log_text
