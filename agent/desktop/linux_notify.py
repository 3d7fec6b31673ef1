"""Desktop notifications on Linux: org.freedesktop.Notifications over the session bus, with jeepney.

pystray's xorg backend, which the tray uses on Linux, has no notifications, and
the gtk backend's come through PyGObject (about 30 MB of the daemon's memory).
jeepney speaks D-Bus in pure Python over one socket.

`notify` only queues: the "notify" thread connects, sends and waits for the
reply, so no caller (the Tk thread among them) waits on the bus or on a slow
notification daemon. A missing bus or daemon is logged once, never raised.
"""

from __future__ import annotations

import html
import logging
import queue
import threading
from typing import Any

log = logging.getLogger(__name__)

APP_NAME = "Phi Tray"
REPLY_SECONDS = 5.0


class LinuxNotifier:
    """Sends notifications in order from its own "notify" thread, started with the first one."""

    def __init__(self) -> None:
        self._queue: queue.SimpleQueue[tuple[str, str]] = queue.SimpleQueue()
        self._thread: threading.Thread | None = None
        self._start = threading.Lock()
        self._connection: Any = None
        self._markup = False  # the daemon reads <b>, &amp;… in the body, so ours must be escaped
        self._last_id = 0  # each notice replaces the last one, as pystray's gtk and win32 backends do
        self._failed = False  # said once in the log

    def notify(self, title: str, message: str) -> None:
        """Queue one notification. Any thread; never waits."""
        self._queue.put((title, message))
        with self._start:
            if self._thread is None:
                self._thread = threading.Thread(target=self._send_all, name="notify", daemon=True)
                self._thread.start()

    def _send_all(self) -> None:
        """The "notify" thread: sends each queued notification; one failure does not stop the next."""
        while True:
            title, message = self._queue.get()
            try:
                self._send(title, message)
            except Exception as error:  # no session bus, no notification daemon, a daemon that hangs
                self._close()
                if not self._failed:
                    self._failed = True
                    log.warning("notifications cannot be shown (%s: %s); they stay in this log only",
                                type(error).__name__, error)

    def _send(self, title: str, message: str) -> None:
        """"notify" thread."""
        from jeepney import DBusAddress, new_method_call

        notifications = DBusAddress("/org/freedesktop/Notifications", bus_name="org.freedesktop.Notifications",
                                    interface="org.freedesktop.Notifications")
        connection = self._connect(notifications)
        body = html.escape(message, quote=False) if self._markup else message
        call = new_method_call(notifications, "Notify", "susssasa{sv}i",
                               (APP_NAME, self._last_id, "", title, body, [], {}, -1))
        reply = connection.send_and_get_reply(call, timeout=REPLY_SECONDS)
        self._last_id = int(_body_of(reply)[0])

    def _connect(self, notifications: Any) -> Any:
        """The session bus connection, opened on first use; asks the daemon whether it reads markup."""
        if self._connection is None:
            from jeepney import new_method_call
            from jeepney.io.blocking import open_dbus_connection

            self._connection = open_dbus_connection(bus="SESSION")
            reply = self._connection.send_and_get_reply(new_method_call(notifications, "GetCapabilities"),
                                                        timeout=REPLY_SECONDS)
            self._markup = "body-markup" in _body_of(reply)[0]
        return self._connection

    def _close(self) -> None:
        """"notify" thread: the next notification connects again (the daemon or bus may be back)."""
        if self._connection is not None:
            try:
                self._connection.close()
            except OSError:
                pass
        self._connection = None


def _body_of(reply: Any) -> tuple[Any, ...]:
    """The reply's values; a D-Bus error reply (no daemon owns the name) raised as DBusErrorResponse."""
    from jeepney.wrappers import unwrap_msg

    return tuple(unwrap_msg(reply))
