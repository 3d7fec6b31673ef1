"""The Apps tab: the apps Phi Tray worked in lately, and a profile made from one.

The list comes from the running agent (kept in memory only, program and window
class, never a title): each row says which profile the app has now. A button
writes an [[apps]] entry for the chosen app to settings.toml (`settings_file.
change_app`, the person's comments kept) and hands the settings to the agent,
which applies them at once. Anything more (tone, output, placeholder values
per action) is written in settings.toml by hand. Every method runs on the Tk
thread.
"""

from __future__ import annotations

from tkinter import ttk
from typing import TYPE_CHECKING, Any

from phitray.app_profiles import profile_for
from phitray.errors import ConfigError
from phitray.jobs.apps import SeenApp
from phitray.logs import milestone
from phitray.settings_file import change_app
from phitray.ui.settings_window import button_group, set_state
from phitray.ui.table_fit import fit_columns, scrolling_table

if TYPE_CHECKING:
    from phitray.ui.settings_window import SettingsWindow

MEANING = ("The apps Phi Tray worked in since it started (kept in memory only). A profile changes what it does "
           "in one app: turned off there, or the picker's first action; settings.toml's [[apps]] entries take "
           "more (a tone, an output or a language per action).")
NO_DEFAULT = "(the usual order)"


class AppsSection:
    def __init__(self, page: ttk.Frame, window: SettingsWindow) -> None:
        self.window = window
        self.seen: tuple[SeenApp, ...] = ()
        ttk.Label(page, text=MEANING, wraplength=640, foreground="#555").pack(fill="x", pady=(0, 6))
        frame, self.table = scrolling_table(page, columns=("class", "profile"), height=8, selectmode="browse")
        for column, title in (("#0", "App"), ("class", "Window class"), ("profile", "Profile now")):
            self.table.heading(column, text=title)
        frame.pack(fill="both", expand=True)
        self.table.bind("<<TreeviewSelect>>", lambda event: self._selected())
        self.empty = ttk.Label(page, text="")
        self.empty.pack(fill="x")
        row = ttk.Frame(page)
        row.pack(fill="x", pady=(6, 0))
        ttk.Label(row, text="First in the picker").pack(side="left")
        self.first = ttk.Combobox(row, state="readonly", width=18)
        self.first.pack(side="left", padx=(6, 16))
        self.make_button, self.off_button, self.on_button = button_group(
            row, ("Make a profile", self.make_profile), ("Turn Phi Tray off here", lambda: self.turn(False)),
            ("Turn it on here", lambda: self.turn(True)), across=True)
        self.refresh()

    def refresh(self) -> None:
        """The agent's recent apps again, each with the profile the settings give it now."""
        chosen = self.table.selection()
        self.seen = self.window.host.recent_apps()
        self.table.delete(*self.table.get_children())
        for index, seen in enumerate(self.seen):
            self.table.insert("", "end", iid=str(index), text=seen.app.label,
                              values=(seen.app.window_class or "-", self._profile_now(seen)))
        fit_columns(self.table)
        self.empty.configure(text="" if self.seen else "No app yet: use an action somewhere, then come back here.")
        self.first.configure(values=[NO_DEFAULT, *(action.id for action in self.window.actions.ordered())])
        if self.seen:
            keep = chosen[0] if chosen and self.table.exists(chosen[0]) else "0"
            self.table.selection_set(keep)
            self.table.focus(keep)
        self._selected()

    def _profile_now(self, seen: SeenApp) -> str:
        profile = profile_for(self.window.settings.apps, seen.app.program, (seen.app.window_class,), "")
        if profile is None:
            return "-"
        return f"{profile.name}{' (built in)' if profile.built_in else ''}{'' if profile.enabled else ': off'}"

    def set_enabled(self, enabled: bool) -> None:
        set_state([self.make_button, self.off_button, self.on_button], enabled)
        self.first.configure(state="readonly" if enabled else "disabled")

    def chosen(self) -> SeenApp | None:
        selected = self.table.selection()
        return self.seen[int(selected[0])] if selected else None

    def _selected(self) -> None:
        seen = self.chosen()
        set_state([self.make_button, self.off_button, self.on_button], seen is not None)
        self.first.set(NO_DEFAULT)

    def make_profile(self) -> None:
        """The chosen app gets an entry of its own (on), with the picker's first action if one is chosen."""
        first = self.first.get()
        self._write({"enabled": True, **({"picker_default": first} if first and first != NO_DEFAULT else {})})

    def turn(self, on: bool) -> None:
        self._write({"enabled": on})

    def _write(self, changes: dict[str, Any]) -> None:
        seen = self.chosen()
        if seen is None:
            return
        match = {key: value.lower() for key, value in (("program", seen.app.program),
                                                        ("class", seen.app.window_class)) if value}
        where = self.window.paths.settings_file
        try:
            loaded = change_app(where, match, {"name": seen.app.label, **changes})
        except ConfigError as error:
            self.window.check_file()
            self.window.say(str(error), problem=True)
            return
        except OSError as error:
            self.window.say(f"Not saved: {where} could not be written ({error.strerror or error}); it still holds "
                            "what it held.", problem=True)
            return
        self.window.settings = loaded.settings
        self.window.refused = self.window.host.apply_settings(loaded.settings)
        self.window.say(f"Saved the profile of {seen.app.label} to {where.name}"
                        + ("." if self.window.host.live else "; it applies when Phi Tray starts."))
        milestone("settings-saved", key="apps")
        self.refresh()
