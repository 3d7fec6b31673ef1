"""`phitray run`: the tray agent. Wires the tray, hotkeys, engine, host controller and windows together.

Threads (DESIGN.md): Tk's main loop owns the main thread and every window;
pystray runs on "tray"; hotkeys on the desktop's listener thread; jobs on
"jobs"; host switches on "host-control"; each model host is a child process
read by its "model-host-supervisor"; the first run's download is a child process
read by "first-run-download" (app/firstrun.py). Other threads reach Tk only through
`UiQueue.call_soon`, which never waits. The state the tray shows is one frozen
`AgentState`, replaced on the Tk thread and drawn by `view.tray_view`.
"""

from __future__ import annotations

import logging
import signal
import threading
import time
import tkinter
from dataclasses import replace

from phitray.actions.library import ActionSet, load_actions
from phitray.app import firstrun
from phitray.app.bindings import hotkey_callbacks, hotkey_table
from phitray.app.settings_link import LiveSettings
from phitray.app.view import AgentState, tray_view
from phitray.backends.catalog import model_note
from phitray.backends.chain import ChainOptions
from phitray.backends.registry import BACKEND_IDS
from phitray.backends.store import ModelStore
from phitray.desktop import Desktop, autostart, open_desktop
from phitray.desktop.instance import InstanceLock
from phitray.desktop.system import open_path, seconds_since_launch
from phitray.jobs.capture import CaptureOptions
from phitray.jobs.thread import JobThread
from phitray.jobs.types import JobSettings, Job, JobEvent
from phitray.errors import ConfigError, PhiTrayError
from phitray.host.controller import HostChange, HostController
from phitray.logs import LogFlags
from phitray.paths import Paths
from phitray.settings import LoadedSettings, Settings
from phitray.ui.results import ResultWindows
from phitray.ui.tray import Tray
from phitray.ui.uiqueue import UiQueue, WakeMethod

log = logging.getLogger(__name__)


