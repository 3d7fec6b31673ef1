"""What the tray menu and a later launch can ask of the running agent.

Each command returns at once: the tray's thread (or the Tk thread, from the Tk
menu) and the "instance" thread only hand work on. Whatever changes the
agent's state is done by the daemon, its one writer, on the Tk thread.
"""

from __future__ import annotations

from functools import partial
from typing import TYPE_CHECKING

from phitray.desktop.system import open_path
from phitray.errors import PhiTrayError
from phitray.jobs.steps import new_seed
from phitray.jobs.types import ActionJob, CaptureJob, RestoreJob, UndoJob
from phitray.ui.picker import MenuEntry
from phitray.ui.tray_menu import RecentChoice

if TYPE_CHECKING:
    from phitray.app.daemon import Daemon
    from phitray.ui.about_window import AboutWindow


class AgentCommands:
    """The tray's `TrayCommands`, and the answers to a second launch."""

    def __init__(self, daemon: Daemon) -> None:
        self._daemon = daemon
        self._about: AboutWindow | None = None  # the one "About this PC" window (Tk thread)

    def run_on_clipboard(self, action_id: str) -> None:
        self._daemon.submit(ActionJob("tray", action_id, from_clipboard=True))

    def open_picker(self) -> None:
        self._daemon.submit(CaptureJob("tray"))

    def cancel(self) -> None:
        self._daemon.cancel()

    def undo(self) -> None:
        self._daemon.submit(UndoJob("tray"))

    def use_recent(self, number: int, choice: RecentChoice) -> None:
        """One of the tray's Recent: copy its answer or original, put the original back, or run it again
        sampled ("Another version"). Tray thread or Tk thread."""
        daemon = self._daemon
        entry = daemon.history.find(number)
        if entry is None:  # pushed out by newer results since the menu was drawn
            return
        if choice == "copy-answer":
            daemon.ui.call_soon(lambda: daemon._copy_to_clipboard(entry.answer))
        elif choice == "copy-original":
            daemon.ui.call_soon(lambda: daemon._copy_to_clipboard(entry.original))
        elif choice == "put-back":
            daemon.submit(RestoreJob(entry.action_id, entry.window, entry.original, entry.answer))
        else:
            daemon.submit(entry.again(new_seed()))

    def choose_backend(self, backend: str) -> None:
        self._daemon.ui.call_soon(lambda: self._daemon.choose_host(f"Switching to {backend}…", backend_choice=backend))

    def choose_model(self, model_id: str) -> None:
        self._daemon.ui.call_soon(lambda: self._daemon.choose_host(f"Loading {model_id}…", model_id=model_id))

    def stop_download(self) -> None:
        """The tray's "Stop downloading": the first run's download ends, and nothing of it is kept."""
        self._daemon.ui.call_soon(self._daemon.first_run.stop)

    def toggle_pause(self) -> None:
        self._daemon.ui.call_soon(lambda: self._daemon.set_paused(not self._daemon.state.paused))

    def toggle_autostart(self) -> None:
        daemon = self._daemon

        def toggle() -> None:
            """Tk thread."""
            try:
                status = daemon.autostart.status()
                status = daemon.autostart.disable() if status.enabled else daemon.autostart.enable()
                daemon.tray.notify(f"Start on login: {status.describe()}")
            except PhiTrayError as error:
                daemon.tray.notify(str(error))
            daemon.read_disk_state()
        daemon.ui.call_soon(toggle)

    def open_actions_folder(self) -> None:
        folder = self._daemon.paths.user_actions_dir
        folder.mkdir(parents=True, exist_ok=True)
        open_path(folder)

    def reload_actions(self) -> None:
        self._daemon.ui.call_soon(self._daemon.reload_actions)

    def open_settings(self) -> None:
        self._daemon.ui.call_soon(self._daemon.settings_window.open)

    def open_log(self) -> None:
        open_path(self._daemon.paths.log_file)

    def about_pc(self) -> None:
        """The tray's "About this PC…": what the device survey finds, the model in use, what would fit, the last bench."""
        self._daemon.ui.call_soon(self._open_about)

    def _open_about(self) -> None:
        """Tk thread: the window opens, or the open one comes back. Imported here: it costs nothing until then."""
        from phitray.ui.about_window import AboutWindow

        daemon = self._daemon
        if self._about is not None and self._about.exists():
            self._about.show()
            return
        self._about = AboutWindow(daemon.root, daemon.paths, daemon.ui, lambda: daemon.state.host_status,
                                  daemon.settings.chain, daemon.state.model_id)

    def quit(self) -> None:
        """The tray's Quit. Shutting down joins the tray thread, so it runs on the Tk thread."""
        self._daemon.ui.call_soon(self._daemon.shutdown)

    def icon_docked(self, docked: bool) -> None:
        """The tray found whether a tray shows the icon: the tray thread, a timer's or the Tk thread."""
        self._daemon.ui.call_soon(lambda: self._daemon.icon_docked(docked))

    def picker_menu(self) -> tuple[MenuEntry, ...]:
        """The tray menu's main entries, for the picker where no tray shows the icon. Tk thread."""
        state = self._daemon.state

        def marked(title: str, chosen: bool) -> str:
            return f"{title} ✓" if chosen else title

        backends = (MenuEntry(marked("Automatic (best available)", state.backend_choice == "auto"),
                              partial(self.choose_backend, "auto")),
                    *(MenuEntry(marked(backend, state.backend_choice == backend), partial(self.choose_backend, backend))
                      for backend in state.backends))
        models = tuple(MenuEntry(marked(model, state.model_id == model), partial(self.choose_model, model))
                       for model in state.installed_models)
        return (MenuEntry("Settings…", self.open_settings), MenuEntry("Backend", choices=backends),
                *((MenuEntry("Model", choices=models),) if models else ()), MenuEntry("Quit", self.quit))

    def answer(self, message: str) -> str:
        """Called on the "instance" thread for each message from a later launch; answers from the state only."""
        daemon = self._daemon
        state = daemon.state
        if message == "quit":
            daemon.ui.call_soon(daemon.shutdown)
            return "quitting"
        if message == "show":
            hotkey = daemon.settings.picker_hotkey
            daemon.ui.call_soon(lambda: daemon.tray.notify(
                f"Phi Tray is running ({state.host_status}). Select text and press {hotkey}."))
            return "shown"
        if message == "settings":
            daemon.ui.call_soon(daemon.settings_window.open)
            return "opened"
        if message == "status":
            return "\n".join([f"{state.host}: {state.host_status}", *state.notes])
        if message == "history":  # `phitray history`: JSON for the launch to print (never logged)
            return daemon.history.for_scripts()
        return "ok"
