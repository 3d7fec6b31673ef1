"""One model download in a child process of its own, so the daemon never loads the download stack.

huggingface_hub, httpx and OpenSSL add about 30 MB to a process, and a process
keeps what it imports: pulled in the daemon, the first run's download would
cost the agent that memory until it next starts. The child pulls, sends its
byte counts and its end over a pipe, and stops at the next chunk when the
daemon sends anything down that pipe or goes away (the pipe closes).

Only the frozen messages below cross the pipe.
"""

from __future__ import annotations

import threading
from dataclasses import dataclass
from multiprocessing.connection import Connection
from pathlib import Path
from typing import Literal

EndKind = Literal["installed", "offline", "failed", "cancelled"]


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


def pull_in_child(connection: Connection, models_dir: Path, model_id: str, backend_id: str) -> None:
    """Entry point of the download process (its main thread runs the pull)."""
    from phitray.backends.pull import pull
    from phitray.backends.store import ModelStore
    from phitray.desktop.system import fill_missing_standard_streams
    from phitray.errors import OfflineError, PhiTrayError, PullCancelled

    fill_missing_standard_streams()
    cancel = threading.Event()
    sending = threading.Lock()

    def send(message: object) -> None:
        """Any thread of this process; a daemon that went away cancels the pull (its next chunk stops it)."""
        try:
            with sending:
                connection.send(message)
        except OSError:
            cancel.set()

    def watch() -> None:
        """The "pull-watch" thread: anything from the daemon, or its end, cancels the pull."""
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
