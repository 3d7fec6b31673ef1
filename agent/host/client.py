"""The daemon's side of one model host: spawn it, stream from it, restart it, close it.

`ModelHost` spawns the host process and hands out `Generation`s once a backend is loaded (a resident one
restarts into a warm standby process, host/standby.py). Its supervisor thread reads the pipe. When the
process ends, every request it held fails at once (HostCrashed, or HostGone after `close()`): no caller
ever waits on a host that is gone. An unexpected exit is followed by a restart; after `max_restarts`
crashes in a row on one backend (in a row: a host that finished an answer since it started resets the
count, so a daemon that runs for weeks does not give up over unrelated crashes) the chain moves past that
backend, whether the crash came while it answered or while it loaded. The host names each backend before
it probes and loads it (`Trying`), so a crash inside a driver's load is blamed on the right backend.

No wait is without a deadline. A host that has not honoured a cancel within CANCEL_SECONDS, or sent
nothing for SILENT_SECONDS while it answers (both in `host.generation`), or not counted tokens within
COUNT_TIMEOUT_SECONDS, is ended and restarted (a crash, for counting). A backend that has not loaded within
its deadline (with `Trying`, see `chain.load_deadline`) is passed over at once, with the reason. A request
answered DeviceLost ends its host (the host exits); the restarted host gets the backend again, and a
second loss before an answer passes it over.

Which host is the current one is not decided here: see `host.controller`.
"""

from __future__ import annotations

import dataclasses
import itertools
import multiprocessing
import queue
import threading
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from typing import Any, Literal, Protocol

