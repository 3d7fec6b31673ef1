"""The daemon's side of the model host: start it, stream from it, restart it.

`ModelHost` spawns the host process, waits until a backend is loaded, and
hands out `Generation`s. A supervisor thread reads the pipe; when the process
dies it fails the request in flight with HostCrashed, reports it, and starts a
new one. After `max_restarts` crashes in a row on one backend (with no answer
finished in between: a daemon that runs for weeks must not give up over three
unrelated crashes) it moves on to
the next backend of the chain.
"""

from __future__ import annotations

import dataclasses
import itertools
import multiprocessing
import queue
import threading
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from typing import Any

from phitray import errors
from phitray.backends.base import BackendInfo, Request
from phitray.backends.chain import ChainOptions, Decision
from phitray.paths import Paths
from phitray.protocol import (
    Cancel,
    Chunk,
    CountTokens,
    Failed,
    Finished,
    Generate,
    GenerationStats,
    LoadFailed,
    Ready,
    Shutdown,
    Status,
    TokenCount,
)

COUNT_TIMEOUT_SECONDS = 30.0


@dataclass(frozen=True)
class HostEvent:
    kind: str  # "status" | "ready" | "load-failed" | "crashed" | "fallback"
    text: str
    info: BackendInfo | None = None


def _ignore(event: HostEvent) -> None:
    """Default event sink; called on the supervisor thread."""


class Generation:
    """One streamed answer. Iterate for text chunks (on any one thread), then read `stats`."""

    def __init__(self, host: "ModelHost", request_id: int, messages: "queue.Queue[object]") -> None:
        self._host = host
        self.request_id = request_id
        self._messages = messages
        self.stats: GenerationStats | None = None

    def __iter__(self) -> Iterator[str]:
        try:
            while True:
                message = self._messages.get()
                if isinstance(message, Chunk):
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
        """Ask the host to stop; the iterator then ends with stats.cancelled set. Any thread."""
        self._host._send(Cancel(self.request_id))


class ModelHost:
    def __init__(
        self,
        options: ChainOptions,
        paths: Paths,
        on_event: Callable[[HostEvent], None] = _ignore,
        max_restarts: int = 3,
    ) -> None:
        self.options = options
        self.paths = paths
        self.on_event = on_event
        self.max_restarts = max_restarts
        self.info: BackendInfo | None = None
        self.decisions: tuple[Decision, ...] = ()
        self.failure: str | None = None
        self._context = multiprocessing.get_context("spawn")
        self._process: multiprocessing.process.BaseProcess | None = None
        # A Connection on POSIX, a PipeConnection on Windows: both send() and recv().
        self._connection: Any = None
        self._send_lock = threading.Lock()
        self._pending: dict[int, queue.Queue[object]] = {}
        self._ids = itertools.count(1)
        self._settled = threading.Event()  # set on Ready or a final failure
        self._closing = False
        self._answered = False  # the current host process finished at least one answer
        self._thread: threading.Thread | None = None

    # --- lifecycle -----------------------------------------------------------------

    def start(self, timeout: float | None = None) -> BackendInfo:
        """Spawn the host and wait until a model is loaded. Raises NoBackendLoaded."""
        self._thread = threading.Thread(target=self._supervise, name="model-host-supervisor", daemon=True)
        self._thread.start()
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
        return self._process.pid if self._process else None

    def close(self) -> None:
        self._closing = True
        try:
            self._send(Shutdown())
        except errors.HostError:
            pass
        if self._process is not None:
            self._process.join(timeout=10)
            if self._process.is_alive():
                self._process.kill()
        if self._thread is not None:
            self._thread.join(timeout=5)

    def __enter__(self) -> "ModelHost":
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

    def _open(self) -> tuple[int, "queue.Queue[object]"]:
        if self.info is None or not self._settled.is_set():
            raise errors.HostError(self.failure or "The model is not loaded yet.")
        request_id = next(self._ids)
        messages: queue.Queue[object] = queue.Queue()
        self._pending[request_id] = messages
        return request_id, messages

    def _forget(self, request_id: int) -> None:
        self._pending.pop(request_id, None)

    def _send(self, message: object) -> None:
        with self._send_lock:
            if self._connection is None:
                raise errors.HostError("The model host is not running.")
            try:
                self._connection.send(message)
            except (OSError, ValueError) as error:
                raise errors.HostCrashed(f"The model host is not reachable: {error}") from error

    # --- the supervisor thread ----------------------------------------------------

    def _supervise(self) -> None:
        """Runs on the supervisor thread: one host process after another until close()."""
        options = self.options
        crashes = 0
        while not self._closing:
            self._spawn(options)
            crashed_during = self._pump()
            if self._closing or crashed_during is None:
                break
            self._fail_pending(errors.HostCrashed(f"The model host stopped unexpectedly ({crashed_during})."))
            # "In a row": a host that finished an answer since it started resets the count.
            crashes = 1 if self._answered else crashes + 1
            backend_id = self.info.backend_id if self.info else None
            self.on_event(HostEvent("crashed", f"the model host stopped ({crashed_during}); restart {crashes}"))
            if crashes >= self.max_restarts:
                crashes = 0
                remaining = options.chain[options.chain.index(backend_id) + 1 :] if backend_id else ()
                if not remaining:
                    self._settle(None, f"The model host crashed {self.max_restarts} times in a row; giving up.")
                    break
                options = dataclasses.replace(options, chain=remaining)
                self.on_event(HostEvent("fallback", f"{backend_id} keeps crashing; trying {remaining[0]}"))
            self._settled.clear()
            self.info = None

    def _spawn(self, options: ChainOptions) -> None:
        from phitray.host import host_main

        self._answered = False
        parent_end, child_end = self._context.Pipe()
        process = self._context.Process(
            target=host_main, args=(child_end, options, self.paths), name="phitray-model-host", daemon=True
        )
        process.start()
        child_end.close()  # so that our recv() sees EOF when the child dies
        with self._send_lock:
            self._process, self._connection = process, parent_end

    def _pump(self) -> str | None:
        """Route the host's messages until it exits; returns why it died, or None if it ended on purpose."""
        assert self._connection is not None and self._process is not None
        while True:
            try:
                message = self._connection.recv()
            except (EOFError, OSError):
                self._process.join(timeout=5)
                with self._send_lock:
                    self._connection = None
                if self._closing or self.failure is not None:
                    return None
                return f"exit code {self._process.exitcode}"
            if isinstance(message, Status):
                self.on_event(HostEvent("status", message.text))
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
