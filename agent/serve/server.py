"""The endpoint's server: uvicorn on the "endpoint" thread, listening on the loopback only.

`Endpoint.apply` starts, stops or restarts it as `[server]` says; the daemon
calls it at start, on a settings change (through `Daemon.apply`) and at quit,
and `phitray serve` calls it without the tray. uvicorn is imported only when
the endpoint starts: the daemon with the endpoint off carries none of it
(bench/endpoint.py --memory: the daemon's RSS 52.9 MB with it off, 58.6 MB on, 58.7 MB after 20 answers).

The sockets are made here, not by uvicorn: one on 127.0.0.1 and one on ::1
(where the machine has IPv6), so a client that resolves `localhost` either way
is answered, and nothing listens beyond this PC. uvicorn bounds what it
already can (64 connections at once, 16 KB of headers, 5 s of idle
keep-alive); `_HeadDeadline` adds what it lacks: a request's head must arrive
within `HEAD_SECONDS` (a client that sends it slowly gets 408 and is closed), and
`_quiet_server` wakes once a second while idle instead of ten times (0.25 % of a
core idle with uvicorn's own loop, 0.05 % with this one).
"""

from __future__ import annotations

import logging
import socket
import threading
from collections.abc import Callable
from typing import Any

from phitray import errors
from phitray.host.client import Host
from phitray.logs import milestone
from phitray.paths import Paths
from phitray.serve.token import read_or_create
from phitray.settings import ServerSettings

log = logging.getLogger(__name__)
HEAD_SECONDS = 10.0
MAX_CONNECTIONS = 64
STOP_SECONDS = 5.0
TICK_SECONDS = 1.0
_LATE = b'{"error": "The request did not arrive within 10 s."}'
REQUEST_TIMEOUT = (b"HTTP/1.1 408 Request Timeout\r\ncontent-type: application/json\r\nconnection: close\r\n"
                   b"content-length: %d\r\n\r\n%s" % (len(_LATE), _LATE))


def _listen(port: int) -> list[socket.socket]:
    """Listening sockets on 127.0.0.1 and (where there is IPv6) ::1. Raises OSError when the port is taken."""
    sockets: list[socket.socket] = []
    for family, address in ((socket.AF_INET, "127.0.0.1"), (socket.AF_INET6, "::1")):
        try:
            listener = socket.socket(family, socket.SOCK_STREAM)
        except OSError:
            continue  # no IPv6 on this machine
        try:
            if hasattr(socket, "SO_EXCLUSIVEADDRUSE"):  # Windows: no other program may bind the port beside us
                listener.setsockopt(socket.SOL_SOCKET, socket.SO_EXCLUSIVEADDRUSE, 1)
            else:  # POSIX: a restart may bind again while the last connections wait out TIME_WAIT
                listener.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
            if family == socket.AF_INET6:
                listener.setsockopt(socket.IPPROTO_IPV6, socket.IPV6_V6ONLY, 1)
            listener.bind((address, port))
            listener.listen(128)
            listener.setblocking(False)
        except OSError as error:
            listener.close()
            if family == socket.AF_INET6 and sockets and error.errno != getattr(socket, "EADDRINUSE", 98):
                continue  # ::1 cannot be bound (IPv6 off): 127.0.0.1 serves alone
            for other in sockets:
                other.close()
            raise
        sockets.append(listener)
    return sockets


def _head_deadline_protocol() -> type:
    """uvicorn's h11 protocol with a deadline on each request's head (imported here: uvicorn is heavy)."""
    from uvicorn.protocols.http.h11_impl import H11Protocol

    class HeadDeadline(H11Protocol):
        _head_timer: Any = None

        def connection_made(self, transport: Any) -> None:
            super().connection_made(transport)
            self._arm()

        def data_received(self, data: bytes) -> None:
            if self._head_timer is None and (self.cycle is None or self.cycle.response_complete):
                self._arm()  # the next request on a kept-alive connection
            super().data_received(data)

        def handle_events(self) -> None:
            super().handle_events()
            if self._head_timer is not None and self.cycle is not None and not self.cycle.response_complete:
                self._head_timer.cancel()  # its head is in: the app bounds the body itself
                self._head_timer = None

        def connection_lost(self, exc: Exception | None) -> None:
            if self._head_timer is not None:
                self._head_timer.cancel()
            super().connection_lost(exc)

        def _arm(self) -> None:
            self._head_timer = self.loop.call_later(HEAD_SECONDS, self._head_late)

        def _head_late(self) -> None:
            self._head_timer = None
            if (self.cycle is None or self.cycle.response_complete) and not self.transport.is_closing():
                self.transport.write(REQUEST_TIMEOUT)
                self.transport.close()

    return HeadDeadline


