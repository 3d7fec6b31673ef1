"""The editor for one of the person's own actions: fields checked as they type, Try, Save.

The check is `actions check`'s own (`parse_action`), run on every key: the
first problem is named beside its field and Save stays off until there is
none. Try runs the action as it stands on the sample text into a popup. Save
writes `<id>.toml` in the actions folder; editing a file keeps its other fields
(checks, placeholders, generation options) and its comments. A built-in opened
here is saved as the person's own file with its id, which takes its place.

The editor writes only the file it loaded as this action, or a new one: an
`<id>.toml` that holds another action or does not load is refused beside the
id. A file changed on disk since the editor read it (its hash differs) is
overwritten only when the person says so. A write the disk refuses is a failed
save with its reason, the old file whole (`files.write_file`).
Every method runs on the Tk thread.
"""

from __future__ import annotations

import hashlib
import logging
import tkinter
from collections.abc import Callable
from pathlib import Path
from tkinter import messagebox, ttk
from typing import Any

import tomlkit
from tomlkit.exceptions import TOMLKitError

from phitray.actions.library import builtin_files, read_action
from phitray.actions.model import OUTPUTS, Action, parse_action
from phitray.errors import ActionFileError, ConfigError
from phitray.files import decode_text, encode_text, write_file
from phitray.logs import milestone
from phitray.ui.popup import take_keyboard
from phitray.ui.settings_window import button_group

log = logging.getLogger(__name__)
PROBLEM_COLOUR = "#a00000"
SAMPLE_TEXT = "Their going too the park tomorow, weather permitting."
NEW_PROMPT = "Rewrite the text between <text> and </text> so that it is clearer.\n\n$text"
# The fields the editor shows, in the order it shows them; the rest of a file is kept as it is.
SHOWN = ("id", "title", "output", "hotkey", "system", "prompt")


def action_table(base: dict[str, Any], fields: dict[str, str]) -> dict[str, Any]:
    """What the file will hold: `base` (the file's other fields) with the editor's fields; empty
    optional fields are left out, so their defaults apply."""
    table = {name: value for name, value in base.items() if name not in SHOWN}
    for name in SHOWN:
        value = fields.get(name, "")
        if value.strip() or name in ("id", "title", "prompt"):
            table[name] = value.strip() if name not in ("system", "prompt") else value
    return table


def check_fields(base: dict[str, Any], fields: dict[str, str], source: str) -> tuple[Action | None, ActionFileError | None]:
    """The action, or the first problem `actions check` would report for it."""
    try:
        return parse_action(action_table(base, fields), source), None
    except ActionFileError as problem:
        return None, problem


