"""A warm standby for the model host: a spawned interpreter, its imports done, waiting for one load order.

A host restart (a crash, a lost device, a host that stopped answering) used to start from nothing: a
spawn, the host's own imports and the inference library's (about 0.35 s of the starter's 2.6 s restart
on a 2-core CPU, bench/host_restart.py). The standby pays that while the model is idle: its `ModelHost`
(the one owner) starts it once its host is ready, and hands it the next load order instead of spawning.
It holds no text, and ends on its own when its pipe closes: at the owner's close(), or when the daemon is
gone (even killed), since it only waits on that pipe. Spawned like every child (children.py), so it works
the same under Windows' spawn.

Most standbys hold no model either (about 60 MB, the libraries) and probe no device: a probe made before a
driver reset would be stale after it. A standby sent a `Preload` loads the host's model as well, and on
the order for the same model only says so and serves: for a CPU load, which compiles from nothing every
time (the CPU plugin refuses its own cached paged-attention blob, see backends/openvino.py) and is most of
a restart, when a second copy of the model costs little of the memory free (`preload_fits`). The owner
sends it once its host has had no request for PRELOAD_AFTER_SECONDS: the compile takes a core for a few
seconds, and the person's answers come first.
"""

from __future__ import annotations

import importlib
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from phitray.backends.chain import ChainOptions
from phitray.children import Child, start_child
from phitray.paths import Paths

if TYPE_CHECKING:
    from phitray.backends.base import Backend, BackendInfo

NAME = "phitray-model-standby"
HOST_NAME = "phitray-model-host"  # what a standby is called once it is the host
# The libraries each backend imports at its probe and load; imported in advance, nothing in them is called.
LIBRARIES = {"openvino-npu": ("openvino", "openvino_genai"), "openvino-gpu": ("openvino", "openvino_genai"),
             "openvino-cpu": ("openvino", "openvino_genai"), "directml": ("onnxruntime_genai",),
             "onnx-cpu": ("onnxruntime_genai",), "npu-legacy": ()}

# Backends whose every load compiles the model from nothing, so that a loaded standby saves most of a restart.
PRELOADED_BACKENDS = frozenset({"openvino-cpu"})
# Of a host with no request: a load takes a core for a few seconds (a restart before takes over the standby as
# it is, libraries only).
PRELOAD_AFTER_SECONDS = 60.0
# What a loaded standby holds, from the model's files: the starter's 98 MB file made a 400 MB process
# (64 MB of it libraries, the rest the compiled model and the first answer's cache), bench/host_restart.py.
RESIDENT_PER_FILE_BYTE = 4
LIBRARY_BYTES = 64 << 20
MEMORY_SHARE = 8  # a loaded standby may take at most this fraction (1/8) of the memory available


def preload_fits(model_bytes: int, available: int | None) -> bool:
    """Whether a second copy of a model whose files hold `model_bytes` fits in the memory available."""
    return available is not None and RESIDENT_PER_FILE_BYTE * model_bytes + LIBRARY_BYTES <= available // MEMORY_SHARE


@dataclass(frozen=True)
class LoadOrder:
    """Become the model host for `options` (sent once, down the standby's pipe)."""

    options: ChainOptions
    paths: Paths


def preload_order(info: BackendInfo, options: ChainOptions, paths: Paths) -> LoadOrder | None:
    """What the standby of a host just ready with `info` (started with `options`) should load in advance, if
    anything: that model, where its load compiles from nothing and a second copy fits."""
    from phitray.backends.store import ModelStore
    from phitray.desktop.system import memory_available

    if info.backend_id not in PRELOADED_BACKENDS:
        return None
    try:
        model = ModelStore(paths.models_dir).find(info.model_id, info.backend_id)
        size = model.size_bytes if model is not None else None
    except (OSError, ValueError):  # a store that cannot be read now: a standby without the model, not a failure
        size = None
    if size is None or not preload_fits(size, memory_available()):
        return None
    return LoadOrder(options, paths)  # the next restart's order, if nothing changes meanwhile


@dataclass(frozen=True)
class Preload:
    """Load `order`'s model now and hold it (sent at most once, before any LoadOrder)."""

    order: LoadOrder


@dataclass(frozen=True)
class Preloaded:
    """The standby's only message before its order: it has loaded the model (or could not, `ready` False)."""

    ready: bool


