"""A warm standby for the model host: a spawned interpreter, its imports done, waiting for one load order.

A host restart (a crash, a lost device, a host that stopped answering) used to start from nothing: a
spawn, the host's own imports and the inference library's (about 0.35 s of the starter's 2.6 s restart
on a 2-core CPU, bench/host_restart.py). The standby pays that while the model is idle: its `ModelHost`
(the one owner) starts it once its host is ready, and hands it the next load order instead of spawning.
It holds no model and no text (about 60 MB, the libraries), probes no device (a probe made before a driver
reset would be stale after it), and ends on its own when its pipe closes: at the owner's close(), or when
the daemon is gone (even killed), since it only waits on that pipe. Spawned like every child (children.py),
so it works the same under Windows' spawn.
"""

from __future__ import annotations

import importlib
import threading
from dataclasses import dataclass
from typing import Any

from phitray.backends.chain import ChainOptions
from phitray.children import Child, start_child
from phitray.paths import Paths

NAME = "phitray-model-standby"
HOST_NAME = "phitray-model-host"  # what a standby is called once it is the host
# The libraries each backend imports at its probe and load; imported in advance, nothing in them is called.
LIBRARIES = {"openvino-npu": ("openvino", "openvino_genai"), "openvino-gpu": ("openvino", "openvino_genai"),
             "openvino-cpu": ("openvino", "openvino_genai"), "directml": ("onnxruntime_genai",),
             "onnx-cpu": ("onnxruntime_genai",), "npu-legacy": ()}


@dataclass(frozen=True)
class LoadOrder:
    """Become the model host for `options` (sent once, down the standby's pipe)."""

    options: ChainOptions
    paths: Paths


def standby_main(connection: Any, chain: tuple[str, ...]) -> None:
    """The standby process's main thread: the host's imports, then one load order, then the host's loop."""
    from phitray.host.server import host_main

    for backend_id in chain:
        for library in LIBRARIES.get(backend_id, ()):
            try:
                importlib.import_module(library)
            except Exception:  # not installed, or broken: the host's probe says so when it gets there
                pass
    try:
        order = connection.recv()
    except (EOFError, OSError):
        return  # closed by its owner, or the daemon is gone
    if isinstance(order, LoadOrder):
        host_main(connection, order.options, order.paths)


class Standby:
    """At most one warm standby process, owned by one `ModelHost`. Any thread."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._child: Child | None = None
        self._closed = False

    @property
    def pid(self) -> int | None:
        child = self._child
        return child.process.pid if child is not None else None

    def start(self, chain: tuple[str, ...]) -> None:
        """Start a standby for `chain` unless one is alive or close() has begun. Returns at once; a standby
        that cannot be started is only a slower restart."""
        with self._lock:
            if self._closed or (self._child is not None and self._child.process.is_alive()):
                return
            self._end(self._child)
            try:
                self._child = start_child(NAME, standby_main, chain)
            except (OSError, ValueError):
                self._child = None

    def take(self, options: ChainOptions, paths: Paths) -> Child | None:
        """The standby, sent the order to load `options`, as the new host; None when there is none alive."""
        with self._lock:
            child, self._child = self._child, None
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
