"""`phitray run`, `phitray stop`, `phitray status` and `phitray autostart on|off|status`."""

from __future__ import annotations

import argparse
import logging
import tkinter
from typing import Any

from phitray.desktop import autostart
from phitray.errors import DesktopError
from phitray.desktop.instance import InstanceLock, instance_address, send_to_running, stop_running
from phitray.desktop.system import declare_dpi_awareness, window_dpi
from phitray.cli.common import say
from phitray.logs import LogFlags, setup_logging
from phitray.paths import Paths
from phitray.settings import LoadedSettings, load_settings
from phitray.ui.tray import Tray, TrayView

log = logging.getLogger(__name__)
# The agent's shutdown waits up to about 17 s for its jobs, model host and downloads: stop waits longer.
STOP_WAIT_SECONDS = 30.0


def cmd_run(args: argparse.Namespace, paths: Paths) -> int:
    try:
        address = instance_address(paths)
        lock = InstanceLock(address)
        acquired = lock.acquire()
    except DesktopError as error:  # another program holds the agent's address or lock: the sentence names it
        # Started by the Run key or a shortcut, `phitray run` has no console: the log keeps the sentence too.
        setup_logging(paths, "info")
        log.info("phitray run did not start: %s", error)
        raise
    if not acquired:
        send_to_running(address, "show")
        say("Phi Tray is already running; it shows a notice. (`phitray stop` ends it.)")
        return 0
    try:
        loaded = load_settings(paths.settings_file)
        flags = LogFlags(log_text=args.log_text, debug=args.debug)
        settings = flags.settings(loaded.settings)
        setup_logging(paths, flags.level(settings), settings.log_text)
        log.info("phitray run: settings %s, log %s", settings.source, paths.log_file)
        for problem in loaded.problems:
            log.warning("%s", problem)
        # Before the first window of the process (the tray's, then Tk's): Windows takes it only then.
        log.info("DPI awareness: %s", declare_dpi_awareness() or "the platform's own")
        # The icon first: the rest of the agent takes a few hundred milliseconds to import on a slow CPU,
        # and a tray icon is how a person sees that the agent started.
        tray = open_tray()
        tray.start()
        # Tk's start holds the interpreter lock, which the tray thread needs to show the icon.
        tray.visible.wait(1.0)
        try:
            root = open_tk_root()
            from phitray.app.daemon import Daemon

            return Daemon(paths, LoadedSettings(settings, loaded.problems), lock, root, tray, log_flags=flags).run()
        except BaseException:
            tray.stop()
            raise
    finally:
        lock.release()


def open_tray() -> Tray:
    """The tray icon with a "Starting…" menu; a clear error where there is no desktop."""
    try:
        return Tray(None, TrayView("loading", "Starting…"))
    except ImportError as error:  # pystray's way of saying it found no desktop to draw on
        raise DesktopError(f"Phi Tray cannot show a tray icon ({error}). It needs a desktop session.") from None


def open_tk_root() -> tkinter.Tk:
    """The Tk root every window of the agent belongs to, hidden; a clear error where there is no desktop."""
    try:
        root = tkinter.Tk(className="phitray")
    except tkinter.TclError as error:
        raise DesktopError(f"Phi Tray cannot open a window ({error}). It needs a desktop session.") from None
    root.withdraw()
    scale_tk_to_window_dpi(root)
    use_agent_icon(root)
    return root


def use_agent_icon(root: tkinter.Tk) -> None:
    """Every window of the agent carries its icon (not Tk's feather) in its title bar and the taskbar."""
    import base64
    import io

    from phitray.ui.icons import state_icon

    png = io.BytesIO()
    state_icon("ready", 64).save(png, format="PNG")
    image = tkinter.PhotoImage(master=root, data=base64.b64encode(png.getvalue()).decode("ascii"))
    root.iconphoto(True, image)  # True: the default of every Toplevel made after
    root.agent_icon = image  # type: ignore[attr-defined]  # Tk drops an image Python no longer holds


def scale_tk_to_window_dpi(root: tkinter.Tk) -> None:
    """Size Tk's points for the DPI the platform draws the root at (Windows, once the process is DPI
    aware), so text is neither tiny nor stretched; elsewhere Tk's own scaling stands. Main thread."""
    dpi = window_dpi(root.winfo_id())
    if dpi:
        root.tk.call("tk", "scaling", dpi / 72)  # Tk's scaling is pixels per point, 72 points an inch
        log.info("Tk scaling %.2f for %d DPI", dpi / 72, dpi)


def cmd_stop(args: argparse.Namespace, paths: Paths) -> int:
    """Returns once the agent's processes are gone (the uninstaller removes its files next), or says they are not."""
    stopped = stop_running(instance_address(paths), STOP_WAIT_SECONDS)
    if stopped is None:
        say("no agent is running.")
    elif stopped:
        say("the agent has stopped.")
    else:
        say(f"the agent was asked to stop, but its process had not ended after {STOP_WAIT_SECONDS:g} seconds.")
        return 1
    return 0


def cmd_status(args: argparse.Namespace, paths: Paths) -> int:
    answer = send_to_running(instance_address(paths), "status")
    print(answer if answer is not None else "not running")
    return 0 if answer is not None else 3


def cmd_autostart(args: argparse.Namespace, paths: Paths) -> int:
    entry = autostart.for_this_platform()
    if args.state == "on":
        status = entry.enable()
    elif args.state == "off":
        status = entry.disable()
    else:
        status = entry.status()
    print(f"start on login: {status.describe()}")
    return 0


def add_agent_commands(commands: Any) -> None:
    run = commands.add_parser("run", help="start the tray agent (the default when no command is given)")
    run.add_argument("--debug", action="store_true", help="log at debug level")
    run.add_argument("--log-text", action="store_true", help="also log selected text and answers (debugging only)")
    run.set_defaults(handler=cmd_run)
    stop = commands.add_parser("stop", help="end the running tray agent")
    stop.set_defaults(handler=cmd_stop)
    status = commands.add_parser("status", help="is the agent running, and on which backend")
    status.set_defaults(handler=cmd_status)
    start = commands.add_parser("autostart", help="start the agent when you log in: on, off or status")
    start.add_argument("state", choices=("on", "off", "status"), nargs="?", default="status")
    start.set_defaults(handler=cmd_autostart)



