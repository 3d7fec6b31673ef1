"""The settings window's lists show every value whole, and its Endpoint tab shows the endpoint's token with
Show and Copy (never in the log). A real SettingsWindow in the test process, on the session's display
(conftest.tk_display); it takes the keyboard itself, and the keys and clicks come from xdotool."""

from __future__ import annotations

import logging
import threading
import time
import tkinter
import tkinter.font
from collections.abc import Callable, Iterator
from dataclasses import replace
from pathlib import Path

import pytest

from phitray.cli.settings import FileOnly
from phitray.paths import Paths
from phitray.serve.token import read_or_create
from phitray.settings import load_settings
from phitray.ui.settings_actions import ActionsSection
from phitray.ui.settings_endpoint import EndpointSection
from phitray.ui.settings_model import ModelSection
from phitray.ui.settings_window import SettingsWindow
from phitray.ui.table_fit import cut_columns
from phitray.ui.uiqueue import UiQueue

from helpers.desktop import DesktopSession, missing_tools

pytestmark = pytest.mark.skipif(bool(missing_tools()), reason=f"missing {missing_tools()}")
LONG_TITLE = "Rewrite as a very polite letter to the housing association about the broken lift"
LONG_FILE = "my-very-own-letter-to-the-housing-association-about-the-lift.toml"


def pump_until(root: tkinter.Tk, done: Callable[[], bool], seconds: float = 10) -> None:
    deadline = time.monotonic() + seconds
    while not done() and time.monotonic() < deadline:
        root.update()
        time.sleep(0.02)
    assert done(), "not reached in time"


@pytest.fixture
def window(tk_display: DesktopSession, shared_paths: Paths, tmp_path: Path) -> Iterator[tuple[tkinter.Tk, SettingsWindow]]:
    """The window on the shared model store (the starter and the tiny Phi-3), with a settings file and one
    action of the person's whose title, combo and file name are long."""
    paths = replace(shared_paths, config_dir=tmp_path / "config")
    paths.user_actions_dir.mkdir(parents=True)
    paths.settings_file.write_text('[engine]\nchain = ["openvino-cpu"]\nmodel = "starter"\n')
    (paths.user_actions_dir / LONG_FILE).write_text(
        f'id = "letter"\ntitle = "{LONG_TITLE}"\nhotkey = "ctrl+alt+shift+super+f12"\n'
        'prompt = "Rewrite as a polite letter: $text"\n')
    root = tkinter.Tk(screenName=tk_display.display)
    root.withdraw()
    shown = SettingsWindow(root, paths, FileOnly(paths.models_dir), UiQueue(root))
    pump_until(root, lambda: bool(shown.window.winfo_viewable()))
    yield root, shown
    shown.close()
    root.destroy()


def test_no_list_of_the_settings_window_cuts_a_value_short(
    tk_display: DesktopSession, window: tuple[tkinter.Tk, SettingsWindow]
) -> None:
    root, shown = window
    actions = next(s for s in shown.sections if isinstance(s, ActionsSection))
    model = next(s for s in shown.sections if isinstance(s, ModelSection))
    assert actions.table.item("letter", "text") == LONG_TITLE
    assert LONG_FILE in actions.table.item("letter", "values")
    for table in (actions.table, model.installed, model.catalog):
        assert table.get_children()
        assert cut_columns(table) == [], table
    # The backends' list: what the survey found for the chosen one is shown whole under it, wrapped, and
    # follows the choice (Down, as a person moves through the list).
    pump_until(root, lambda: bool(model.decisions), 120)
    lines = model.chain.get(0, "end")
    assert model.chain_detail.cget("text") == lines[0] and "chosen" in lines[0]
    pump_until(root, lambda: root.focus_get() is not None)  # the window has taken the keyboard
    tk_display.xdotool("key", "alt+m")  # the Model tab
    pump_until(root, lambda: shown.notebook.index("current") == shown.sections.index(model))
    tk_display.xdotool("key", "Tab")  # its first control: the backends' list
    pump_until(root, lambda: root.focus_get() is model.chain)
    tk_display.xdotool("key", "Down")
    pump_until(root, lambda: model.chain_detail.cget("text") == lines[1])
    # The window stays within the screen; a table wider than it scrolls across to its last column.
    tk_display.xdotool("key", "alt+a")  # the Actions tab, whose long values make it the widest
    pump_until(root, lambda: bool(actions.table.winfo_viewable()))
    root.update_idletasks()
    assert shown.window.winfo_width() <= root.winfo_screenwidth()
    assert actions.table.xview()[1] < 1.0  # its columns add up to more than the window shows
    actions.table.xview_moveto(1.0)
    root.update_idletasks()
    assert actions.table.xview()[0] > 0 and actions.table.xview()[1] == 1.0  # scrolled across to the end


def test_the_endpoint_tab_shows_the_token_hidden_copies_it_and_turns_the_endpoint_on(
    tk_display: DesktopSession, window: tuple[tkinter.Tk, SettingsWindow], caplog: pytest.LogCaptureFixture
) -> None:
    root, shown = window
    caplog.set_level(logging.DEBUG)
    tab = next(s for s in shown.sections if isinstance(s, EndpointSection))
    token = read_or_create(shown.paths.server_token_file)  # the same file `phitray server token` reads
    pump_until(root, lambda: root.focus_get() is not None)  # the window has taken the keyboard
    tk_display.xdotool("key", "alt+e")  # the tab's underlined letter, as a person reaches it
    pump_until(root, lambda: shown.notebook.index("current") == shown.sections.index(tab)
               and bool(tab.copy_button.winfo_viewable()))
    assert tab.token.get() == token and tab.token.cget("show") == "•"  # there, but hidden until Show
    assert "127.0.0.1:11435/v1" in tab.address.cget("text")

    def click(button: tkinter.Misc) -> None:
        x = button.winfo_rootx() + button.winfo_width() // 2
        y = button.winfo_rooty() + button.winfo_height() // 2
        tk_display.xdotool("mousemove", str(x), str(y), "click", "1")

    click(tab.show_button)
    pump_until(root, lambda: tab.token.cget("show") == "")
    click(tab.copy_button)
    pump_until(root, lambda: "clipboard" in shown.status.cget("text"))
    copied: list[str] = []
    reader = threading.Thread(target=lambda: copied.append(tk_display.clipboard()))  # Tk answers it: keep pumping
    reader.start()
    pump_until(root, lambda: not reader.is_alive())
    assert copied == [token]
    click(tab.enabled_button)
    pump_until(root, lambda: load_settings(shown.paths.settings_file).settings.server_enabled)
    assert token not in caplog.text  # the log says what was done, never the token
    assert "endpoint-token-copied" in caplog.text