from phitray import errors
from phitray.backends.base import BackendInfo, GenerationStats, Request
from phitray.backends.chain import ChainOptions, Decision
from phitray.children import start_child
from phitray.host.generation import Generation
from phitray.host.standby import Preloaded, Standby, preload_order
from phitray.host.messages import (
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
LOSSES_IN_A_ROW = 2  # device losses before an answer that pass a backend over

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


class ModelHost:
    def __init__(
        self,
        options: ChainOptions,
        paths: Paths,
        on_event: Callable[[HostEvent], None] = _ignore,
        max_restarts: int = 3,
        standby: bool = False,
    ) -> None:
        """`on_event` is called on this host's supervisor thread. `standby`: keep a warm process for restarts
        (host/standby.py), for a resident host; a one-answer host would only pay for it."""
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
        self._trying_model: str | None = None
        self._load_deadline: float | None = None  # when the backend loading now is passed over (monotonic)
        self._load_seconds = 0.0
        self._spawns = 0  # host processes started: a request's ending only ends the one it went to
        # Why the current process is ending, when it is not a plain crash: ended by us, or its device lost.
        self._ended: str | None = None
        self._lost: str | None = None  # what the host said of its lost device
        self._overdue: float | None = None  # the load deadline the backend missed
        self.skipped: tuple[tuple[str, str], ...] = ()  # backends passed over for crashing, with the reason
        self._thread: threading.Thread | None = None
        self.standby = Standby() if standby else None  # its pid and preloaded() are read by any thread
        self._spawned_with = options  # the options the current host process was started with
        self._quiet_since = time.monotonic()

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
        if self.standby is not None:
            self.standby.close()  # first: no standby starts after this
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
        spawn = self._send(Generate(request_id, request))
        return Generation(self, request_id, messages, spawn)

    def count_tokens(self, text: str) -> int:
        request_id, messages = self._open()
        spawn = -1
        try:
            spawn = self._send(CountTokens(request_id, text))
            message = messages.get(timeout=COUNT_TIMEOUT_SECONDS)
        except queue.Empty:
            self._abandon(spawn, f"it did not count tokens within {COUNT_TIMEOUT_SECONDS:g} s")
            raise errors.HostCrashed("The model did not answer a token count in time; it is being restarted.") \
                from None
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
        self._quiet_since = time.monotonic()

    def quiet_since(self) -> float | None:
        """Since when (monotonic) no request has run here; None while one does. Any thread."""
        return None if self._pending else self._quiet_since

    def _send(self, message: object) -> int:
        """Send `message` to the host process; returns that process's number (see `_abandon`)."""
        with self._lock:
            if self._connection is None:
                raise errors.HostCrashed("The model host is not running.")
            try:
                self._connection.send(message)
            except (OSError, ValueError) as error:
                raise errors.HostCrashed(f"The model host is not reachable: {error}") from error
            return self._spawns

    def _abandon(self, spawn: int, why: str) -> None:
        """End host process number `spawn`, which stopped answering (`why`); its supervisor restarts it,
        counting a crash. Any thread; a later process is left alone."""
        with self._lock:
            if spawn != self._spawns or self._process is None:
                return
            self._ended = self._ended or why
            self._settled.clear()  # new requests wait for the restarted host instead of meeting this one
            process = self._process
        process.kill()

    # --- the supervisor thread ----------------------------------------------------

    def _supervise(self) -> None:
        """Runs on the supervisor thread: one host process after another until close() or a final failure."""
        skip = list(self.options.skip)
        crashes = losses = 0
        while self._spawn(dataclasses.replace(self.options, skip=tuple(skip))):
            died = self._pump()
            if died is None or self._closing:
                break
            self._fail_pending(errors.HostCrashed(f"The model host stopped unexpectedly ({self._ended or died})."))
            blamed, while_loading = (self.info.backend_id, False) if self.info else (self._trying, True)
            self._settled.clear()
            self.info = None
            doing = "loading" if while_loading else "running"
            if self._overdue is not None and blamed is not None:  # no restart on a backend that hangs its load
                overdue = f"did not load within {self._overdue:g} s"
                if not self._pass_over(skip, blamed, f"it {overdue}", f"{blamed} {overdue}"):
                    break
                continue
            if self._lost is not None and blamed is not None:
                losses = 1 if self._answered else losses + 1
                if losses < LOSSES_IN_A_ROW:
                    self.on_event(HostEvent("crashed", self._lost))
                    continue
                losses = 0
                if not self._pass_over(skip, blamed, f"it lost its device {LOSSES_IN_A_ROW} times in a row",
                                       f"{blamed} keeps losing its device"):
                    break
                continue
            crashes = 1 if self._answered else crashes + 1
            self.on_event(HostEvent("crashed", f"the model host stopped ({self._ended or died}); restart {crashes}"))
            if crashes < self.max_restarts:
                continue
            crashes = 0
            if blamed is None:
                self._settle(None, f"The model host crashed {self.max_restarts} times in a row before it "
                                   "tried any backend; giving up.")
                self.on_event(HostEvent("load-failed", self.failure or ""))
                break
            if not self._pass_over(skip, blamed, f"the model host crashed {self.max_restarts} times in a row while "
                                                 f"{doing} it", f"{blamed} keeps crashing while {doing} the model"):
                break

    def _pass_over(self, skip: list[tuple[str, str]], blamed: str, reason: str, headline: str) -> bool:
        """Pass `blamed` over from now on, for `reason`; False (the host settled on a failure) when no backend
        of the chain is left. Supervisor thread."""
        skip.append((blamed, reason))
        self.skipped = tuple(skip)
        skipped = {backend_id for backend_id, _ in skip}
        remaining = [backend_id for backend_id in self.options.chain if backend_id not in skipped]
        if not remaining:
            self._settle(None, f"{headline}, and no backend is left to try.")
            self.on_event(HostEvent("load-failed", self.failure or ""))
            return False
        self.on_event(HostEvent("fallback", f"{headline}; trying {remaining[0]}"))
        return True

    def _spawn(self, options: ChainOptions) -> bool:
        """Start a host process; False (and nothing started) once close() has begun."""
        from phitray.host.server import host_main

        with self._lock:  # close() either sees this process or stops it from starting
            if self._closing:
                return False
            self._answered = False
            self._trying = self._trying_model = self._load_deadline = None
            self._ended = self._lost = self._overdue = None
            child = (self.standby.take(options, self.paths) if self.standby is not None else None) \
                or start_child("phitray-model-host", host_main, options, self.paths)
            self._process, self._connection = child.process, child.connection
            self._spawned_with = options
            self._spawns += 1
        return True

    def _pump(self) -> str | None:
        """Route the host's messages until it exits; returns why it died, or None if it ended on purpose."""
        connection, process = self._connection, self._process
        assert connection is not None and process is not None
        while True:
            try:
                if (deadline := self._load_deadline) is not None and \
                        not connection.poll(max(0.0, deadline - time.monotonic())):
                    self._overdue, self._load_deadline = self._load_seconds, None
                    process.kill()
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
                if (self._trying, self._trying_model) != (message.backend_id, message.model_id):
                    self.on_event(HostEvent("trying", f"trying {message.backend_id} for {message.model_id}"))
                self._trying, self._trying_model = message.backend_id, message.model_id
                self._load_seconds = message.seconds or 0.0
                self._load_deadline = None if message.seconds is None else time.monotonic() + message.seconds
            elif isinstance(message, Ready):
                self._load_deadline = None
                self.decisions = message.decisions
                self._settle(message.info, None)
                self.on_event(HostEvent("ready", f"{message.info.backend_id} · {message.info.model_id}", message.info))
                if self.standby is not None:  # the next restart's spawn and imports, paid while the model is idle
                    self._quiet_since = time.monotonic()
                    self.standby.start(self.options.chain, preload_order(message.info, self._spawned_with, self.paths),
                                       self.quiet_since)
            elif isinstance(message, Preloaded):
                pass  # a standby's word to its owner, here when it finished loading after it was taken
            elif isinstance(message, LoadFailed):
                self._load_deadline = None
                self.decisions = message.decisions
                self._settle(None, message.reason)
                self.on_event(HostEvent("load-failed", message.reason))
            else:
                if isinstance(message, Finished):
                    self._answered = True
                elif isinstance(message, Failed) and message.error_type == "DeviceLost":
                    self._lost = message.message  # the host exits after it: new requests wait for the next
                    self._settled.clear()
                target = self._pending.get(getattr(message, "request_id", -1))
                if target is not None:
                    target.put(message)

    def _settle(self, info: BackendInfo | None, failure: str | None) -> None:
        self.info, self.failure = info, failure
        self._settled.set()

    def _fail_pending(self, error: Exception) -> None:
        for messages in list(self._pending.values()):
            messages.put(error)
