"""Try in the standalone settings window: the draft action runs as `phitray act` in a "phitray-try"
child process, its answer streamed into a result popup.

The draft is not saved: it is written to a folder of its own that the child
reads as its actions folder, and removed when the run ends. The child loads the
model the settings name (the chain, the model, no download unless allowed).
The sample text goes to the child down its pipe, never on its command line
(which other users can read); what the child says on stderr can quote it, so
the log gets that only with the settings' log.include_text on. The reader
thread ("settings-try") reaches Tk only through `UiQueue.call_soon`.
"""

from __future__ import annotations

import functools
import io
import logging
import os
import shutil
import sys
import tempfile
import threading
import tkinter
from dataclasses import dataclass
from multiprocessing.connection import Connection
from pathlib import Path

from phitray.actions.model import Action
from phitray.children import Child, start_child
from phitray.logs import milestone
from phitray.paths import Paths
from phitray.settings import Settings
from phitray.settings_file import current_settings
from phitray.ui.popup import PopupCommands, ResultPopup
from phitray.ui.uiqueue import UiQueue

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class TryEnded:
    """The child's last message: `phitray act`'s exit code and what it wrote to stderr."""

    code: int
    said: str


def start_try(paths: Paths, folder: Path, action_id: str, text: str, settings: Settings) -> Child:
    """A "phitray-try" child running `phitray act` with `folder` as its config folder (the draft action is
    in its actions folder) on `text`, which goes down the pipe. It sends the answer's pieces (str) as they
    stream, then a TryEnded. It starts a model host of its own, so it is not daemonic: end it yourself."""
    argv = ["act", action_id, "--quiet", "--backend", ",".join(settings.chain), "--model", settings.model_id,
            *([] if settings.allow_pull else ["--no-pull"])]
    environment = {"PHITRAY_CONFIG_DIR": str(folder), "PHITRAY_DATA_DIR": str(paths.data_dir),
                   "PHITRAY_CACHE_DIR": str(paths.cache_dir), "PHITRAY_LOG_DIR": str(folder / "log")}
    child = start_child("phitray-try", act_in_child, argv, environment, daemon=False)
    child.connection.send(text)
    return child


class _PipeOut(io.TextIOBase):
    """The child's stdout: each write is one message to the parent."""

    def __init__(self, connection: Connection) -> None:
        self._connection = connection

    def writable(self) -> bool:
        return True

    def write(self, text: str) -> int:
        if text:
            self._connection.send(text)
        return len(text)


def act_in_child(connection: Connection, argv: list[str], environment: dict[str, str]) -> None:
    """Entry point of the "phitray-try" process (its main thread): `phitray act` on the text sent first,
    with stdin that text, stdout the pipe and stderr kept for the TryEnded."""
    from phitray.cli.main import main

    os.environ.update(environment)
    text = connection.recv()
    said = io.StringIO()
    sys.stdin, sys.stdout, sys.stderr = io.StringIO(text), _PipeOut(connection), said
    try:
        code = main(argv)
    except SystemExit as exit:  # argparse's refusal of the arguments
        code = exit.code if isinstance(exit.code, int) else 2
    connection.send(TryEnded(code, said.getvalue()))


class TryInChild:
    """One Try at a time, each with its popup. Every method but `_read` runs on the Tk thread."""

    def __init__(self, root: tkinter.Tk, ui: UiQueue, paths: Paths) -> None:
        self._root, self._ui, self._paths = root, ui, paths
        self._child: Child | None = None

    def run(self, action: Action, text: str, file_text: str) -> str:
        """Start the child; "" once it runs, or why it does not."""
        if self._child is not None and self._child.process.is_alive():
            return "A Try is still running; close its popup first."
        settings = current_settings(self._paths.settings_file)
        folder = Path(tempfile.mkdtemp(prefix="phitray-try-"))
        (folder / "actions").mkdir()
        (folder / "actions" / f"{action.id}.toml").write_text(file_text, encoding="utf-8")
        try:
            child = start_try(self._paths, folder, action.id, text, settings)
        except OSError as error:
            shutil.rmtree(folder, ignore_errors=True)
            return f"Try could not start: {error}"
        self._child = child

        def copy(answer: str) -> None:
            """Tk thread: the popup's Copy."""
            self._root.clipboard_clear()
            self._root.clipboard_append(answer)

        def retry() -> None:
            """Tk thread: the popup's Retry."""
            self.run(action, text, file_text)

        commands = PopupCommands(copy=copy, replace=lambda answer: None, retry=retry, cancel=child.process.kill)
        popup = ResultPopup(self._root, action.title, commands, can_replace=False)
        threading.Thread(target=self._read, args=(child, popup, folder, settings.log_text), name="settings-try",
                         daemon=True).start()
        return ""

    def close(self) -> None:
        """The window is closing: a Try still running ends with it (its model host follows when its pipe closes)."""
        if self._child is not None and self._child.process.is_alive():
            self._child.process.kill()
            self._child.process.join(5)

    def _read(self, child: Child, popup: ResultPopup, folder: Path, log_text: bool) -> None:
        """The "settings-try" thread: the child's answer as it streams, then how it ended."""
        def show(chunk: str) -> None:
            """Tk thread: a piece of the answer."""
            if popup.streaming:
                popup.append(chunk)

        ended: TryEnded | None = None
        while ended is None:
            try:
                message = child.connection.recv()
            except (EOFError, OSError):  # killed (the popup's Cancel), or it died
                break
            if isinstance(message, TryEnded):
                ended = message
            else:
                self._ui.call_soon(functools.partial(show, message))
        child.connection.close()
        child.process.join()
        shutil.rmtree(folder, ignore_errors=True)
        code = ended.code if ended is not None else child.process.exitcode or 1
        said = ended.said.replace("phitray: ", "").strip() if ended is not None else ""

        def finish() -> None:
            """Tk thread: the answer as it ended, with what the child said about it."""
            # What the child said can quote the sample text (a failed check's reason, say).
            log.info("Try ended (exit %d, %d characters of answer)%s", code, len(popup.text),
                     f": {said}" if said and log_text else "")
            milestone("try-ended", exit=code, answer_chars=len(popup.text))
            if not popup.window.winfo_exists():
                return
            if code in (0, 3):  # 3: the answer failed one of the action's checks, and says which
                popup.finish(popup.text.strip(), said if code else "Tried on the sample text.", flagged=code == 3)
            else:
                popup.fail(said or f"The action did not run (exit {code}).")
        self._ui.call_soon(finish)
