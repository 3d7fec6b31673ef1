"""The one owner of "the current model host".

A backend or model switch from the tray, and the first start, are requests to
`HostController.switch`, which never waits. Its own "host-control" thread
takes the latest request (twenty clicks in a row cost one load, not twenty),
has the running job cancelled, closes the old host — its process is gone, and
what it held has failed, before anything new starts — and launches the new
one. So at no time are two model hosts alive, and no switch waits on a load.

Each host gets a generation number; its events are passed on only while it is
still the current one, so a late "ready" from a host that was switched away
can never make the tray say the wrong model.
"""

from __future__ import annotations

import logging
import threading
from collections.abc import Callable
from dataclasses import dataclass

from phitray.backends.chain import ChainOptions
from phitray.host.client import HostEvent, ModelHost
from phitray.paths import Paths

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class HostChange:
    """An event of the current host, or "switching" when a new one is on its way."""

    generation: int
    event: HostEvent


def _nothing_to_cancel() -> None:
    """Default `before_switch`: no job engine to ask."""


class HostController:
    def __init__(self, paths: Paths, on_change: Callable[[HostChange], None],
                 before_switch: Callable[[], None] = _nothing_to_cancel, max_restarts: int = 3) -> None:
        """`on_change` is called on the host-control thread or a host's supervisor thread, and must
        not block; `before_switch` (cancel the running job) on the host-control thread."""
        self._paths = paths
        self._on_change = on_change
        self._before_switch = before_switch
        self._max_restarts = max_restarts
        self._lock = threading.Condition()
        self._wanted: ChainOptions | None = None
        self._closing = False
        self._host: ModelHost | None = None
        self.generation = 0
        self.hosts_started = 0
        self._thread = threading.Thread(target=self._run, name="host-control", daemon=True)
        self._thread.start()

    def current(self) -> ModelHost | None:
        """The current host (loading, ready or failed), or None during a switch. Any thread."""
        return self._host

    def switch(self, options: ChainOptions) -> None:
        """Make a host with `options` the current one. Any thread; returns at once."""
        with self._lock:
            self._wanted = options
            self._lock.notify()

    def close(self) -> None:
        """Close the current host and stop. Returns once its process is gone."""
        with self._lock:
            self._closing = True
            self._lock.notify()
        self._thread.join()

    def _run(self) -> None:
        """The host-control thread: one switch after another, the latest request winning."""
        while True:
            with self._lock:
                while self._wanted is None and not self._closing:
                    self._lock.wait()
                options, self._wanted = (None, None) if self._closing else (self._wanted, None)
            self.generation += 1  # from here on, the old host's events are dropped
            generation = self.generation
            old, self._host = self._host, None
            if old is not None:
                self._before_switch()
                old.close()
            if options is None:
                return
            self._on_change(HostChange(generation, HostEvent("status", f"Loading {options.model_id}…")))
            host = ModelHost(options, self._paths, lambda event: self._pass_on(generation, event), self._max_restarts,
                             standby=True)  # the resident host: its restarts take over a warm process
            self._host = host
            self.hosts_started += 1
            host.launch()

    def _pass_on(self, generation: int, event: HostEvent) -> None:
        """A host's event, on its supervisor thread: dropped unless that host is still the current one."""
        if generation != self.generation:
            log.info("model host %d (switched away): %s: %s", generation, event.kind, event.text)
            return
        self._on_change(HostChange(generation, event))
