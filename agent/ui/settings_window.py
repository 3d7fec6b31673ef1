"""The settings window: one Toplevel with a tab per section (Hotkeys, Model, Actions, General).

It writes every change to settings.toml at once (`settings_file`: the
person's comments and order stay) and hands the new settings to its
`SettingsHost`: the running agent applies them without a restart; the
standalone `phitray settings` only writes the file. A file the window cannot
understand is named at the top and every control is disabled: nothing in it is
overwritten. A write the disk refuses (full, or the file held by another
program) is a failed save, said with its reason, and the controls show what
was last saved again.

Keyboard: the window takes the focus when it opens, on the tab row (Left and
Right, Ctrl+Tab or Alt and the tab's underlined letter pick a tab); Tab walks
the controls in the order they are laid out; Esc closes. Every control has a
label beside it. Every method runs on the Tk (main) thread; other threads
(the device survey, a download) reach it only through `UiQueue.call_soon`.
"""

from __future__ import annotations

import logging
import tkinter
from collections.abc import Callable
from tkinter import ttk
from typing import Any, Protocol

from phitray.actions.library import ActionSet, load_actions
from phitray.actions.model import Action
from phitray.errors import ConfigError
from phitray.jobs.apps import SeenApp
from phitray.logs import milestone
from phitray.paths import Paths
from phitray.settings import Settings
from phitray.settings_file import change_setting, check_file, current_settings
from phitray.ui.popup import place_near_pointer, take_keyboard
from phitray.ui.uiqueue import UiQueue

log = logging.getLogger(__name__)
WIDTH, HEIGHT = 720, 520
PROBLEM_COLOUR = "#a00000"


class SettingsHost(Protocol):
    """The process the window runs in. Each call comes from the Tk thread and returns at once."""

    @property
    def live(self) -> bool: ...  # True in the running agent: a change works at once

    def apply_settings(self, settings: Settings) -> list[str]: ...  # the hotkeys the desktop refused, with why

    def hold_hotkeys(self, held: bool) -> None: ...  # off while a combo is being recorded

    def actions_changed(self) -> None: ...  # an action file was written: load them again

    # Runs it (as parsed, and as its file would be written) on `text` into a popup; "" or why it cannot.
    def try_action(self, action: Action, text: str, file_text: str) -> str: ...

    def model_status(self) -> str: ...  # the model in use, or what it is doing

    def recent_apps(self) -> tuple[SeenApp, ...]: ...  # the apps jobs ran in lately, newest first

    # Start pulling a catalog model: `on_bytes(done, total)` and then `on_end(failed, sentence)` come on a
    # thread of the host's (never the Tk thread); returns what cancels it (nothing half-written is kept).
    def start_download(self, model_id: str, backend_id: str, on_bytes: Callable[[int, int | None], None],
                       on_end: Callable[[bool, str], None]) -> Callable[[], None]: ...


class Section(Protocol):
    def refresh(self) -> None: ...  # redraw from the window's settings and actions

    def set_enabled(self, enabled: bool) -> None: ...


def set_state(widgets: list[Any], enabled: bool) -> None:
    for widget in widgets:
        try:
            widget.configure(state="normal" if enabled else "disabled")
        except tkinter.TclError:
            pass


def button_group(parent: tkinter.Misc, *buttons: tuple[str, Callable[[], object]],
                 across: bool = False) -> list[ttk.Button]:
    """Buttons packed down a column (or `across` a row), each pressed by Enter as well as by Space:
    Space is Tk's only key for a ttk.Button, and Enter is the one a keyboard user tries first."""
    made = []
    for text, command in buttons:
        button = ttk.Button(parent, text=text, command=command)
        if across:
            button.pack(side="left", padx=(0, 6))
        else:
            button.pack(fill="x", pady=1)
        button.bind("<Return>", lambda event: event.widget.invoke())
        made.append(button)
    return made