class Daemon:
    """The running agent. Tray commands are methods here; each returns at once."""

    def __init__(self, paths: Paths, loaded: LoadedSettings, lock: InstanceLock, root: tkinter.Tk, tray: Tray,
                 desktop: Desktop | None = None, wake: WakeMethod | None = None,
                 log_flags: LogFlags = LogFlags()) -> None:
        """`root` and `tray` come made: the icon shows while this module is still being imported.
        `desktop` is opened by `start` unless given (tests hand in a scripted one); `wake` picks how
        other threads wake Tk (the platform's way unless given: tests run Windows' way on Linux too)."""
        self.paths = paths
        self.root = root
        self.tray = tray
        self.settings: Settings = loaded.settings
        self.log_flags = log_flags  # `run --log-text` and `--debug`, kept over every change of the settings
        self.problems: list[ConfigError] = list(loaded.problems)
        self.lock = lock
        self.autostart = autostart.for_this_platform()
        self.ui = UiQueue(root, wake)
        self.state = AgentState(backends=BACKEND_IDS, model_id=self.settings.model_id,
                                picker_hotkey=self.settings.picker_hotkey)
        self.actions = self.load_action_files()
        self.windows = ResultWindows(root, self.submit, self.cancel, self._copy_to_clipboard, self._release_keys)
        self.desktop = desktop
        self.engine: JobThread | None = None
        self.first_run = firstrun.FirstRun(paths, self.ui.call_soon, self.tray.notify,
                                           lambda text: self.update_state(download=text), self._downloaded)
        self.settings_window = LiveSettings(self)
        self.controller = HostController(paths, lambda change: self.ui.call_soon(lambda: self._on_host_change(change)),
                                         before_switch=self.cancel)

    # --- lifecycle (Tk thread) -------------------------------------------------------

    def run(self) -> int:
        """Start everything and run Tk's loop until quit. Tk (main) thread."""
        self.start()
        signal.signal(signal.SIGTERM, lambda number, frame: self.shutdown())
        signal.signal(signal.SIGINT, lambda number, frame: self.shutdown())
        self.root.mainloop()
        return 0

    def start(self) -> None:
        """Everything `run` starts but Tk's loop. Tk thread."""
        self.tray.attach(self, tray_view(self.state), self.ui.call_soon, self.root)
        threading.Thread(target=self._log_tray_visible, name="tray-watch", daemon=True).start()
        if self.desktop is None:
            try:
                self.desktop = open_desktop()
            except PhiTrayError as error:
                self.update_state(host="error", host_status=str(error))
                self.tray.notify(str(error))
                log.error("%s", error)
        if self.desktop is not None:
            self.engine = JobThread(self.desktop, self.controller.current, self._engine_config(),
                                    lambda event: self.ui.call_soon(lambda: self._on_job_event(event)))
            self.engine.start()
            self.reconfigure(report=True)
        self.lock.serve(self._on_instance_message)
        self._check_autostart()
        self.read_disk_state()
        self.update_state(model_id=self.first_run.start_model(self.settings))  # the starter while Phi-3 downloads
        self.controller.switch(self.chain_options())
        self._report_problems()

    def _log_tray_visible(self) -> None:
        """Runs on the "tray-watch" thread: one log line with the time the icon took to show."""
        if self.tray.visible.wait(30):
            # The icon usually shows before this thread starts: count to when it showed, not to now.
            shown = seconds_since_launch() - (time.perf_counter() - self.tray.shown_at)
            log.info("tray icon visible %.0f ms after launch", shown * 1000)

    def shutdown(self) -> None:
        """End every thread and process of the agent: Quit, SIGTERM, or `phitray stop`. Tk thread."""
        log.info("quitting")
        self.ui.close()
        if self.engine is not None:
            self.engine.stop()
        if self.desktop is not None:
            self.desktop.close()
        self.first_run.close()
        self.controller.close()
        self.tray.stop()
        self.lock.release()
        self.root.quit()

    def update_state(self, **changes: object) -> None:
        """Replace the agent's state and redraw the tray from it. Tk thread."""
        self.state = replace(self.state, **changes)  # type: ignore[arg-type]
        self.tray.show(tray_view(self.state))

    # --- the model host --------------------------------------------------------------

    def chain_options(self) -> ChainOptions:
        """What the next model host loads: the settings' chain (or the tray's one backend) and model. Tk thread."""
        chain = self.settings.chain if self.state.backend_choice == "auto" else (self.state.backend_choice,)
        return ChainOptions(chain=chain, model_id=self.state.model_id, cache_dir=self.paths.compile_cache_dir,
                            allow_pull=self.settings.allow_pull, prompt_lookup=self.settings.prompt_lookup,
                            draft_model=self.settings.draft_model)

    def _on_host_change(self, change: HostChange) -> None:
        """An event of the current model host, marshalled to the Tk thread."""
        event = change.event
        log.info("model host %d: %s: %s", change.generation, event.kind, event.text)
        host = self.controller.current()
        if event.kind in ("ready", "load-failed") and host is not None:
            self.first_run.host_settled(self.chain_options().chain, host.decisions)
        notes = tuple(f"{backend}: skipped, {reason}" for backend, reason in (host.skipped if host else ()))
        if event.info is not None and (note := model_note(event.info.model_id)):
            notes += (note,)
        if event.kind == "ready" and event.info is not None:
            info = event.info
            log.info("model ready %.0f ms after launch (model host pid %s): %s", seconds_since_launch() * 1000,
                     host.pid if host else None, info)
            self.update_state(host="ready", host_status=f"{info.backend_id} · {info.device} · {info.model_id}",
                         notes=notes)
            self.read_disk_state()  # the load may have pulled a model
        elif event.kind == "load-failed":
            log.error("no model: %s", event.text)
            self.update_state(host="error", host_status=event.text, notes=notes)
            self.tray.notify(f"No model could be loaded: {event.text}")
        elif event.kind in ("crashed", "fallback"):
            self.update_state(host="loading", host_status=event.text, notes=notes)
            self.tray.notify(f"The model stopped; restarting it. ({event.text})")
        elif self.state.host != "ready":  # status and trying lines while it loads
            self.update_state(host="loading", host_status=event.text)

    def _downloaded(self, model_id: str) -> None:
        """The first run's download is in the store and verified: switch to it, unless the person has
        chosen another model meanwhile. Tk thread."""
        self.read_disk_state()
        if firstrun.should_switch(model_id, self.state.model_id, self.settings.model_id):
            self._switch_host(f"Loading {model_id}…", model_id=model_id)

    # --- actions, settings and hotkeys -------------------------------------------------

    def load_action_files(self) -> ActionSet:
        """The built-in and the person's actions, read again; their problems kept for the next notice. Tk thread."""
        actions = load_actions(self.paths.user_actions_dir)
        for problem in actions.problems:
            log.warning("%s", problem)
        self.problems.extend(actions.problems)
        return actions

    def _engine_config(self) -> JobSettings:
        s = self.settings
        return JobSettings(
            actions=self.actions,
            capture=CaptureOptions(s.capture_timeout_ms / 1000, s.release_timeout_ms / 1000,
                                   s.paste_timeout_ms / 1000, s.use_primary),
            max_characters=s.max_characters, log_text=s.log_text, output_overrides=s.action_outputs,
            review_before_replace=s.review_before_replace,
            placeholder_defaults={"translate": {"language": s.translate_language}},
        )

    def reconfigure(self, report: bool) -> list[str]:
        """The engine and every hotkey (none while paused) from the settings and actions as they are now;
        returns the combos the desktop refused. `report`: keep the problems for the next notice (the
        settings window shows its own). Tk thread."""
        if self.desktop is None or self.engine is None:
            return []
        self.engine.configure(self._engine_config())
        bindings, problems = hotkey_table(self.settings, self.actions)
        for problem in problems:
            log.warning("%s", problem)
        self.desktop.hotkeys.stop()
        refused = [] if self.state.paused else self.desktop.hotkeys.start(hotkey_callbacks(bindings, self.engine))
        if report:
            self.problems.extend([*problems, *(ConfigError(f"Hotkey {problem}.") for problem in refused)])
        log.info("hotkeys: %s", ", ".join(f"{combo}={binding.describe()}" for combo, binding in bindings.items()))
        return refused

    def _report_problems(self) -> None:
        if self.problems:
            first = self.problems[0]
            more = f" (and {len(self.problems) - 1} more in the log)" if len(self.problems) > 1 else ""
            self.tray.notify(f"{first}{more}", "Phi Tray: check your settings")
            self.problems = []

    # --- job events (Tk thread) ------------------------------------------------------

    def _on_job_event(self, event: JobEvent) -> None:
        if event.kind == "busy":
            self.tray.notify(event.message)
        elif event.kind == "captured":
            self.windows.open_picker(event, [(action.id, action.title) for action in self.actions.ordered()])
        elif event.kind == "started":
            self.update_state(busy=True)
            if event.output == "popup":
                self.windows.open_popup(event)
        elif event.kind == "text":
            self.windows.show_text(event)
        elif event.kind == "done":
            if event.output == "popup":
                self.windows.finish(event)
            elif event.output == "clipboard":
                self.tray.notify(event.message, f"Phi Tray: {event.title}")
            else:
                log.info("%s", event.message)
        elif event.kind in ("failed", "notice"):
            if not self.windows.fail(event.message):
                self.tray.notify(event.message, "Phi Tray" + (f": {event.title}" if event.title else ""))
        elif event.kind == "idle":
            self.update_state(busy=False, can_undo=self.engine is not None and self.engine.last_replace is not None)

    def submit(self, job: Job) -> None:
        """Hand a job to the engine's queue and return at once. Any thread: the Tk thread and the tray's call it."""
        if self.engine is not None:
            self.engine.submit(job)

    def _release_keys(self) -> str:
        """Tk thread: the picker has the keyboard; what was typed before it showed."""
        return self.desktop.keys.release_keyboard() if self.desktop is not None else ""

    def _copy_to_clipboard(self, text: str) -> None:
        if self.desktop is not None:
            self.desktop.clipboard.keep_text(text)

    # --- tray commands (tray thread, or Tk thread from the Tk menu; each returns at once) ---

    def run_on_clipboard(self, action_id: str) -> None:
        self.submit(Job("action", "tray", action_id, from_clipboard=True))

    def open_picker(self) -> None:
        self.submit(Job("capture", "tray"))

    def cancel(self) -> None:
        """Tray thread, Tk thread (popup's Esc) or host-control thread (a switch): sets an event, never waits."""
        if self.engine is not None:
            self.engine.cancel()

    def undo(self) -> None:
        self.submit(Job("undo", "tray"))

    def choose_backend(self, backend: str) -> None:
        self._switch_host(f"Switching to {backend}…", backend_choice=backend)

    def choose_model(self, model_id: str) -> None:
        self._switch_host(f"Loading {model_id}…", model_id=model_id)

    def _switch_host(self, status: str, **choice: str) -> None:
        """A backend or model choice: the state changes on the Tk thread, the host controller does the rest."""
        def switch() -> None:
            """Tk thread."""
            if any(getattr(self.state, name) != value for name, value in choice.items()):
                self.update_state(**choice, host="loading", host_status=status)
                self.controller.switch(self.chain_options())
        self.ui.call_soon(switch)

    def stop_download(self) -> None:
        """The tray's "Stop downloading": the first run's download ends, and nothing of it is kept."""
        self.ui.call_soon(self.first_run.stop)

    def toggle_pause(self) -> None:
        def toggle() -> None:
            """Tk thread."""
            self.update_state(paused=not self.state.paused)
            self.reconfigure(report=True)
            self.tray.notify("Hotkeys paused." if self.state.paused else "Hotkeys on again.")
        self.ui.call_soon(toggle)

    def toggle_autostart(self) -> None:
        def toggle() -> None:
            """Tk thread."""
            try:
                status = self.autostart.status()
                status = self.autostart.disable() if status.enabled else self.autostart.enable()
                self.tray.notify(f"Start on login: {status.describe()}")
            except PhiTrayError as error:
                self.tray.notify(str(error))
            self.read_disk_state()
        self.ui.call_soon(toggle)

    def open_actions_folder(self) -> None:
        self.paths.user_actions_dir.mkdir(parents=True, exist_ok=True)
        open_path(self.paths.user_actions_dir)

    def reload_actions(self) -> None:
        def reload() -> None:
            """Tk thread."""
            self.actions = self.load_action_files()
            self.reconfigure(report=True)
            self.update_state(actions=tuple((a.id, a.title) for a in self.actions.ordered()))
            if self.problems:
                self._report_problems()
            else:
                self.tray.notify(f"{len(self.actions.actions)} actions loaded.")
        self.ui.call_soon(reload)

    def open_settings(self) -> None:
        self.ui.call_soon(self.settings_window.open)

    def open_log(self) -> None:
        open_path(self.paths.log_file)

    def quit(self) -> None:
        """The tray's Quit. Shutting down joins the tray thread, so it runs on the Tk thread."""
        self.ui.call_soon(self.shutdown)

    # --- second launches -------------------------------------------------------------

    def _on_instance_message(self, message: str) -> str:
        """Called on the "instance" thread for each message from a later launch; answers from the state only."""
        state = self.state
        if message == "quit":
            self.ui.call_soon(self.shutdown)
            return "quitting"
        if message == "show":
            self.ui.call_soon(lambda: self.tray.notify(
                f"Phi Tray is running ({state.host_status}). Select text and press {self.settings.picker_hotkey}."))
            return "shown"
        if message == "settings":
            self.ui.call_soon(self.settings_window.open)
            return "opened"
        if message == "status":
            return "\n".join([f"{state.host}: {state.host_status}", *state.notes])
        return "ok"

    def read_disk_state(self) -> None:
        """Start-on-login state and installed models, for the menu. Tk thread."""
        try:
            enabled: bool | None = self.autostart.status().enabled
        except PhiTrayError:
            enabled = None
        try:
            models = tuple(sorted({m.model_id for m in ModelStore(self.paths.models_dir).installed()}))
        except (OSError, PhiTrayError):
            models = ()
        self.update_state(autostart=enabled, installed_models=models,
                          actions=tuple((a.id, a.title) for a in self.actions.ordered()))

    def _check_autostart(self) -> None:
        try:
            repaired = autostart.check(self.autostart)
        except PhiTrayError as error:
            log.warning("%s", error)
            return
        if repaired:
            log.info("%s", repaired)
            self.tray.notify(repaired)