class ActionEditor:
    def __init__(self, root: tkinter.Toplevel, actions_dir: Path, existing: Action | None, taken_ids: set[str],
                 try_action: Callable[[Action, str, str], str], on_saved: Callable[[Path], None]) -> None:
        """`existing` is the action being edited (None: a new one); `taken_ids` the ids of the person's other
        action files. `try_action(action, text, file_text)` runs it into a popup and says why not ("" when it runs);
        `on_saved(path)` follows a save. Both are called on the Tk thread."""
        self.actions_dir, self.existing, self.taken_ids = actions_dir, existing, taken_ids
        self._try_action, self._on_saved = try_action, on_saved
        self.file: Path | None = None  # the person's file this action was read from, which Save may replace
        self.digest = b""  # its bytes' hash when read: a change made elsewhere since is asked about
        self.bom = False  # it started with a byte-order mark, which Save keeps
        self.document: Any = tomlkit.document()
        if existing is not None:
            self.document = self._read_existing(existing)
        self.base: dict[str, Any] = self.document.unwrap()
        self.window = tkinter.Toplevel(root)
        self.window.title("Phi Tray — " + (f"edit action {existing.id}" if existing else "new action"))
        self.window.transient(root)  # over the settings window, and closed with it
        self.window.geometry(f"+{root.winfo_rootx() + 40}+{root.winfo_rooty() + 40}")
        frame = ttk.Frame(self.window, padding=8)
        frame.pack(fill="both", expand=True)
        frame.columnconfigure(1, weight=1)
        self.widgets: dict[str, Any] = {}
        self.checked: tuple[str, str, str] | None = None  # the id, field and problem the editor names now
        self.problems: dict[str, ttk.Label] = {}
        labels = {"id": "Id (file name)", "title": "Title", "output": "Output", "hotkey": "Hotkey (optional)",
                  "system": "System prompt (optional)", "prompt": "Prompt ($text is the selection)"}
        for row, name in enumerate(SHOWN):
            ttk.Label(frame, text=labels[name]).grid(row=row, column=0, sticky="nw", padx=(0, 8), pady=2)
            widget: Any
            if name in ("system", "prompt"):
                widget = tkinter.Text(frame, height=3 if name == "system" else 6, width=48, wrap="word", undo=True)
                widget.bind("<Tab>", self._next_field)  # Tab moves on, as in every other field
                widget.bind("<Shift-Tab>", self._previous_field)
            elif name == "output":
                widget = ttk.Combobox(frame, values=OUTPUTS, state="readonly", width=12)
                widget.bind("<<ComboboxSelected>>", lambda event: self.validate())
            else:
                widget = ttk.Entry(frame, width=40)
            widget.grid(row=row, column=1, sticky="we", pady=2)
            widget.bind("<KeyRelease>", lambda event: self.validate(), add="+")
            problem = ttk.Label(frame, text="", foreground=PROBLEM_COLOUR, wraplength=240)
            problem.grid(row=row, column=2, sticky="nw", padx=(8, 0))
            self.widgets[name], self.problems[name] = widget, problem
        row = len(SHOWN)
        self.general = ttk.Label(frame, text="", foreground=PROBLEM_COLOUR, wraplength=600)
        self.general.grid(row=row, column=0, columnspan=3, sticky="w")
        ttk.Label(frame, text="Sample text for Try").grid(row=row + 1, column=0, sticky="w", pady=2)
        self.sample = ttk.Entry(frame)
        self.sample.insert(0, SAMPLE_TEXT)
        self.sample.grid(row=row + 1, column=1, sticky="we", pady=2)
        buttons = ttk.Frame(frame)
        buttons.grid(row=row + 2, column=0, columnspan=3, sticky="w", pady=(6, 0))
        self.try_button, self.save_button, self.cancel_button = button_group(
            buttons, ("Try", self.try_it), ("Save", self.save), ("Cancel", self.close), across=True)
        self.status = ttk.Label(frame, text="", wraplength=600)
        self.status.grid(row=row + 3, column=0, columnspan=3, sticky="w")
        self._fill(existing)
        self.window.bind("<Escape>", lambda event: self.close())
        self.validate()
        take_keyboard(self.window, lambda: self.widgets["id"] if existing is None else self.widgets["title"])

    def _read_existing(self, existing: Action) -> Any:
        """The file `existing` came from, comments and all: the person's own, or a built-in's text. A file that
        no longer loads as this action is not taken as its file (Save then refuses to write over it)."""
        builtin = dict(builtin_files())
        try:
            if existing.source.startswith("built-in ") and existing.source[9:] in builtin:
                return tomlkit.parse(builtin[existing.source[9:]])
            path = Path(existing.source)
            if path.is_file():
                data = path.read_bytes()
                text, bom = decode_text(data)
                if read_action(text, str(path)).id == existing.id:
                    self.file, self.digest, self.bom = path, hashlib.sha256(data).digest(), bom
                    return tomlkit.parse(text)
        except (OSError, UnicodeDecodeError, TOMLKitError, ConfigError):
            pass
        return tomlkit.document()

    def _fill(self, existing: Action | None) -> None:
        values = {"id": "", "title": "", "output": "popup", "hotkey": "", "system": "", "prompt": NEW_PROMPT}
        if existing is not None:
            values = {"id": existing.id, "title": existing.title, "output": existing.output,
                      "hotkey": existing.hotkey or "", "system": existing.system, "prompt": existing.prompt}
        for name, value in values.items():
            widget = self.widgets[name]
            if isinstance(widget, tkinter.Text):
                widget.insert("1.0", value)
            elif isinstance(widget, ttk.Combobox):
                widget.set(value)
            else:
                widget.insert(0, value)

    def fields(self) -> dict[str, str]:
        values = {}
        for name, widget in self.widgets.items():
            values[name] = widget.get("1.0", "end-1c") if isinstance(widget, tkinter.Text) else widget.get()
        return values

    def _target(self, action_id: str) -> Path:
        return self.actions_dir / f"{action_id}.toml"

    def validate(self) -> Action | None:
        """Check the fields as `actions check` would; name the first problem beside its field. Tk thread."""
        fields = self.fields()
        action, problem = check_fields(self.base, fields, str(self._target(fields["id"].strip() or "new")))
        for label in self.problems.values():
            label.configure(text="")
        self.general.configure(text="")
        if problem is None and action is not None and action.id in self.taken_ids and (
                self.existing is None or action.id != self.existing.id):
            problem = ActionFileError(str(self._target(action.id)), "id", f"you already have an action {action.id!r}")
            action = None
        elif problem is None and action is not None and (taken := self.may_not_write(self._target(action.id))):
            problem, action = ActionFileError(str(self._target(action.id)), "id", taken), None
        if problem is not None:
            field_name = problem.field_name.split(".")[0]
            if field_name in self.problems:
                self.problems[field_name].configure(text=problem.problem)
            else:
                self.general.configure(text=f"{problem.field_name}: {problem.problem}")
        checked = (fields["id"].strip(), problem.field_name if problem else "", problem.problem if problem else "")
        if checked != self.checked:  # what the editor says, in the log too: support can follow a person's edit
            self.checked = checked
            milestone("action-checked", id=checked[0], ok=problem is None, field=checked[1], problem=checked[2])
        state = "normal" if action is not None else "disabled"
        self.save_button.configure(state=state)
        self.try_button.configure(state=state)
        return action

    def try_it(self) -> None:
        """Try: the action as it stands, on the sample text, into a popup. Tk thread."""
        action = self.validate()
        if action is None:
            return
        why_not = self._try_action(action, self.sample.get(), self.file_text())
        self.status.configure(text=why_not or "Running it on the sample text; the answer opens in a popup.")

    def file_text(self) -> str:
        """The action file as Save writes it: the fields shown, over the rest of the file as it was."""
        document = tomlkit.parse(tomlkit.dumps(self.document))  # a copy: Try must not change what Save keeps
        shown = action_table({}, self.fields())
        for name, value in shown.items():
            document[name] = tomlkit.string(value, multiline=True) if "\n" in value else value
        for name in SHOWN:
            if name not in shown and name in document:
                del document[name]
        return tomlkit.dumps(document)

    def may_not_write(self, target: Path) -> str:
        """Why Save may not write `target`, or "" when it may: it is the file this editor read, or there is none."""
        if target == self.file or not target.exists():
            return ""
        try:
            text, _ = decode_text(target.read_bytes())
            other = read_action(text, str(target))
        except UnicodeDecodeError:
            why = "it is not UTF-8 text"
        except OSError as error:
            why = f"it cannot be read: {error.strerror or error}"
        except ActionFileError as error:
            why = error.problem if error.field_name in ("", "file") else f"{error.field_name}: {error.problem}"
        else:
            if other.id != target.stem:
                return f"{target.name} holds your action {other.id!r}; choose another id"
            return f"{target.name} already exists; choose another id, or Edit… that action"
        return f"{target.name} is a file of yours that does not load ({why}); fix or delete it, or choose another id"

    def changed_on_disk(self) -> bool:
        """The file this editor read was changed elsewhere since (a file that is gone has nothing to lose)."""
        if self.file is None:
            return False
        try:
            return hashlib.sha256(self.file.read_bytes()).digest() != self.digest
        except FileNotFoundError:
            return False
        except OSError:
            return True

    def save(self) -> None:
        """Save: write the file, check it as `actions check` reads it, tell the agent. Tk thread."""
        action = self.validate()
        if action is None:
            return
        target = self._target(action.id)
        text = self.file_text()
        if self.file is not None and self.changed_on_disk() and not messagebox.askyesno(
                "Action file changed", f"{self.file} was changed outside this editor since it opened. Save over "
                "those changes?", parent=self.window, default="no"):
            self._not_saved(action.id, f"{self.file.name} was changed outside this editor and keeps those changes. "
                                       "Close the editor and Edit… the action again to start from them.")
            return
        if taken := self.may_not_write(target):  # made while the question was open
            self._not_saved(action.id, taken)
            return
        data = encode_text(text, self.bom)
        try:
            read_action(text, str(target))
            write_file(target, data)
        except ConfigError as error:
            self._not_saved(action.id, str(error))
            return
        except OSError as error:
            kept = "it is as it was" if target.exists() else "nothing was written"
            self._not_saved(action.id, f"{target} could not be written ({error.strerror or error}); {kept}.")
            return
        if self.file is not None and self.file != target and self.file.parent == self.actions_dir:
            try:
                self.file.unlink(missing_ok=True)  # renamed: the old id's file would be a second copy
            except OSError as error:
                log.warning("action %s: the old file %s stays: %s", action.id, self.file, error)
        self.file, self.document, self.digest = target, tomlkit.parse(text), hashlib.sha256(data).digest()
        log.info("action %s saved to %s", action.id, target)
        self.status.configure(text=f"Saved to {target}.", foreground="")
        self._on_saved(target)
        milestone("action-saved", id=action.id)  # after the window, and the agent, loaded it

    def _not_saved(self, action_id: str, problem: str) -> None:
        self.status.configure(text=f"Not saved: {problem}", foreground=PROBLEM_COLOUR)
        log.info("action %s not saved: %s", action_id, problem)
        milestone("action-not-saved", id=action_id, problem=problem)

    def _next_field(self, event: tkinter.Event) -> str:  # type: ignore[type-arg]
        following = event.widget.tk_focusNext()
        if following is not None:
            following.focus_set()
        return "break"

    def _previous_field(self, event: tkinter.Event) -> str:  # type: ignore[type-arg]
        preceding = event.widget.tk_focusPrev()
        if preceding is not None:
            preceding.focus_set()
        return "break"

    def close(self) -> None:
        if self.window.winfo_exists():
            self.window.destroy()
