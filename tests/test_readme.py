"""The README names the hotkeys a newcomer presses: they must be the settings' defaults."""

from __future__ import annotations

import re
from pathlib import Path

from phitray.hotkeys import parse_combo
from phitray.settings import Settings

README = (Path(__file__).resolve().parent.parent / "README.md").read_text(encoding="utf-8")
DEFAULTS = Settings()


def test_the_picker_the_readme_says_to_press_is_the_default() -> None:
    pressed = re.findall(r"press \*\*((?:Ctrl|Alt|Shift|Win)\+[^*]+)\*\*", README)
    assert pressed, "the README says no hotkey to press"
    assert {str(parse_combo(combo.lower())) for combo in pressed} == {str(parse_combo(DEFAULTS.picker_hotkey))}


def test_the_cancel_hotkey_the_readme_names_is_the_default() -> None:
    named = re.findall(r"((?:Ctrl|Alt|Shift)\+[\w+]+)(?: cancels|, the tray's\s+Cancel)", README)
    assert len(named) >= 2, "the README no longer says how to cancel"
    assert {str(parse_combo(combo.lower())) for combo in named} == {str(parse_combo(DEFAULTS.cancel_hotkey))}


def test_the_settings_example_shows_the_default_hotkeys() -> None:
    example = dict(re.findall(r'^(picker|cancel) = "([^"]+)"', README, re.MULTILINE))
    assert example == {"picker": DEFAULTS.picker_hotkey, "cancel": DEFAULTS.cancel_hotkey}
