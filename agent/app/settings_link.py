"""The settings window inside the running agent: its `SettingsHost`, and the one window it keeps.

The window asks; the daemon changes. Every change of settings or actions goes
through `Daemon.apply`, the agent's one writer. Runs on the Tk (main) thread.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import TYPE_CHECKING

from phitray.actions.model import Action
from phitray.downloads import start_download
from phitray.jobs.apps import SeenApp
from phitray.jobs.types import ActionJob
from phitray.settings import Settings

if TYPE_CHECKING:
    from phitray.app.daemon import Daemon
    from phitray.ui.settings_window import SettingsWindow


class LiveSettings:
    """What the settings window asks of the running agent; each call returns at once."""

    def __init__(self, daemon: Daemon) -> None:
        self._daemon = daemon
        self.window: SettingsWindow | None = None

    def open(self) -> None:
        """Open the window, or bring the open one back with the keyboard (a second "Settings…")."""
        if self.window is not None and self.window.exists():
            self.window.show()
            return
        # Imported the first time it opens: the window's modules (and tomlkit) cost the agent nothing until then.
        from phitray.ui.settings_window import SettingsWindow

        daemon = self._daemon
        self.window = SettingsWindow(daemon.root, daemon.paths, self, daemon.ui, on_close=self._closed)

    def _closed(self) -> None:
        """The window is gone."""
        self.window = None

    @property
    def live(self) -> bool:
        return True

    def apply_settings(self, settings: Settings) -> list[str]:
        """A change, applied without a restart (only what changed). Returns the combos the desktop refused."""
        refused = self._daemon.apply(new_settings=settings, report=False)
        self._daemon.read_disk_state()
        return refused

    def hold_hotkeys(self, held: bool) -> None:
        """Off while the window records a combo, so pressing one reaches the window."""
        self._daemon.hold_hotkeys(held)

    def actions_changed(self) -> None:
        """An action file was written; the window names its problems itself, so they only go to the log."""
        self._daemon.apply(new_actions=self._daemon.read_actions(), report=False)

    def try_action(self, action: Action, text: str, file_text: str) -> str:
        """The action editor's Try: the draft runs on `text` into a popup, through the agent's engine."""
        if self._daemon.jobs is None:
            return "The desktop could not be reached, so nothing can run."
        if not text.strip():
            return "Write some sample text first."
        self._daemon.submit(ActionJob("settings", action.id, text=text, output="popup", draft=action))
        return ""

    def model_status(self) -> str:
        return self._daemon.state.host_status

    def recent_apps(self) -> tuple[SeenApp, ...]:
        """The apps the jobs thread saw lately (it writes them, under its lock)."""
        return self._daemon.jobs.apps.recent() if self._daemon.jobs is not None else ()

    def start_download(self, model_id: str, backend_id: str, on_bytes: Callable[[int, int | None], None],
                       on_end: Callable[[bool, str], None]) -> Callable[[], None]:
        """The pull in a child process (downloads.py), so the agent never loads the download stack;
        `on_bytes` and `on_end` are called on that download's watching thread."""
        return start_download(model_id, backend_id, on_bytes, on_end, self._daemon.paths.models_dir)