class SettingsWindow:
    """The frame: file check, tabs, the status line; the sections do the rest."""

    def __init__(self, root: tkinter.Misc, paths: Paths, host: SettingsHost, ui: UiQueue,
                 on_close: Callable[[], None] = lambda: None) -> None:
        self.paths, self.host, self.ui, self._on_close = paths, host, ui, on_close
        self.settings: Settings = current_settings(paths.settings_file)
        self.refused: list[str] = []  # the combos the desktop refused at the last change, with why
        self.actions: ActionSet = load_actions(paths.user_actions_dir)
        self.window = tkinter.Toplevel(root)
        self.window.title("Phi Tray — Settings")
        # Near the pointer; the size is what the tabs need (the longest of them sets it).
        self.window.geometry("+{}+{}".format(*place_near_pointer(self.window, WIDTH, HEIGHT).split("+")[1:]))
        self.window.protocol("WM_DELETE_WINDOW", self.close)
        # Never wider or taller than the screen: lists sized to their values scroll across instead.
        self.window.maxsize(self.window.winfo_screenwidth(), self.window.winfo_screenheight())
        frame = ttk.Frame(self.window, padding=8)
        frame.pack(fill="both", expand=True)
        self.banner = ttk.Label(frame, text="", foreground=PROBLEM_COLOUR, wraplength=WIDTH - 30)
        self.banner.pack(fill="x")
        bottom = ttk.Frame(frame)  # packed before the tabs, so a small screen cuts the tabs, never Close
        bottom.pack(side="bottom", fill="x")
        self.notebook = ttk.Notebook(frame)
        self.notebook.pack(fill="both", expand=True, pady=(4, 4))
        self.notebook.enable_traversal()
        self.status = ttk.Label(bottom, text="", wraplength=WIDTH - 120)
        self.status.pack(side="left", fill="x", expand=True)
        self.close_button = ttk.Button(bottom, text="Close", command=self.close)
        self.close_button.pack(side="right")
        # Imported here: each section imports this module for SettingsWindow's type.
        from phitray.ui.settings_actions import ActionsSection
        from phitray.ui.settings_apps import AppsSection
        from phitray.ui.settings_endpoint import EndpointSection
        from phitray.ui.settings_general import GeneralSection
        from phitray.ui.settings_hotkeys import HotkeysSection
        from phitray.ui.settings_model import ModelSection

        self.sections: list[Section] = []
        for title, make in (("Hotkeys", HotkeysSection), ("Model", ModelSection), ("Actions", ActionsSection),
                            ("General", GeneralSection), ("Endpoint", EndpointSection), ("Apps", AppsSection)):
            page = ttk.Frame(self.notebook, padding=8)
            self.notebook.add(page, text=title, underline=1 if title == "Apps" else 0)  # Alt+A is Actions'; Alt+P
            self.sections.append(make(page, self))
        # The Hotkeys tab shows the saved combo again after every recording itself; redrawing it would take
        # the keyboard from the row the person is on.
        self.redrawn_after_failure = [section for section in self.sections if not isinstance(section, HotkeysSection)]
        self.notebook.bind("<<NotebookTabChanged>>", lambda event: self._tab_shown())
        self.window.bind("<Escape>", lambda event: self.close())
        self.check_file()
        take_keyboard(self.window, lambda: self.notebook)
        log.info("settings window open (%s)", "live" if host.live else "file only")
        milestone("window-opened", window="settings", live=host.live)

    def check_file(self) -> bool:
        """Whether the window may write settings.toml; when not, says why and disables every control."""
        problem = check_file(self.paths.settings_file)
        self.banner.configure(text=problem)
        for section in self.sections:
            section.set_enabled(not problem)
        if problem:
            log.warning("settings window: %s", problem)
        return not problem

    def change(self, name: str, value: object, action_id: str = "") -> str:
        """Write one setting and apply it: "" when done, else what stopped it (nothing was written then).
        Hotkeys the desktop refused come back in `refused`."""
        self.refused = []
        where = f"{name}.{action_id}" if action_id else name
        try:
            loaded = change_setting(self.paths.settings_file, name, value, action_id)
        except ConfigError as error:
            self.check_file()
            return self._not_saved(where, str(error))
        except OSError as error:  # the disk is full, or (Windows) another program holds the file
            problem = self._not_saved(where, f"Not saved: {self.paths.settings_file} could not be written "
                                             f"({error.strerror or error}); it still holds what it held.")
            for section in self.redrawn_after_failure:  # a check box the person ticked goes back to the file's value
                section.refresh()
            return problem
        self.settings = loaded.settings
        self.refused = self.host.apply_settings(loaded.settings)
        self.say(f"Saved {where} to {self.paths.settings_file.name}"
                 + ("." if self.host.live else "; it applies when Phi Tray starts."))
        milestone("settings-saved", key=where)  # written and, in the agent, applied
        return ""

    def _not_saved(self, where: str, problem: str) -> str:
        self.say(problem, problem=True)
        milestone("settings-not-saved", key=where, problem=problem)
        return problem

    def _tab_shown(self) -> None:
        """A tab was chosen: drawn again from the settings, which another tab may have changed. Tk thread."""
        index = self.notebook.index("current")
        if isinstance(index, int) and index < len(self.sections):
            self.sections[index].refresh()

    def reload_actions(self) -> None:
        self.actions = load_actions(self.paths.user_actions_dir)
        self.host.actions_changed()
        for section in self.sections:
            section.refresh()

    def say(self, text: str, problem: bool = False) -> None:
        self.status.configure(text=text, foreground=PROBLEM_COLOUR if problem else "")
        log.info("settings window: %s", text)

    def show(self) -> None:
        """Bring the open window back to the front with the keyboard (a second "Settings…")."""
        self.window.deiconify()
        self.window.lift()
        self.window.focus_force()
        self.notebook.focus_set()

    def exists(self) -> bool:
        return bool(self.window.winfo_exists())

    def close(self) -> None:
        if self.window.winfo_exists():
            self.window.destroy()
        self._on_close()
