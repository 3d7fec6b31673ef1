"""Model downloads, the first run's and the settings window's: each pull in a child process of its own.

huggingface_hub, httpx and OpenSSL add about 30 MB to a process, and a process
keeps what it imports: pulled in the agent (or in the settings window's
process), a download would cost it that memory until it next starts. So the
download stack loads only in children: `pull_in_child` pulls and sends its
byte counts and its end over the pipe, and stops at the next chunk when the
parent sends anything down that pipe or goes away; `download_sizes` asks the
hub what the catalog's downloads weigh. In the parent a `Download` watches one
pull from its "download-watch" thread, and every download ends with one
milestone, "download-ended" {model_id, backend_id, outcome, by}.

Only the frozen messages below cross the pipe.
"""

from __future__ import annotations

import logging
import shutil
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass
from multiprocessing.connection import Connection
from pathlib import Path
from typing import Literal

from phitray.backends.catalog import CATALOG
from phitray.backends.download_meter import DownloadMeter, DownloadStatus
from phitray.backends.store import PARTIAL, ModelStore
from phitray.children import Child, start_child
from phitray.logs import milestone

log = logging.getLogger(__name__)
PROGRESS_INTERVAL_SECONDS = 0.5  # progress is handed on at most this often while bytes arrive

EndKind = Literal["installed", "offline", "failed", "cancelled"]
# "stopped": the person stopped it (the tray's Stop downloading, the window's Cancel); "cancelled": the agent quit.
OutcomeKind = Literal["installed", "offline", "failed", "stopped", "cancelled"]
StartedBy = Literal["first-run", "settings"]


# --- the pipe's messages -------------------------------------------------------------------------


@dataclass(frozen=True)
class PulledBytes:
    done: int
    total: int | None


@dataclass(frozen=True)
class PullStep:
    text: str


@dataclass(frozen=True)
class PullEnded:
    kind: EndKind
    message: str = ""


# --- the children's side -------------------------------------------------------------------------


def pull_in_child(connection: Connection, models_dir: Path, model_id: str, backend_id: str) -> None:
    """Entry point of the "phitray-download" process (its main thread runs the pull)."""
    from phitray.backends.pull import pull
    from phitray.errors import OfflineError, PhiTrayError, PullCancelled

    cancel = threading.Event()
    sending = threading.Lock()

    def send(message: object) -> None:
        """Any thread of this process; a parent that went away cancels the pull (its next chunk stops it)."""
        try:
            with sending:
                connection.send(message)
        except OSError:
            cancel.set()

    def watch() -> None:
        """The "pull-watch" thread: anything from the parent, or its end, cancels the pull."""
        try:
            connection.recv()
        except (EOFError, OSError):
            pass
        cancel.set()

    threading.Thread(target=watch, name="pull-watch", daemon=True).start()
    try:
        model = pull(ModelStore(models_dir), model_id, backend_id, lambda text: send(PullStep(text)), cancel=cancel,
                     on_bytes=lambda done, total: send(PulledBytes(done, total)))
        model.verify()
        ended = PullEnded("installed")
    except PullCancelled:
        ended = PullEnded("cancelled")
    except OfflineError as error:
        ended = PullEnded("offline", str(error))
    except PhiTrayError as error:
        ended = PullEnded("failed", str(error))
    except Exception as error:  # a library's own fault (disk full inside huggingface_hub…) is still one sentence
        ended = PullEnded("failed", f"{type(error).__name__}: {error}.")
    send(ended)


def download_sizes() -> dict[tuple[str, str], int | None]:
    """Run in a "phitray-sizes" process: the bytes each catalog entry's pull fetches (None: nobody can say),
    keyed by (model id, backend id). Asks the hub, a few seconds at most per entry."""
    from phitray.backends.pull import download_size

    return {(model_id, backend_id): download_size(model_id, backend_id)
            for model_id, model in CATALOG.items() for backend_id in model.sources}


# --- the parent's side ---------------------------------------------------------------------------


@dataclass(frozen=True)
class DownloadOutcome:
    kind: OutcomeKind
    model_id: str
    backend_id: str
    message: str = ""


