"""`phitray settings`: the running agent opens its settings window; with none running, a window that
only writes settings.toml (the agent reads it when it starts)."""

from __future__ import annotations

import argparse
from collections.abc import Callable
from pathlib import Path
from typing import TYPE_CHECKING, Any

from phitray.actions.model import Action
from phitray.cli.common import say
from phitray.desktop.instance import instance_address, send_to_running
from phitray.jobs.apps import SeenApp
from phitray.paths import Paths
from phitray.settings import Settings
from phitray.settings_file import check_file, current_settings

if TYPE_CHECKING:
    from phitray.cli.settings_try import TryInChild


class FileOnly:
    """The settings window's host when no agent runs: nothing to apply; Try runs in a child. Tk thread."""

    def __init__(self, models_dir: Path, try_in_child: TryInChild | None = None) -> None:
        self._models_dir, self._try = models_dir, try_in_child

    @property
    def live(self) -> bool:
        return False

    def apply_settings(self, settings: Settings) -> list[str]:
        return []

    def hold_hotkeys(self, held: bool) -> None:
        """No agent holds any hotkey."""

    def actions_changed(self) -> None:
        """The agent loads the action files when it starts."""

    def try_action(self, action: Action, text: str, file_text: str) -> str:
        if self._try is None:
            return "Try needs a window to show the answer in."
        if not text.strip():
            return "Write some sample text first."
        return self._try.run(action, text, file_text)

    def model_status(self) -> str:
        return "Phi Tray is not running."

    def recent_apps(self) -> tuple[SeenApp, ...]:
        """No agent ran a job: the Apps tab lists none."""
        return ()

    def start_download(self, model_id: str, backend_id: str, on_bytes: Callable[[int, int | None], None],
                       on_end: Callable[[bool, str], None]) -> Callable[[], None]:
        """In a download process, as the agent's: this one loads no hub or HTTP client either."""
        from phitray.downloads import start_download

        return start_download(model_id, backend_id, on_bytes, on_end, self._models_dir)


def cmd_settings(args: argparse.Namespace, paths: Paths) -> int:
    if send_to_running(instance_address(paths), "settings") is not None:
        say("the running agent opens its settings window.")
        return 0
    from phitray.cli.agent import open_tk_root
    from phitray.cli.settings_try import TryInChild
    from phitray.logs import setup_logging
    from phitray.ui.settings_window import SettingsWindow
    from phitray.ui.uiqueue import UiQueue

    if problem := check_file(paths.settings_file):
        say(problem)  # the window says it too
    setup_logging(paths, current_settings(paths.settings_file).log_level)
    root = open_tk_root()
    ui = UiQueue(root)
    try_in_child = TryInChild(root, ui, paths)
    SettingsWindow(root, paths, FileOnly(paths.models_dir, try_in_child), ui, on_close=root.quit)
    root.mainloop()
    try_in_child.close()
    ui.close()
    root.destroy()
    return 0


def add_settings_commands(commands: Any) -> None:
    settings = commands.add_parser("settings", help="open the settings window (the running agent's, when it runs)")
    settings.set_defaults(handler=cmd_settings)