def standby_main(connection: Any, chain: tuple[str, ...]) -> None:
    """The standby process's main thread: the host's imports, the model if a `Preload` comes first, then one
    load order, then the host's loop."""
    from phitray.host.server import Sender, host_main, serve

    for backend_id in chain:
        for library in LIBRARIES.get(backend_id, ()):
            try:
                importlib.import_module(library)
            except Exception:  # not installed, or broken: the host's probe says so when it gets there
                pass
    held: list[object] = []  # what the load said, said again once it is the host
    loaded = preload = None
    try:
        order = connection.recv()
        if isinstance(order, Preload):
            preload = order.order
            loaded = _preload(preload, held)
            connection.send(Preloaded(loaded is not None))
            order = connection.recv()
    except (EOFError, OSError):
        return  # closed by its owner, or the daemon is gone
    if not isinstance(order, LoadOrder):
        return
    if loaded is not None and order == preload:
        send = Sender(connection)
        for message in held:
            send(message)
        serve(connection, send, order.options, *loaded)
        return
    if loaded is not None:
        loaded[0].unload()  # another model by now, or another chain
    host_main(connection, order.options, order.paths)


def _preload(order: LoadOrder, held: list[object]) -> tuple[Backend, BackendInfo] | None:
    from phitray.desktop.system import background_work
    from phitray.host.messages import Status
    from phitray.host.server import load

    held.append(Status("the standby had loaded the model in advance"))
    with background_work():  # the person's programs first, where the platform has a way to say so
        return load(held.append, order.options, order.paths)


class Standby:
    """At most one warm standby process, owned by one `ModelHost`. Any thread."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._child: Child | None = None
        self._closed = False
        self._preloaded = False
        self.preload_after = PRELOAD_AFTER_SECONDS  # set before start(): tests and the bench wait less
        self._changed = threading.Event()  # set when the child is taken or closed: its preload thread ends

    @property
    def pid(self) -> int | None:
        child = self._child
        return child.process.pid if child is not None else None

    def start(self, chain: tuple[str, ...], preload: LoadOrder | None = None,
              quiet_since: Callable[[], float | None] | None = None) -> None:
        """Start a standby for `chain`, unless one is alive or close() has begun, and send it `preload` once
        `quiet_since()` (the monotonic time since when its host has had no request, None while one runs; by
        default since now) is `preload_after` seconds past. Returns at once; a standby that cannot be started is only a slower restart."""
        with self._lock:
            if self._closed or (self._child is not None and self._child.process.is_alive()):
                return
            self._end(self._child)
            try:
                self._child = child = start_child(NAME, standby_main, chain)
                self._preloaded = False
            except (OSError, ValueError):
                self._child = None
                return
            self._changed.set()  # the last child's preload thread, if still waiting, ends
            self._changed = threading.Event()
        if preload is not None:
            started = time.monotonic()
            quiet = quiet_since or (lambda: started)
            threading.Thread(target=self._send_when_quiet, args=(child, Preload(preload), quiet, self._changed),
                             name="standby-preload", daemon=True).start()

    def _send_when_quiet(self, child: Child, preload: Preload, quiet_since: Callable[[], float | None],
                         changed: threading.Event) -> None:
        """The standby-preload thread: `preload` down `child`'s pipe once its host has been quiet long enough;
        nothing once the child is taken or closed."""
        while True:
            since = quiet_since()
            wait = self.preload_after if since is None else since + self.preload_after - time.monotonic()
            if wait <= 0:
                break
            if changed.wait(min(wait, 1.0)):
                return
        with self._lock:
            if self._child is child:
                try:
                    child.connection.send(preload)
                except (OSError, ValueError):
                    pass

    def preloaded(self) -> bool:
        """Whether the standby holds its model loaded (after `start(…, preload)`), ready to serve at once."""
        with self._lock:
            child = self._child
            while not self._preloaded and child is not None:
                try:
                    if not child.connection.poll():
                        break
                    message = child.connection.recv()
                except (EOFError, OSError):
                    break
                self._preloaded = isinstance(message, Preloaded) and message.ready
            return self._preloaded

    def take(self, options: ChainOptions, paths: Paths) -> Child | None:
        """The standby, sent the order to load `options`, as the new host; None when there is none alive."""
        with self._lock:
            child, self._child, self._preloaded = self._child, None, False
            self._changed.set()
        if child is None or not child.process.is_alive():
            self._end(child)
            return None
        try:
            child.connection.send(LoadOrder(options, paths))
        except (OSError, ValueError):
            self._end(child)
            return None
        child.process.name = HOST_NAME
        return child

    def close(self) -> None:
        """End the standby, and start none after this. Returns once its process is gone."""
        with self._lock:
            self._closed = True
            child, self._child = self._child, None
            self._changed.set()
        self._end(child)

    @staticmethod
    def _end(child: Child | None) -> None:
        """Its pipe closed (it exits on that), then killed: a standby holds nothing worth waiting for."""
        if child is None:
            return
        child.connection.close()
        if child.process.is_alive():
            child.process.kill()
        child.process.join()
