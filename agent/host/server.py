"""The model host: a child process that owns one loaded backend and serves requests.

Started by `phitray.host.client.ModelHost` with the spawn method. Its main thread reads
the pipe (so a Cancel arrives while a generation runs); one generation thread
at a time streams chunks back. A crash here (driver fault, OOM kill) costs the
daemon nothing but a restart.
"""

from __future__ import annotations

import dataclasses
import threading
import time
from collections.abc import Callable
from multiprocessing.connection import Connection

from phitray import errors
from phitray.backends.base import Backend, BackendInfo, first_line
from phitray.backends.catalog import generation_defaults
from phitray.backends.chain import ChainLoader, ChainOptions
from phitray.backends.store import ModelStore
from phitray.desktop.system import fill_missing_standard_streams
from phitray.paths import Paths
from phitray.host.messages import (
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
    Trying,
)


# At most one Chunk message per this interval. Each message costs the daemon (the pipe, the engine, a popup
# redraw) and the X server. Measured by bench/agent.py while a popup streams at 50-60 tokens/s, the daemon's
# share of a core taken from the model: 2.5 % at one message per 16 ms, 1.5 % per 50 ms, 0.6 % per 100 ms.
# Ten updates a second still read as a stream.
CHUNK_INTERVAL_SECONDS = 0.1


class Coalescer:
    """Streamed text, sent at most once per interval: the first piece at once, the rest batched.

    Text that arrives within the interval of the last send waits for the next piece or `flush`; no timer,
    so a held piece is late by at most one interval plus one token's time.
    """

    def __init__(self, send_text: Callable[[str], None], interval: float = CHUNK_INTERVAL_SECONDS) -> None:
        self._send_text = send_text
        self._interval = interval
        self._held: list[str] = []
        self._sent_at: float | None = None

    def add(self, text: str, now: float) -> None:
        self._held.append(text)
        if self._sent_at is None or now - self._sent_at >= self._interval:
            self._sent_at = now
            self.flush()

    def flush(self) -> None:
        if self._held:
            text, self._held = "".join(self._held), []
            self._send_text(text)


class _Sender:
    """Connection.send from two threads needs a lock: messages would interleave."""

    def __init__(self, connection: Connection) -> None:
        self._connection = connection
        self._lock = threading.Lock()

    def __call__(self, message: object) -> None:
        with self._lock:
            self._connection.send(message)


def _error_type(error: BaseException) -> str:
    return type(error).__name__ if isinstance(error, errors.PhiTrayError) else "BackendError"


def _generate(
    backend: Backend, info: BackendInfo, job: Generate, cancel: threading.Event, idle: threading.Event, send: _Sender
) -> None:
    """Runs on the host's generation thread, one request at a time.

    `idle` is set before the final message goes out, so the daemon's next
    request, sent as soon as it reads that message, never finds the host busy.
    """
    started = time.perf_counter()
    first = None
    parts = []
    chunks = Coalescer(lambda text: send(Chunk(job.request_id, text)))
    try:
        for text in backend.stream(job.request, cancel):
            now = time.perf_counter()
            if first is None:
                first = now
            parts.append(text)
            chunks.add(text, now)
        chunks.flush()
        ended = time.perf_counter()
        answer = "".join(parts)
        tokens = backend.count_tokens(answer) if answer else 0
        stats = GenerationStats(
            ttft_seconds=(first or ended) - started,
            seconds=ended - started,
            tokens=tokens,
            cancelled=cancel.is_set(),
            decoding=info.decoding_for(job.request.decoding),
        )
        final: object = Finished(job.request_id, stats)
    except Exception as error:
        message = str(error) if isinstance(error, errors.PhiTrayError) else f"{info.backend_id}: {error}"
        final = Failed(job.request_id, _error_type(error), message)
    idle.set()
    send(final)


def host_main(connection: Connection, options: ChainOptions, paths: Paths) -> None:
    """Entry point of the host process (its main thread)."""
    # The daemon does not read this process's output; under pythonw it has none, and the first
    # download's tqdm progress bar would raise.
    fill_missing_standard_streams()
    send = _Sender(connection)
    loader = ChainLoader(options, ModelStore(paths.models_dir), lambda text: send(Status(text)),
                         lambda backend_id, model_id: send(Trying(backend_id, model_id)))
    try:
        backend, info = loader.load()
    except Exception as error:  # the chain turns library errors into ours; anything else still gets a reason
        reason = str(error) if isinstance(error, errors.PhiTrayError) else f"loading failed: {first_line(error)}"
        send(LoadFailed(reason, tuple(loader.decisions)))
        return
    send(Ready(info, tuple(loader.decisions)))
    tuning = tuple({**generation_defaults(info.model_id), **dict(options.generation)}.items())

    worker: threading.Thread | None = None
    idle = threading.Event()
    idle.set()
    cancels: dict[int, threading.Event] = {}
    while True:
        try:
            message = connection.recv()
        except (EOFError, OSError):
            break  # the daemon is gone: nobody to answer
        if isinstance(message, Shutdown):
            break
        if isinstance(message, Cancel):
            if message.request_id in cancels:
                cancels[message.request_id].set()
        elif isinstance(message, CountTokens):
            try:
                send(TokenCount(message.request_id, backend.count_tokens(message.text)))
            except Exception as error:
                send(Failed(message.request_id, _error_type(error), str(error)))
        elif isinstance(message, Generate):
            if not idle.is_set():
                send(Failed(message.request_id, "HostError", "The model is busy with another request."))
                continue
            cancels.clear()
            cancel = cancels[message.request_id] = threading.Event()
            idle.clear()
            if tuning and not message.request.tuning:
                message = dataclasses.replace(message, request=dataclasses.replace(message.request, tuning=tuning))
            worker = threading.Thread(
                target=_generate, args=(backend, info, message, cancel, idle, send), name="host-generate", daemon=True
            )
            worker.start()
    for event in cancels.values():
        event.set()
    if worker is not None:
        worker.join(timeout=5)
    backend.unload()
