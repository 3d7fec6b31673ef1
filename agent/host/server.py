"""The model host: a child process that owns one loaded backend and serves requests.

Started by `phitray.host.client.ModelHost` with the spawn method. Its main thread reads
the pipe (so a Cancel arrives while a generation runs); one generation thread
at a time streams chunks back. A crash here (driver fault, OOM kill) costs the
daemon nothing but a restart. It holds the person's text, so it leaves no core or
crash dump behind. A backend that loses its device answers its request DeviceLost
and the process ends, for the client to start a fresh one: a lost device does
not come back to the pipeline that held it.
"""

from __future__ import annotations

import dataclasses
import os
import threading
import time
from collections.abc import Callable
from multiprocessing.connection import Connection

from phitray import errors
from phitray.backends.base import Backend, BackendInfo, device_lost, first_line
from phitray.backends.catalog import generation_defaults
from phitray.backends.chain import ChainLoader, ChainOptions
from phitray.backends.store import ModelStore
from phitray.desktop.system import fill_missing_standard_streams, refuse_crash_dumps
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
DEVICE_LOST_EXIT = 75  # the code a host ends with after its device was lost (its last message says so)


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


class Sender:
    """Connection.send from two threads needs a lock: messages would interleave."""

    def __init__(self, connection: Connection) -> None:
        self._connection = connection
        self._lock = threading.Lock()

    def __call__(self, message: object) -> None:
        with self._lock:
            self._connection.send(message)


def _error_type(error: BaseException) -> str:
    return type(error).__name__ if isinstance(error, errors.PhiTrayError) else "BackendError"


def _failure(request_id: int, info: BackendInfo, error: BaseException) -> Failed:
    """The message a request's error becomes; DeviceLost when the library says its device went away."""
    if lost := device_lost(error):
        return Failed(request_id, "DeviceLost", f"{info.backend_id} lost its {info.device} ({lost}), as after a "
                                                "driver reset, update or resume; the model is restarting.")
    message = str(error) if isinstance(error, errors.PhiTrayError) else f"{info.backend_id}: {error}"
    return Failed(request_id, _error_type(error), message)


def _end_if_lost(final: object) -> None:
    """After a DeviceLost went out: end this process at once (unloading may hang on the lost device)."""
    if isinstance(final, Failed) and final.error_type == "DeviceLost":
        os._exit(DEVICE_LOST_EXIT)


def _generate(
    backend: Backend, info: BackendInfo, job: Generate, cancel: threading.Event, idle: threading.Event, send: Sender
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
            decoding=getattr(backend, "decoding_ran", "") or info.decoding_for(job.request.decoding),
        )
        final: object = Finished(job.request_id, stats)
    except Exception as error:
        final = _failure(job.request_id, info, error)
    idle.set()
    send(final)
    _end_if_lost(final)


def host_main(connection: Connection, options: ChainOptions, paths: Paths) -> None:
    """Entry point of the host process (its main thread)."""
    send = Sender(connection)
    loaded = load(send, options, paths)
    if loaded is not None:
        serve(connection, send, options, *loaded)


def load(send: Callable[[object], None], options: ChainOptions, paths: Paths) -> tuple[Backend, BackendInfo] | None:
    """Load the first backend of the chain that can, telling `send` how it goes (Trying, Status, then Ready or
    LoadFailed); None when none could. A standby loading in advance holds what it is told (standby.py)."""
    refuse_crash_dumps()  # before any text arrives
    # The daemon does not read this process's output; under pythonw it has none, and the first
    # download's tqdm progress bar would raise.
    fill_missing_standard_streams()
    loader = ChainLoader(options, ModelStore(paths.models_dir), lambda text: send(Status(text)),
                         lambda backend_id, model_id, seconds: send(Trying(backend_id, model_id, seconds)))
    try:
        backend, info = loader.load()
    except Exception as error:  # the chain turns library errors into ours; anything else still gets a reason
        reason = str(error) if isinstance(error, errors.PhiTrayError) else f"loading failed: {first_line(error)}"
        send(LoadFailed(reason, tuple(loader.decisions)))
        return None
    send(Ready(info, tuple(loader.decisions)))
    return backend, info


def serve(connection: Connection, send: Sender, options: ChainOptions, backend: Backend, info: BackendInfo) -> None:
    """Answer the daemon's requests with the loaded `backend` until it shuts the host down or is gone."""
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
                send(failed := _failure(message.request_id, info, error))
                _end_if_lost(failed)
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
