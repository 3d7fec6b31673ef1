"""The tray icon and its menu (pystray), drawn from a `TrayView` the daemon hands over.

The menu is a function of the view, rebuilt on every `show()` — pystray on
Windows builds menus once, so dynamic text and state must come from callables
plus `update_menu()`. Menu callbacks run on pystray's thread and only call
`TrayCommands`, which never block.
"""

from __future__ import annotations

import logging
import os
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any, Literal, Protocol

from phitray.desktop import tray_traits
from phitray.desktop.linux_notify import LinuxNotifier
from phitray.logs import TEXT, milestone
from phitray.ui.icons import state_icon
from phitray.ui.tray_menu import RecentChoice, recent_menu

if TYPE_CHECKING:
    import tkinter

    from phitray.ui.tray_menu import TkTrayMenu

log = logging.getLogger(__name__)


TrayState = Literal["loading", "ready", "busy", "paused", "error"]
# What each of pystray's backends cannot do, for the log line that says which one the agent got.
BACKEND_LIMITS = {
    "gtk": "",
    "win32": "",
    "appindicator": "a left click opens the menu instead of the picker",
    "xorg": "its menu drawn by Tk, notifications over D-Bus; no tooltip on hover",
    "darwin": "",
}
# Windows' balloon fields are fixed arrays of UTF-16 units with a terminating NUL: NOTIFYICONDATAW's
# szInfo[256] and szInfoTitle[64]. pystray's win32 backend raises ValueError for longer text.
NOTICE_MESSAGE_UNITS = 255
NOTICE_TITLE_UNITS = 63
# How long the "tray-paint" thread holds a change back for an icon that has not shown yet.
SHOW_WAIT_SECONDS = 10.0
# A tray that owns the tray selection but has not embedded the icon by then holds none (xorg).
DOCK_WAIT_SECONDS = 5.0


@dataclass(frozen=True)
class TrayView:
    state: TrayState
    status: str  # "Ready · openvino-cpu · CPU · phi-3-mini-4k-instruct", or the reason for an error
    notes: tuple[str, ...] = ()  # more lines under the status (a backend passed over, and why)
    actions: tuple[tuple[str, str], ...] = ()  # (id, title)
    busy: bool = False
    can_undo: bool = False
    paused: bool = False
    autostart: bool | None = None  # None: this platform has none
    backend_choice: str = "auto"
    backends: tuple[str, ...] = ()
    model_id: str = ""
    models: tuple[str, ...] = ()
    picker_hotkey: str = ""
    downloading: bool = False  # the first run's download runs: the menu offers to stop it
    recent: tuple[tuple[int, str], ...] = ()  # the last results: (number, label), newest first


class TrayCommands(Protocol):
    """What the menu can ask for, and what the icon tells. Each is called on the tray thread (pystray's menu)
    or the Tk thread (the Tk menu on Linux) and must return at once."""

    def icon_docked(self, docked: bool) -> None: ...  # whether a tray shows the icon; also on a timer's thread

    def run_on_clipboard(self, action_id: str) -> None: ...
    def open_picker(self) -> None: ...
    def cancel(self) -> None: ...
    def undo(self) -> None: ...
    def use_recent(self, number: int, choice: RecentChoice) -> None: ...
    def stop_download(self) -> None: ...
    def choose_backend(self, backend: str) -> None: ...
    def choose_model(self, model_id: str) -> None: ...
    def toggle_pause(self) -> None: ...
    def toggle_autostart(self) -> None: ...
    def open_actions_folder(self) -> None: ...
    def reload_actions(self) -> None: ...
    def open_settings(self) -> None: ...
    def open_log(self) -> None: ...
    def about_pc(self) -> None: ...
    def quit(self) -> None: ...


def cut_to_fit(text: str, units: int) -> str:
    """`text` when it fits in `units` UTF-16 code units (what Windows counts), else its start and "…".

    Cut on every platform, so a notice reads the same everywhere; a character
    outside the BMP (an emoji) counts two units, and is never split.
    """
    if utf16_units(text) <= units:
        return text
    kept: list[str] = []
    used = 1  # "…" takes one unit
    for character in text:
        used += utf16_units(character)
        if used > units:
            break
        kept.append(character)
    return "".join(kept).rstrip() + "…"


def utf16_units(text: str) -> int:
    return len(text.encode("utf-16-le", "surrogatepass")) // 2


