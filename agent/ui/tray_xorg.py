"""What the agent changes in pystray's xorg icon, the Linux tray: it listens for clicks (the Tk menu posts on
either button), asks the tray to embed it only while it is not embedded, says whether a tray holds it, and
sends each change at once.

Each reaches into pystray's private parts; where they are missing, it says so in the log and leaves the
icon as pystray makes it.
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from typing import Any

log = logging.getLogger(__name__)


def listen_for_clicks(icon: Any, on_click: Callable[[Any], None]) -> None:
    """Make a button press on the xorg icon call `on_click` (on the "tray" thread). Before pystray's loop runs.

    pystray's xorg icon asks X for no button events, and its handler calls the default item on a
    left click only. Both are private (`_window`, and `_message_handlers`: X event type → handler,
    called on the "tray" thread); where they are missing the icon shows with no menu.
    """
    import Xlib.X

    handlers, window = getattr(icon, "_message_handlers", None), getattr(icon, "_window", None)
    if not isinstance(handlers, dict) or window is None:
        log.warning("tray: pystray's xorg icon has no click handlers where expected; the icon opens no menu")
        return
    try:
        window.change_attributes(
            event_mask=Xlib.X.ExposureMask | Xlib.X.StructureNotifyMask | Xlib.X.ButtonPressMask)
    except Exception as error:
        log.warning("tray: the icon cannot listen for clicks (%s); it opens no menu", error)
        return
    handlers[Xlib.X.ButtonPress] = on_click

def dock_once(icon: Any, no_tray: Callable[[], None]) -> None:
    """Ask the tray to embed the xorg icon only while it is not embedded; `no_tray()` when no tray is there.

    pystray's xorg icon asks again on every icon change (`_update_icon` calls `_assert_docked`), and
    a tray asked to embed a window it holds may drop it (trayer does, one change in a few): the icon
    vanished after the agent went busy and back a few times. pystray clears `_systray_manager` when
    the tray goes away, so a new tray still gets the icon. With no tray pystray logs "Failed to dock
    icon" with a traceback at every change; here it is one call of `no_tray` (on the "tray" thread),
    and the change is drawn into the window no tray shows. Private too; left as it is if missing.
    """
    dock = getattr(icon, "_assert_docked", None)
    if dock is None or not hasattr(icon, "_systray_manager"):
        log.warning("tray: pystray's xorg icon has changed inside; it asks the tray to embed it on each change")
        return

    def dock_unless_docked() -> None:
        """pystray's xorg loop calls this on the "tray" thread."""
        if icon._systray_manager is None:
            try:
                dock()
            except AssertionError:  # nobody owns the _NET_SYSTEM_TRAY_Sn selection
                no_tray()

    icon._assert_docked = dock_unless_docked


def watch_docking(icon: Any, docked: Callable[[bool], None]) -> bool:
    """Call `docked(True)` when a tray embeds the xorg icon, `docked(False)` when it lets go (on the "tray" thread);
    False where pystray's private parts are missing and nothing is watched.

    A tray embeds an icon by reparenting its window (XEmbed), and a tray that quits gives it back to the
    root window; pystray's icon window already reports both (StructureNotifyMask). Only then is the icon on
    screen: asking a tray to dock says nothing of whether it did. Before pystray's loop runs.
    """
    import Xlib.X

    handlers, window = getattr(icon, "_message_handlers", None), getattr(icon, "_window", None)
    if not isinstance(handlers, dict) or window is None:
        log.warning("tray: pystray's xorg icon has no event handlers where expected; its icon is taken as shown")
        return False
    root = icon._display.screen().root.id

    def on_reparent(event: Any) -> None:
        """pystray's xorg loop calls this on the "tray" thread."""
        if event.window.id == window.id:
            docked(event.parent.id != root)

    handlers[Xlib.X.ReparentNotify] = on_reparent
    return True


def flush_after_changes(icon: Any) -> None:
    """Send each change of the xorg icon to the X server once it is made, from the thread that asked for it.

    pystray runs a change (`_show`, `_hide`, `_update_icon`, `_update_title`, `_stop`) on its "tray" thread: the
    asking thread sends a ClientMessage and flushes, and the tray thread queues the change's requests
    (the title's ChangeProperty, the icon's PutImage) with no flush of its own, then waits for events.
    python-xlib sends a queued request only from a thread that is sending: a thread waiting for events
    sends the queue only if no other thread is sending as it starts to wait, and a flush sends only what
    was queued when it began. When the asker's flush is still finishing as the tray thread returns to
    its wait (likelier with other threads busy, as the "notify" thread is at start), nobody sends the
    change: the window kept its old name until the next change or event, ten seconds or more.
    The asking thread flushes after the change returns, when the change is queued; pystray's rewritten
    methods are private, so where they are missing the icon is left as pystray makes it.
    """
    names = ("_show", "_hide", "_update_icon", "_update_title", "_stop")
    display = getattr(icon, "_display", None)
    if display is None or not all(callable(getattr(icon, name, None)) for name in names):
        log.warning("tray: pystray's xorg icon has changed inside; its changes are sent when it next flushes")
        return

    def flushed(change: Callable[[], None]) -> Callable[[], None]:
        def change_and_flush() -> None:
            """The asking thread, once the tray thread has made the change."""
            change()
            display.flush()
        return change_and_flush

    for name in names:
        setattr(icon, name, flushed(getattr(icon, name)))
