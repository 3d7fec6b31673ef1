"""Try in the standalone settings window: the draft action runs in a `phitray act` process of its own,
its answer streamed into a result popup.

The draft is not saved: it is written to a folder of its own that the child
reads as its actions folder, and removed when the run ends. The child loads the
model the settings name (the chain, the model, no download unless allowed).
The reader thread ("settings-try") reaches Tk only through `UiQueue.call_soon`.
"""

from __future__ import annotations

import functools
import logging
import os
import shutil
import subprocess
import sys
import tempfile
import threading
import tkinter
from pathlib import Path

from phitray.actions.model import Action
from phitray.paths import Paths
from phitray.settings_file import current_settings
from phitray.ui.popup import PopupCommands, ResultPopup
from phitray.ui.uiqueue import UiQueue

log = logging.getLogger(__name__)


class TryInChild:
    """One Try at a time, each with its popup. Every method but `_read` runs on the Tk thread."""

    def __init__(self, root: tkinter.Tk, ui: UiQueue, paths: Paths) -> None:
        self._root, self._ui, self._paths = root, ui, paths
        self._child: subprocess.Popen[bytes] | None = None

    def run(self, action: Action, text: str, file_text: str) -> str:
        """Start the child; "" once it runs, or why it does not."""
        if self._child is not None and self._child.poll() is None:
            return "A Try is still running; close its popup first."
        folder = Path(tempfile.mkdtemp(prefix="phitray-try-"))
        (folder / "actions").mkdir()
        (folder / "actions" / f"{action.id}.toml").write_text(file_text, encoding="utf-8")
        settings = current_settings(self._paths.settings_file)
        command = [sys.executable, "-m", "phitray", "act", action.id, text, "--quiet",
                   "--backend", ",".join(settings.chain), "--model", settings.model_id,
                   *([] if settings.allow_pull else ["--no-pull"])]
        env = {**os.environ, "PHITRAY_CONFIG_DIR": str(folder), "PHITRAY_DATA_DIR": str(self._paths.data_dir),
               "PHITRAY_CACHE_DIR": str(self._paths.cache_dir), "PHITRAY_LOG_DIR": str(folder / "log")}
        child = subprocess.Popen(command, env=env, stdin=subprocess.DEVNULL, stdout=subprocess.PIPE,
                                 stderr=subprocess.PIPE)
        self._child = child

        def copy(answer: str) -> None:
            """Tk thread: the popup's Copy."""
            self._root.clipboard_clear()
            self._root.clipboard_append(answer)

        def retry() -> None:
            """Tk thread: the popup's Retry."""
            self.run(action, text, file_text)

        commands = PopupCommands(copy=copy, replace=lambda answer: None, retry=retry, cancel=child.kill)
        popup = ResultPopup(self._root, action.title, commands, can_replace=False)
        threading.Thread(target=self._read, args=(child, popup, folder), name="settings-try", daemon=True).start()
        return ""

    def _read(self, child: subprocess.Popen[bytes], popup: ResultPopup, folder: Path) -> None:
        """The "settings-try" thread: the child's answer as it streams, then how it ended."""
        assert child.stdout is not None and child.stderr is not None
        def show(chunk: str) -> None:
            """Tk thread: a piece of the answer."""
            if popup.streaming:
                popup.append(chunk)

        pending = b""
        while piece := os.read(child.stdout.fileno(), 4096):
            pending += piece
            try:
                chunk, pending = pending.decode("utf-8"), b""
            except UnicodeDecodeError:  # a character cut between two reads: wait for the rest
                continue
            self._ui.call_soon(functools.partial(show, chunk))
        said = child.stderr.read().decode("utf-8", "replace").replace("phitray: ", "").strip()
        code = child.wait()
        shutil.rmtree(folder, ignore_errors=True)

        def finish() -> None:
            """Tk thread: the answer as it ended, with what the child said about it."""
            log.info("Try ended (exit %d, %d characters of answer)%s", code, len(popup.text), f": {said}" if said else "")
            if not popup.window.winfo_exists():
                return
            if code in (0, 3):  # 3: the answer failed one of the action's checks, and says which
                popup.finish(popup.text.strip(), said if code else "Tried on the sample text.", flagged=code == 3)
            else:
                popup.fail(said or f"The action did not run (exit {code}).")
        self._ui.call_soon(finish)
