"""The Hotkeys tab's decisions in a real Tk on the test desktop, against a host that stands for the
running agent: a combo the desktop refuses (another program holds it; on Windows, one that types a
character on the layout) is named and the old combo put back, in the file and in the agent.

A person cannot press such a combo into the window on X11 or Windows (the program holding it takes the
key first), so this calls the tab's handler with the combo the recorder would have spelt."""

from __future__ import annotations

import tkinter
from collections.abc import Iterator
from pathlib import Path

import pytest

from phitray.actions.model import Action
from phitray.paths import Paths
from phitray.settings import Settings, load_settings
from phitray.ui.settings_hotkeys import HotkeysSection, Slot
from phitray.ui.settings_window import SettingsWindow
from phitray.ui.uiqueue import UiQueue

from helpers.desktop import DesktopSession

SETTINGS = '# mine\n[hotkeys]\npicker = "ctrl+alt+space"  # the default, written out\n'


class RefusingAgent:
    """Binds what it is given, except the combos another program holds; keeps what it was given."""

    def __init__(self, taken: dict[str, str]) -> None:
        self.taken = taken
        self.applied: list[Settings] = []
        self.held: list[bool] = []

    @property
    def live(self) -> bool:
        return True

    def apply_settings(self, settings: Settings) -> list[str]:
        self.applied.append(settings)
        combos = [settings.picker_hotkey, settings.cancel_hotkey, *settings.action_hotkeys.values()]
        return [f"{combo} {self.taken[combo]}" for combo in combos if combo in self.taken]

    def hold_hotkeys(self, held: bool) -> None:
        self.held.append(held)

    def actions_changed(self) -> None:
        pass

    def try_action(self, action: Action, text: str) -> str:
        return ""

    def model_status(self) -> str:
        return "ready"


@pytest.fixture
def tab(session: DesktopSession, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[tuple[HotkeysSection, RefusingAgent, Paths]]:
    monkeypatch.setenv("DISPLAY", session.display)
    paths = Paths(config_dir=tmp_path / "config", data_dir=tmp_path / "data", cache_dir=tmp_path / "cache",
                  log_dir=tmp_path / "log")
    paths.config_dir.mkdir()
    paths.settings_file.write_text(SETTINGS, encoding="utf-8")
    agent = RefusingAgent({"ctrl+alt+h": "is already taken by another program",
                           "ctrl+alt+z": "types 'ż' on this keyboard layout (AltGr)"})
    root = tkinter.Tk()
    root.withdraw()
    ui = UiQueue(root)
    window = SettingsWindow(root, paths, agent, ui)
    section = window.sections[0]
    assert isinstance(section, HotkeysSection)
    yield section, agent, paths
    window.close()
    ui.close()
    root.destroy()


def test_a_combo_the_desktop_refuses_is_named_and_the_old_one_kept(tab: tuple[HotkeysSection, RefusingAgent, Paths]) -> None:
    section, agent, paths = tab
    picker = Slot("hotkeys.picker", "", "the picker")
    for combo, reason in (("ctrl+alt+h", "taken by another program"), ("ctrl+alt+z", "on this keyboard layout")):
        section.recorded(picker, combo)
        message = section.messages[picker].cget("text")
        assert reason in message and "Kept ctrl+alt+space" in message, message
        assert agent.applied[-1].picker_hotkey == "ctrl+alt+space", "the agent was left on the refused combo"
        assert paths.settings_file.read_text(encoding="utf-8") == SETTINGS
    section.recorded(picker, "ctrl+alt+j")
    assert section.messages[picker].cget("text") == "Works now."
    assert load_settings(paths.settings_file).settings.picker_hotkey == "ctrl+alt+j"
    assert "# the default, written out" in paths.settings_file.read_text(encoding="utf-8")


def test_an_actions_hotkey_set_then_cleared_leaves_no_entry(tab: tuple[HotkeysSection, RefusingAgent, Paths]) -> None:
    section, agent, paths = tab
    proofread = Slot("hotkeys.actions", "proofread", "Proofread")
    section.recorded(proofread, "ctrl+alt+q")
    assert load_settings(paths.settings_file).settings.action_hotkeys == {"proofread": "ctrl+alt+q"}
    section.recorded(proofread, "")
    assert load_settings(paths.settings_file).settings.action_hotkeys == {}
    assert section.recorders[proofread].combo == ""