def choose_backend_library() -> None:
    """Set what this platform's tray needs before pystray is imported (on Linux its xorg backend), unless
    the environment already says otherwise."""
    for name, value in tray_traits().library_defaults:
        os.environ.setdefault(name, value)


class Tray:
    """The icon. Made with no commands (a menu of one "Starting…" line) so it can show before the
    rest of the agent is imported; `attach` hands it the daemon."""

    def __init__(self, commands: TrayCommands | None, view: TrayView) -> None:
        choose_backend_library()
        import pystray

        self._pystray = pystray
        self._commands = commands
        self._view = view
        self._icons = {state: state_icon(state) for state in ("loading", "ready", "busy", "paused", "error")}
        traits = tray_traits()
        if traits.icon_encoding:
            for image in self._icons.values():
                image.encoderinfo = dict(traits.icon_encoding)  # Pillow merges a preset encoderinfo into every save
        self.backend = pystray.Icon.__module__.rpartition("._")[2]  # "pystray._gtk" → "gtk"
        limits = BACKEND_LIMITS.get(self.backend, "untested")
        log.info("tray: pystray's %s backend%s", self.backend, f" ({limits})" if limits else "")
        milestone("tray-backend", backend=self.backend, menu="tk" if self.backend == "xorg" else "pystray")
        # The xorg backend writes the title as a latin-1 window name: "—" or "…" would raise there.
        self._latin1 = self.backend == "xorg"
        self._icon = pystray.Icon("phitray", self._icons[view.state], title=self._tooltip(view),
                                  menu=pystray.Menu(self._items))
        # Where pystray draws no menu (xorg), Tk draws it: attach() hands over the Tk side.
        self._tk_menu: TkTrayMenu | None = None
        self._call_soon: Callable[[Callable[[], None]], None] | None = None
        # Whether a tray holds the icon (None: not known yet); `visible` is set while one does.
        self._docked: bool | None = None
        self._dock_lock = threading.Lock()
        self.visible = threading.Event()
        self._shown = threading.Event()  # pystray has shown the icon, as far as it goes
        self._title_written = False  # the tooltip was set after the icon showed (before, pystray may drop it)
        self._watching_dock = False  # only xorg can tell; other backends' icons are taken as shown
        if self.backend == "xorg":
            from phitray.ui import tray_xorg

            tray_xorg.listen_for_clicks(self._icon, self._on_click)
            tray_xorg.dock_once(self._icon, lambda: self._set_docked(False))
            self._watching_dock = tray_xorg.watch_docking(self._icon, self._set_docked)
            tray_xorg.flush_after_changes(self._icon)
        if self.backend == "win32":
            from phitray.ui import tray_win32

            tray_win32.keep_identity(self._icon)  # the same icon to Windows at every start, named Phi Tray
        self._notifier = LinuxNotifier() if traits.notify_over_dbus and not self._icon.HAS_NOTIFICATION else None
        self._thread: threading.Thread | None = None
        self.shown_at = 0.0  # time.perf_counter() when the icon was shown
        # Views wait here for the "tray-paint" thread, which alone changes pystray's icon: some
        # backends run a change on their own loop and wait for it (xorg does), and no caller of
        # show() may wait on a tray.
        self._painting = threading.Condition()
        self._wanted: tuple[TrayView, bool] | None = None
        self._stopping = False
        self._painter = threading.Thread(target=self._paint, name="tray-paint", daemon=True)
        self._painter.start()

    def start(self) -> None:
        """Show the icon at once; pystray's loop runs on the "tray" thread."""

        def setup(icon: Any) -> None:
            """Called by pystray on its setup thread once the icon exists."""
            icon.visible = True
            self._shown.set()
            with self._painting:  # a tooltip set while it waited past SHOW_WAIT_SECONDS is written again
                if self._wanted is None:
                    self._wanted = (self._view, False)
                    self._painting.notify()
            if not self._watching_dock:
                self._set_docked(True)
                return
            timer = threading.Timer(DOCK_WAIT_SECONDS, self._dock_timed_out)
            timer.daemon = True
            timer.start()

        self._thread = threading.Thread(target=self._icon.run, kwargs={"setup": setup}, name="tray", daemon=True)
        self._thread.start()

    def attach(self, commands: TrayCommands, view: TrayView,
               call_soon: Callable[[Callable[[], None]], None] | None = None, root: tkinter.Misc | None = None) -> None:
        """Give the menu its commands (the daemon, once imported) and show `view`. Tk thread.

        `call_soon` (the daemon's `UiQueue.call_soon`) and `root`: how a click on an icon whose
        backend has no menu (xorg) reaches Tk, which draws the menu. Until then a click opens nothing.
        """
        with self._dock_lock:
            self._commands, docked = commands, self._docked
        if docked is False:  # found out before the agent could be told
            self._tell_docked(commands, docked)
        if self.backend == "xorg" and call_soon is not None and root is not None:
            from phitray.desktop.x11 import X11Focus
            from phitray.ui.tray_menu import TkTrayMenu

            self._tk_menu = TkTrayMenu(root, lambda: self._icon.menu, self._choose, X11Focus())
            self._call_soon = call_soon
        self._want(view, menu_changed=True)

    def _set_docked(self, docked: bool) -> None:
        """The "tray" thread (xorg), pystray's setup thread or a timer's: whether a tray holds the icon now."""
        with self._dock_lock:
            if docked == self._docked:
                return
            self._docked, commands = docked, self._commands
        if docked:
            self.shown_at = time.perf_counter()
            self.visible.set()
            log.info("tray: the icon is in the tray")
        else:
            self.visible.clear()
            milestone("tray-missing", backend=self.backend)
            log.warning("tray: no system tray holds the icon; the picker offers the menu's main entries")
        if commands is not None:
            self._tell_docked(commands, docked)

    def _dock_timed_out(self) -> None:
        """A timer's thread: no tray has embedded the icon in DOCK_WAIT_SECONDS, though one may own the selection."""
        if self._docked is None:
            self._set_docked(False)

    @staticmethod
    def _tell_docked(commands: TrayCommands, docked: bool) -> None:
        try:
            commands.icon_docked(docked)
        except Exception:
            log.exception("tray: telling the agent whether the icon shows failed")

    def _on_click(self, event: Any) -> None:
        """pystray's xorg loop calls this on the "tray" thread for a button press on the icon."""
        call_soon, tk_menu = self._call_soon, self._tk_menu
        if event.detail in (1, 3) and call_soon is not None and tk_menu is not None:
            x, y = event.root_x, event.root_y
            call_soon(lambda: tk_menu.post(x, y))

    def _choose(self, item: Any) -> None:
        """Tk thread: an entry of the Tk menu was chosen; the pystray item runs as pystray runs it."""
        try:
            item(self._icon)
        except Exception:
            log.exception("tray menu entry failed")

    def show(self, view: TrayView) -> None:
        """Bring icon, tooltip and menu up to date soon. Any thread; never waits."""
        self._want(view, menu_changed=False)

    def _want(self, view: TrayView, menu_changed: bool) -> None:
        with self._painting:
            # Only the latest view matters; a menu change asked for earlier is kept.
            menu_changed = menu_changed or (self._wanted is not None and self._wanted[1])
            self._wanted = (view, menu_changed)
            self._painting.notify()

    def _paint(self) -> None:
        """The "tray-paint" thread: applies the latest view to pystray, then stops it on stop()."""
        while True:
            with self._painting:
                while self._wanted is None and not self._stopping:
                    self._painting.wait()
                wanted, self._wanted = self._wanted, None
                stopping = self._stopping
            try:
                if wanted is not None:
                    if self.backend == "xorg":
                        self._wait_until_shown()
                    self._update(*wanted)
                if stopping:
                    self._icon.stop()
                    return
            except Exception:  # a backend's fault must not end the painting
                log.exception("tray update failed")
                if stopping:
                    return

    def _wait_until_shown(self) -> None:
        """tray-paint thread: wait (a few seconds at most, and never past stop()) until the icon shows.

        pystray keeps a title given before the icon shows without writing it, and the xorg icon wrote
        its name when its window was made: a status shown before then stayed "Starting…" in the window
        until the next one.
        """
        deadline = time.monotonic() + SHOW_WAIT_SECONDS
        while not self._shown.wait(0.05) and not self._stopping and time.monotonic() < deadline:
            pass

    def _update(self, view: TrayView, menu_changed: bool) -> None:
        """tray-paint thread."""
        old, self._view = self._view, view
        if view.state != old.state:
            self._icon.icon = self._icons[view.state]
        if self._tooltip(view) != self._tooltip(old) or not self._title_written and self._shown.is_set():
            self._icon.title = self._tooltip(view)
            self._title_written = self._shown.is_set()
        if menu_changed or view != old:
            self._icon.update_menu()

    def notify(self, message: str, title: str = "Phi Tray") -> None:
        """A desktop notification through the tray icon (on Linux without GTK, over D-Bus), cut to what the
        icon can show (the log keeps it whole); only logged when the platform has none. Any thread."""
        log.info("notice shown: %s", title)
        TEXT.info("notice: %s", message)  # it can quote the person's text (a check's reason)
        try:
            # An empty title would make pystray's win32 backend use the tooltip (up to 127 units) instead.
            message, title = cut_to_fit(message, NOTICE_MESSAGE_UNITS), cut_to_fit(title or "Phi Tray", NOTICE_TITLE_UNITS)
            if self._notifier is not None:
                self._notifier.notify(title, message)
            else:
                self._icon.notify(message, title)
        except Exception as error:  # a missing notification service must not break a job
            log.warning("could not show a notification: %s", error)

    def stop(self) -> None:
        """Remove the icon and end pystray's loop; gives up waiting after a few seconds. Any thread but the tray's."""
        with self._painting:
            self._stopping = True
            self._painting.notify()
        self._painter.join(timeout=6)
        if self._thread is not None:
            self._thread.join(timeout=6)

    # --- the menu, rebuilt from the view -------------------------------------------------

    def _items(self) -> tuple[Any, ...]:
        Item, Menu, view, commands = self._pystray.MenuItem, self._pystray.Menu, self._view, self._commands
        if commands is None:
            return (Item(view.status, None, enabled=False),)

        def call(command: Callable[..., None], *args: object) -> Callable[..., None]:
            def run(icon: Any = None, item: Any = None) -> None:
                """Called on the tray thread (Tk thread for the Tk menu) when the item is clicked."""
                try:
                    command(*args)
                except Exception:
                    log.exception("tray command failed")
            return run

        picker_text = "Pick an action…" + (f"  ({view.picker_hotkey})" if view.picker_hotkey else "")
        on_clipboard = Menu(*(Item(title, call(commands.run_on_clipboard, action_id)) for action_id, title in view.actions))
        backends = Menu(
            Item("Automatic (best available)", call(commands.choose_backend, "auto"),
                 checked=lambda item: self._view.backend_choice == "auto", radio=True),
            *(Item(backend, call(commands.choose_backend, backend),
                   checked=lambda item, b=backend: self._view.backend_choice == b, radio=True) for backend in view.backends),
        )
        models = Menu(*(Item(model, call(commands.choose_model, model),
                             checked=lambda item, m=model: self._view.model_id == m, radio=True) for model in view.models))
        ready = view.state in ("ready", "busy", "paused")
        return (
            Item(view.status, None, enabled=False),
            *(Item(note, None, enabled=False) for note in view.notes),
            *((Item("Stop downloading", call(commands.stop_download)),) if view.downloading else ()),
            Menu.SEPARATOR,
            Item(picker_text, call(commands.open_picker), default=True, enabled=ready),
            Item("Run on clipboard text", on_clipboard, enabled=ready and bool(view.actions)),
            Item("Cancel", call(commands.cancel), enabled=view.busy),
            Item("Undo last replace", call(commands.undo), enabled=view.can_undo),
            Item("Recent", recent_menu(Item, Menu, view.recent, lambda *args: call(commands.use_recent, *args)),
                 enabled=bool(view.recent)),
            Menu.SEPARATOR,
            Item("Backend", backends),
            Item("Model", models, enabled=bool(view.models)),
            Item("Pause hotkeys", call(commands.toggle_pause), checked=lambda item: self._view.paused),
            Item("Start on login", call(commands.toggle_autostart), checked=lambda item: bool(self._view.autostart),
                 enabled=view.autostart is not None),
            Menu.SEPARATOR,
            Item("Settings…", call(commands.open_settings)),
            Item("Open actions folder", call(commands.open_actions_folder)),
            Item("Reload actions", call(commands.reload_actions)),
            Item("Open log", call(commands.open_log)),
            Item("About this PC…", call(commands.about_pc)),
            Item("Quit", call(commands.quit)),
        )


    def _tooltip(self, view: TrayView) -> str:
        text = f"Phi Tray — {view.status}"[:127]  # Windows cuts tooltips at 128 characters
        if self._latin1:
            text = text.replace("—", "-").replace("…", "...").encode("latin-1", "replace").decode("latin-1")
        return text
