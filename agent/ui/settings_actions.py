"""The Actions tab: every action with its output and direct hotkey; New, Edit, and the output per action.

The output chosen here goes to settings.toml's [output.actions] (the action
file stays as it is); New and Edit open the action editor, which writes the
person's own action files. Every method runs on the Tk thread.
"""

from __future__ import annotations

from pathlib import Path
from tkinter import messagebox, ttk
from typing import TYPE_CHECKING

from phitray.actions.model import OUTPUTS, Action
from phitray.logs import milestone
from phitray.ui.action_editor import ActionEditor
from phitray.ui.settings_window import button_group, set_state
from phitray.ui.table_fit import fit_columns, scrolling_table

if TYPE_CHECKING:
    from phitray.ui.settings_window import SettingsWindow


def is_builtin(action: Action) -> bool:
    return action.source.startswith("built-in")


class ActionsSection:
    def __init__(self, page: ttk.Frame, window: SettingsWindow) -> None:
        self.window = window
        self._enabled = True
        self.editor: ActionEditor | None = None
        ttk.Label(page, text="Actions (Up and Down choose one)").pack(fill="x")
        frame, self.table = scrolling_table(page, columns=("output", "hotkey", "source"), height=9, selectmode="browse")
        for column, title, width in (("#0", "Action", 180), ("output", "Output", 90), ("hotkey", "Hotkey", 130),
                                     ("source", "From", 240)):
            self.table.heading(column, text=title)
            self.table.column(column, width=width, stretch=column == "source")
        frame.pack(fill="both", expand=True)
        self.table.bind("<<TreeviewSelect>>", lambda event: self._selected())
        self.table.bind("<Return>", lambda event: self.edit())
        row = ttk.Frame(page)
        row.pack(fill="x", pady=(6, 0))
        ttk.Label(row, text="Output of the chosen action").pack(side="left")
        self.output = ttk.Combobox(row, values=OUTPUTS, state="readonly", width=12)
        self.output.pack(side="left", padx=(6, 16))
        self.output.bind("<<ComboboxSelected>>", lambda event: self._output())
        self.new_button, self.edit_button, self.delete_button = button_group(
            row, ("New action…", self.new), ("Edit…", self.edit), ("Delete…", self.delete), across=True)
        self.refresh()

    def _hotkey(self, action: Action) -> str:
        settings = self.window.settings
        combo = settings.action_hotkeys.get(action.id, action.hotkey or "")
        return combo or "-"

    def _output_of(self, action: Action) -> str:
        return self.window.settings.action_outputs.get(action.id, action.output)

    def refresh(self) -> None:
        chosen = self.chosen()
        self.table.delete(*self.table.get_children())
        for action in self.window.actions.ordered():
            source = "built-in" if is_builtin(action) else Path(action.source).name
            self.table.insert("", "end", iid=action.id, text=action.title,
                              values=(self._output_of(action), self._hotkey(action), source))
        fit_columns(self.table)  # a long title, combo or file name is shown whole
        if self.table.get_children():
            keep = chosen.id if chosen is not None and self.table.exists(chosen.id) else self.table.get_children()[0]
            self.table.selection_set(keep)
            self.table.focus(keep)
        self._selected()

    def set_enabled(self, enabled: bool) -> None:
        set_state([self.new_button, self.edit_button], enabled)
        self.output.configure(state="readonly" if enabled else "disabled")
        self._enabled = enabled
        self._selected()

    def chosen(self) -> Action | None:
        selected = self.table.selection()
        return self.window.actions.actions.get(selected[0]) if selected else None

    def _selected(self) -> None:
        action = self.chosen()
        self.output.set(self._output_of(action) if action else "")
        # Only a person's own file can be deleted: a built-in is part of the program.
        set_state([self.delete_button], self._enabled and action is not None and not is_builtin(action))

    def _output(self) -> None:
        """An output picked for the chosen action. Tk thread."""
        action = self.chosen()
        if action is None:
            return
        value = self.output.get()
        # The action file's own output needs no entry in the settings.
        self.window.change("output.actions", None if value == action.output else value, action.id)
        self.refresh()

    def new(self) -> None:
        self._open(None)

    def edit(self) -> None:
        action = self.chosen()
        if action is not None:
            self._open(action)

    def delete(self) -> None:
        """Delete…: the chosen action's file, asked first. Tk thread."""
        action = self.chosen()
        if action is None or is_builtin(action):
            return
        path = Path(action.source)
        if not messagebox.askyesno("Delete action", f"Delete the action {action.title!r}? Its file {path} is deleted.",
                                   parent=self.window.window, default="no"):
            return
        try:
            path.unlink()
        except OSError as error:
            self.window.say(f"{path.name} was not deleted: {error}", problem=True)
            return
        self.window.reload_actions()
        self.table.focus_set()  # Delete… is off on the built-in the list moved to
        if action.id in self.window.actions.actions:  # the built-in it replaced is back, with its settings
            self.window.say(f"Deleted {path}; the built-in {action.id} is back.")
        else:
            # Its hotkey and output in the settings would name an action that is gone.
            for name, table in (("hotkeys.actions", self.window.settings.action_hotkeys),
                                ("output.actions", self.window.settings.action_outputs)):
                if action.id in table and self.window.change(name, None, action.id):
                    return  # the window named why the settings could not be written
            self.window.say(f"Deleted {path}.")
        milestone("action-deleted", id=action.id)

    def _open(self, action: Action | None) -> None:
        if self.editor is not None:
            self.editor.close()
        own = {a.id for a in self.window.actions.actions.values() if not is_builtin(a)}
        self.editor = ActionEditor(self.window.window, self.window.paths.user_actions_dir, action, own,
                                   self.window.host.try_action, self._saved)

    def _saved(self, path: Path) -> None:
        """The editor wrote an action file. Tk thread."""
        self.window.reload_actions()
        self.window.say(f"Saved {path}; {len(self.window.actions.actions)} actions"
                        + (" loaded." if self.window.host.live else "."))
