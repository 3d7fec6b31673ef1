"""The daemon's side of one model host: spawn it, stream from it, restart it, close it.

`ModelHost` spawns the host process and hands out `Generation`s once a backend
is loaded. Its supervisor thread reads the pipe. When the process ends, every
request it held fails at once (HostCrashed, or HostGone after `close()`): no
caller ever waits on a host that is gone. An unexpected exit is followed by a
restart; after `max_restarts` crashes in a row on one backend (in a row: a host
that finished an answer since it started resets the count, so a daemon that
runs for weeks does not give up over unrelated crashes) the chain moves past
that backend, whether the crash came while it answered or while it loaded.
The host names each backend before it probes and loads it (`Trying`), so a
crash inside a driver's load is blamed on the right backend.

Which host is the current one is not decided here: see `host.controller`.
"""

from __future__ import annotations

import dataclasses
import itertools
import multiprocessing
import queue
import threading
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from typing import Any, Literal, Protocol

from phitray import errors
from phitray.backends.base import BackendInfo, GenerationStats, Request
from phitray.backends.chain import ChainOptions, Decision
from phitray.children import start_child
from phitray.host.messages import (
    Cancel,
    Chunk,
    CountTokens,
    Failed,
    Finished,
    Generate,
    LoadFailed,
    Ready,
    Shutdown,
    Status,
    TokenCount,
    Trying,
)
from phitray.paths import Paths

COUNT_TIMEOUT_SECONDS = 30.0
SHUTDOWN_SECONDS = 5.0  # a ready host gets this long to unload before it is killed

HostEventKind = Literal["status", "trying", "ready", "load-failed", "crashed", "fallback"]


@dataclass(frozen=True)
class HostEvent:
    kind: HostEventKind
    text: str
    info: BackendInfo | None = None


class StreamedAnswer(Protocol):
    """One answer as it streams: iterate for text, then read `stats`; `cancel` from any thread."""

    @property
    def stats(self) -> GenerationStats | None: ...

    def __iter__(self) -> Iterator[str]: ...

    def cancel(self) -> None: ...


class Host(Protocol):
    """What the jobs thread asks of the current model host: a `ModelHost`, or a `ScriptedHost` (host/scripted.py)."""

    @property
    def info(self) -> BackendInfo | None: ...

    @property
    def failure(self) -> str | None: ...

    def generate(self, request: Request) -> StreamedAnswer: ...

    def count_tokens(self, text: str) -> int: ...


def _ignore(event: HostEvent) -> None:
    """Default event sink; called on the supervisor thread."""


_CANCEL = object()  # queued by Generation.cancel(): the iterating thread forwards it to the host


class Generation:
    """One streamed answer. Iterate for text chunks (on any one thread), then read `stats`."""

    def __init__(self, host: ModelHost, request_id: int, messages: queue.Queue[object]) -> None:
        self._host = host
        self.request_id = request_id
        self._messages = messages
        self.stats: GenerationStats | None = None

    def __iter__(self) -> Iterator[str]:
        try:
            while True:
                message = self._messages.get()
                if message is _CANCEL:
                    try:
                        self._host._send(Cancel(self.request_id))
                    except errors.HostError:
                        pass  # gone already: its end arrives as an error below
                elif isinstance(message, Chunk):
                    yield message.text
                elif isinstance(message, Finished):
                    self.stats = message.stats
                    return
                elif isinstance(message, Failed):
                    raise message.error()
                elif isinstance(message, BaseException):
                    raise message
        finally:
            self._host._forget(self.request_id)

    def text(self) -> str:
        return "".join(self)

    def cancel(self) -> None:
        """Ask the host to stop; the iterator then ends with stats.cancelled set.

        Any thread, and it never waits: the request is queued for the thread
        that iterates, which sends it down the pipe.
        """
        self._messages.put(_CANCEL)