def _quiet_server(config: Any) -> Any:
    """A uvicorn server that wakes once a second while idle, not ten times (a tray agent runs on batteries):
    the tick only renews the Date header and looks for the stop, so a stop takes up to a second."""
    import asyncio

    import uvicorn

    class QuietServer(uvicorn.Server):
        async def main_loop(self) -> None:
            while not await self.on_tick(0):  # tick 0: the Date header is renewed at every tick
                await asyncio.sleep(TICK_SECONDS)

    return QuietServer(config)


class Endpoint:
    """The endpoint as `[server]` wants it. `apply` and `stop` on one thread (the daemon's Tk thread)."""

    def __init__(self, paths: Paths, host: Callable[[], Host | None], notify: Callable[[str], None]) -> None:
        """`host` gives the current model host (any thread); `notify` tells the person a problem (caller's thread)."""
        self._paths, self._host, self._notify = paths, host, notify
        self._settings = ServerSettings()
        self._server: Any = None
        self._thread: threading.Thread | None = None
        self.port: int | None = None  # where it listens now

    def apply(self, settings: ServerSettings) -> None:
        """Start, stop or restart the endpoint so that it runs as `settings` say; nothing when they did not change."""
        if settings == self._settings and (self._thread is not None) == settings.enabled:
            return
        self.stop()
        self._settings = settings
        if settings.enabled:
            try:
                self._start(settings)
            except (OSError, errors.PhiTrayError, ImportError) as error:
                reason = error.strerror if isinstance(error, OSError) and error.strerror else str(error)
                if isinstance(error, ImportError):  # an install without it (a Windows installer built before it)
                    reason = (f"this install has no uvicorn, the endpoint's web server ({error}); install a newer "
                              "Phi Tray, or `pip install uvicorn` in the Python that runs it")
                milestone("endpoint-failed", port=settings.port)
                log.error("the local endpoint did not start: %s", reason)
                self._notify(f"The local endpoint did not start on port {settings.port}: {reason}.")

    def _start(self, settings: ServerSettings) -> None:
        import uvicorn

        from phitray.serve.app import EndpointApp

        token = read_or_create(self._paths.server_token_file)
        sockets = _listen(settings.port)

        config = uvicorn.Config(EndpointApp(self._host, settings, token), http=_head_deadline_protocol(), ws="none",
                                lifespan="off", log_config=None, access_log=False, server_header=False,
                                limit_concurrency=MAX_CONNECTIONS, timeout_keep_alive=5, timeout_graceful_shutdown=1,
                                h11_max_incomplete_event_size=16 * 1024)
        self._server = _quiet_server(config)
        self._thread = threading.Thread(target=self._server.run, kwargs={"sockets": sockets}, name="endpoint",
                                        daemon=True)
        self._thread.start()
        self.port = settings.port
        milestone("endpoint-started", port=settings.port, ipv6=len(sockets) > 1)
        log.info("the local endpoint listens on 127.0.0.1:%d%s", settings.port, " and [::1]" if len(sockets) > 1 else "")

    def stop(self) -> None:
        """Stop listening and end the answers in progress. Returns once the thread is gone (at most a few s)."""
        if self._server is None or self._thread is None:
            return
        self._server.should_exit = True
        self._thread.join(STOP_SECONDS)
        if self._thread.is_alive():
            self._server.force_exit = True
            self._thread.join(STOP_SECONDS)
        self._server, self._thread, self.port = None, None, None
        milestone("endpoint-stopped")
        log.info("the local endpoint stopped")