class Download:
    """One model pulled in a "phitray-download" child, watched from its own "download-watch" thread, which
    hands on throttled progress and the end.

    `on_progress(status)` and `on_done(outcome)` are called on that thread and must not block (the
    daemon passes them to the Tk thread with `UiQueue.call_soon`). `by` says who started it, for the
    "download-ended" milestone.
    """

    def __init__(self, store: ModelStore, model_id: str, backend_id: str, by: StartedBy,
                 on_progress: Callable[[DownloadStatus], None], on_done: Callable[[DownloadOutcome], None],
                 clock: Callable[[], float] = time.monotonic) -> None:
        self.store, self.model_id, self.backend_id, self.by = store, model_id, backend_id, by
        self.on_progress, self.on_done, self.clock = on_progress, on_done, clock
        self.stopped_by_person = False
        self.thread = threading.Thread(target=self._watch, name="download-watch", daemon=True)
        self.child: Child | None = None
        self._not_started = ""
        self._sending = threading.Lock()

    def start(self) -> None:
        """Start the child and its watching thread; a child that cannot start ends the download "failed"."""
        try:
            self.child = start_child("phitray-download", pull_in_child, self.store.root, self.model_id,
                                     self.backend_id)
        except OSError as error:
            self._not_started = f"The download process could not start: {error}"
        self.thread.start()

    def cancel(self, wait_seconds: float = 0, by_person: bool = False) -> None:
        """Stop at the next chunk; nothing half-written stays. Any thread; waits at most `wait_seconds`
        for the download to clean up (quitting waits a little, and then ends the child and removes its
        staging folder itself). `by_person`: the person stopped it, so it ends "stopped"."""
        self.stopped_by_person = self.stopped_by_person or by_person
        child = self.child
        if child is None:
            return
        try:
            with self._sending:
                child.connection.send("cancel")
        except OSError:
            pass  # it has ended already
        if wait_seconds and self.thread.is_alive():
            self.thread.join(wait_seconds)
            if child.process.is_alive():
                child.process.kill()
                child.process.join(5)
                folder = CATALOG[self.model_id].source_for(self.backend_id).folder
                shutil.rmtree(self.store.root / PARTIAL / self.model_id / folder, ignore_errors=True)

    def _watch(self) -> None:
        """The "download-watch" thread: the child's messages until it ends, then the end handed on."""
        ended = self._follow(self.child) if self.child is not None else PullEnded("failed", self._not_started)
        kind: OutcomeKind = "stopped" if ended.kind == "cancelled" and self.stopped_by_person else ended.kind
        outcome = DownloadOutcome(kind, self.model_id, self.backend_id, ended.message)
        if outcome.message:
            log.info("download of %s for %s: %s", self.model_id, self.backend_id, outcome.message)
        milestone("download-ended", model_id=self.model_id, backend_id=self.backend_id, outcome=kind, by=self.by)
        self.on_done(outcome)

    def _follow(self, child: Child) -> PullEnded:
        """The "download-watch" thread: progress handed on as it comes, until the child says how it ended."""
        meter = DownloadMeter(self.clock)
        shown_at = float("-inf")
        ended = PullEnded("failed", "The download process ended before it said how the download went.")
        while True:
            try:
                message = child.connection.recv()
            except (EOFError, OSError):
                break
            if isinstance(message, PulledBytes):
                status = meter.update(message.done, message.total)
                now = self.clock()
                if now - shown_at >= PROGRESS_INTERVAL_SECONDS or (message.total is not None
                                                                   and message.done >= message.total):
                    shown_at = now
                    self.on_progress(status)
            elif isinstance(message, PullStep):
                log.info("download of %s for %s: %s", self.model_id, self.backend_id, message.text)
            elif isinstance(message, PullEnded):
                ended = message
                break
        child.process.join(10)
        return ended


def start_download(model_id: str, backend_id: str, on_bytes: Callable[[int, int | None], None],
                   on_end: Callable[[bool, str], None], models_dir: Path) -> Callable[[], None]:
    """The settings window's Download (its `SettingsHost.start_download`, in the agent and without one):
    `on_bytes(done, total)` as bytes arrive, then `on_end(failed, sentence)` once, both on the
    download's "download-watch" thread. Returns what cancels it; nothing half-written is kept."""

    def progress(status: DownloadStatus) -> None:
        """The "download-watch" thread."""
        on_bytes(status.done_bytes, status.total_bytes)

    def done(outcome: DownloadOutcome) -> None:
        """The "download-watch" thread, once."""
        if outcome.kind == "installed":
            on_end(False, f"{model_id} for {backend_id} is installed.")
        elif outcome.kind in ("cancelled", "stopped"):
            on_end(True, f"Download of {model_id} cancelled; nothing of it was kept.")
        else:
            on_end(True, outcome.message or f"{model_id} was not downloaded.")

    download = Download(ModelStore(models_dir), model_id, backend_id, "settings", progress, done)
    download.start()
    return lambda: download.cancel(by_person=True)