class ModelHost:
    def __init__(
        self,
        options: ChainOptions,
        paths: Paths,
        on_event: Callable[[HostEvent], None] = _ignore,
        max_restarts: int = 3,
    ) -> None:
        """`on_event` is called on this host's supervisor thread."""
        self.options = options
        self.paths = paths
        self.on_event = on_event
        self.max_restarts = max_restarts
        self.info: BackendInfo | None = None
        self.decisions: tuple[Decision, ...] = ()
        self.failure: str | None = None
        self._process: multiprocessing.process.BaseProcess | None = None
        # A Connection on POSIX, a PipeConnection on Windows: both send() and recv().
        self._connection: Any = None
        self._lock = threading.Lock()  # guards _process, _connection, _closing and the pipe's send side
        self._pending: dict[int, queue.Queue[object]] = {}
        self._ids = itertools.count(1)
        self._settled = threading.Event()  # set on Ready or a final failure
        self._closing = False
        self._answered = False  # the current host process finished at least one answer
        self._trying: str | None = None  # the backend the host is probing or loading
        self.skipped: tuple[tuple[str, str], ...] = ()  # backends passed over for crashing, with the reason
        self._thread: threading.Thread | None = None

    # --- lifecycle -----------------------------------------------------------------

    def launch(self) -> None:
        """Spawn the host and return at once; events tell how the load goes. Any thread."""
        self._thread = threading.Thread(target=self._supervise, name="model-host-supervisor", daemon=True)
        self._thread.start()

    def start(self, timeout: float | None = None) -> BackendInfo:
        """Spawn the host and wait until a model is loaded. Raises NoBackendLoaded."""
        self.launch()
        if not self._settled.wait(timeout):
            raise errors.HostError(f"The model host did not load a model within {timeout} s.")
        if self.info is None:
            raise errors.NoBackendLoaded(self.failure or "The model host did not start.")
        return self.info

    def wait_ready(self, timeout: float | None = None) -> BackendInfo:
        """Block until a (re)started host has loaded a model. Any thread but the supervisor's."""
        if not self._settled.wait(timeout) or self.info is None:
            raise errors.HostError(self.failure or f"The model host is not ready after {timeout} s.")
        return self.info

    @property
    def pid(self) -> int | None:
        process = self._process
        return process.pid if process else None

    @property
    def alive(self) -> bool:
        process = self._process
        return process is not None and process.is_alive()

    def close(self) -> None:
        """End the host process and fail what it still held. Returns once the process is gone. Any thread."""
        with self._lock:
            self._closing = True
            process = self._process
            ready = self.info is not None
            if ready and self._connection is not None:
                try:
                    self._connection.send(Shutdown())
                except (OSError, ValueError):
                    pass
        if process is not None:
            # A loading host has nothing worth a clean exit, and a driver's compile does not read the pipe.
            process.join(timeout=SHUTDOWN_SECONDS if ready else 0)
            if process.is_alive():
                process.kill()
                process.join()
        self._fail_pending(errors.HostGone("The model was stopped (a switch of backend or model, or quit) "
                                           "before it finished."))
        if not self._settled.is_set():
            self._settle(None, "The model host was closed before it loaded a model.")
        if self._thread is not None and self._thread is not threading.current_thread():
            self._thread.join(timeout=SHUTDOWN_SECONDS)

    def __enter__(self) -> ModelHost:
        return self

    def __exit__(self, *exc_info: object) -> None:
        self.close()

    # --- requests ------------------------------------------------------------------

    def generate(self, request: Request) -> Generation:
        request_id, messages = self._open()
        self._send(Generate(request_id, request))
        return Generation(self, request_id, messages)

    def count_tokens(self, text: str) -> int:
        request_id, messages = self._open()
        try:
            self._send(CountTokens(request_id, text))
            message = messages.get(timeout=COUNT_TIMEOUT_SECONDS)
        except queue.Empty:
            raise errors.HostError("The model host did not answer a token count in time.") from None
        finally:
            self._forget(request_id)
        if isinstance(message, TokenCount):
            return message.tokens
        if isinstance(message, Failed):
            raise message.error()
        raise message if isinstance(message, BaseException) else errors.HostError(repr(message))

    def _open(self) -> tuple[int, queue.Queue[object]]:
        if self.info is None or not self._settled.is_set() or self._closing:
            raise errors.NotReady(self.failure or "The model is not loaded yet; try again in a moment.")
        request_id = next(self._ids)
        messages: queue.Queue[object] = queue.Queue()
        self._pending[request_id] = messages
        return request_id, messages

    def _forget(self, request_id: int) -> None:
        self._pending.pop(request_id, None)

    def _send(self, message: object) -> None:
        with self._lock:
            if self._connection is None:
                raise errors.HostCrashed("The model host is not running.")
            try:
                self._connection.send(message)
            except (OSError, ValueError) as error:
                raise errors.HostCrashed(f"The model host is not reachable: {error}") from error

    # --- the supervisor thread ----------------------------------------------------

    def _supervise(self) -> None:
        """Runs on the supervisor thread: one host process after another until close() or a final failure."""
        skip = list(self.options.skip)
        crashes = 0
        while self._spawn(dataclasses.replace(self.options, skip=tuple(skip))):
            died = self._pump()
            if died is None or self._closing:
                break
            self._fail_pending(errors.HostCrashed(f"The model host stopped unexpectedly ({died})."))
            blamed, while_loading = (self.info.backend_id, False) if self.info else (self._trying, True)
            crashes = 1 if self._answered else crashes + 1
            self._settled.clear()
            self.info = None
            self.on_event(HostEvent("crashed", f"the model host stopped ({died}); restart {crashes}"))
            if crashes < self.max_restarts:
                continue
            crashes = 0
            doing = "loading" if while_loading else "running"
            if blamed is None:
                self._settle(None, f"The model host crashed {self.max_restarts} times in a row before it "
                                   "tried any backend; giving up.")
                self.on_event(HostEvent("load-failed", self.failure or ""))
                break
            skip.append((blamed, f"the model host crashed {self.max_restarts} times in a row while {doing} it"))
            self.skipped = tuple(skip)
            skipped = {backend_id for backend_id, _ in skip}
            remaining = [backend_id for backend_id in self.options.chain if backend_id not in skipped]
            if not remaining:
                self._settle(None, f"{blamed} crashed the model host {self.max_restarts} times in a row while "
                                   f"{doing} it, and no backend is left to try.")
                self.on_event(HostEvent("load-failed", self.failure or ""))
                break
            self.on_event(HostEvent("fallback", f"{blamed} keeps crashing while {doing} the model; "
                                                f"trying {remaining[0]}"))

    def _spawn(self, options: ChainOptions) -> bool:
        """Start a host process; False (and nothing started) once close() has begun."""
        from phitray.host.server import host_main

        with self._lock:  # close() either sees this process or stops it from starting
            if self._closing:
                return False
            self._answered = False
            self._trying = None
            child = start_child("phitray-model-host", host_main, options, self.paths)
            self._process, self._connection = child.process, child.connection
        return True

    def _pump(self) -> str | None:
        """Route the host's messages until it exits; returns why it died, or None if it ended on purpose."""
        connection, process = self._connection, self._process
        assert connection is not None and process is not None
        while True:
            try:
                message = connection.recv()
            except (EOFError, OSError):
                process.join(timeout=SHUTDOWN_SECONDS)
                with self._lock:
                    self._connection = None
                if self._closing or self.failure is not None:
                    self._fail_pending(errors.HostGone("The model host ended before it finished."))
                    return None
                return f"exit code {process.exitcode}"
            if isinstance(message, Status):
                self.on_event(HostEvent("status", message.text))
            elif isinstance(message, Trying):
                self._trying = message.backend_id
                self.on_event(HostEvent("trying", f"trying {message.backend_id} for {message.model_id}"))
            elif isinstance(message, Ready):
                self.decisions = message.decisions
                self._settle(message.info, None)
                self.on_event(HostEvent("ready", f"{message.info.backend_id} · {message.info.model_id}", message.info))
            elif isinstance(message, LoadFailed):
                self.decisions = message.decisions
                self._settle(None, message.reason)
                self.on_event(HostEvent("load-failed", message.reason))
            else:
                if isinstance(message, Finished):
                    self._answered = True
                target = self._pending.get(getattr(message, "request_id", -1))
                if target is not None:
                    target.put(message)

    def _settle(self, info: BackendInfo | None, failure: str | None) -> None:
        self.info, self.failure = info, failure
        self._settled.set()

    def _fail_pending(self, error: Exception) -> None:
        for messages in list(self._pending.values()):
            messages.put(error)
