"""`phitray run`: the tray agent. Wires the tray, hotkeys, engine thread and model host together.

Threads (see DESIGN.md): Tk's main loop owns the main thread and every window;
pystray runs on "tray"; hotkeys on "x11-hotkeys" (keyboard's hook on Windows); jobs on "engine"; the
model host is a child process read by "model-host-supervisor". Other threads
reach Tk only through `UiQueue.call_soon` (phitray.ui.uiqueue).
"""

from __future__ import annotations

import logging
import os
import signal
import subprocess
import sys
import threading
import time
import tkinter
from collections.abc import Callable
from pathlib import Path

from phitray import autostart
from phitray.actions.library import ActionSet, load_actions
from phitray.backends.chain import ChainOptions
from phitray.backends.registry import BACKEND_IDS
from phitray.backends.store import ModelStore
from phitray.capture import CaptureOptions
from phitray.desktop import Desktop, open_desktop
from phitray.errors import ConfigError, PhiTrayError
from phitray.hotkeys import Binding, Combo, bind_all
from phitray.instance import InstanceLock
from phitray.jobs import Job, JobEngine, JobEvent
from phitray.paths import Paths
from phitray.settings import LoadedSettings, Settings
from phitray.supervisor import HostEvent, ModelHost
from phitray.ui.results import ResultWindows
from phitray.ui.tray import Tray, TrayView
from phitray.ui.uiqueue import UiQueue

log = logging.getLogger(__name__)


class Daemon:
    """The running agent. Tray commands are methods here; each returns at once."""

    def __init__(self, paths: Paths, loaded: LoadedSettings, lock: InstanceLock, root: tkinter.Tk, tray: Tray) -> None:
        """`root` and `tray` come made: the icon shows while this module is still being imported."""
        self.paths = paths
        self.root = root
        self.tray = tray
        self.settings: Settings = loaded.settings
        self.startup_problems: list[ConfigError] = list(loaded.problems)
        self.lock = lock
        self.autostart = autostart.for_this_platform()
        self.backend_choice = "auto"
        self.model_id = self.settings.model_id
        self.host: ModelHost | None = None
        self.host_state, self.host_status = "loading", "Loading the model…"
        self.paused = False
        self.busy = False
        self.actions: ActionSet = ActionSet({}, ())
        self.bindings: dict[Combo, Binding] = {}
        self.windows = ResultWindows(root, self._submit, self.cancel, self._copy_to_clipboard)
        self.desktop: Desktop | None = None
        self.engine: JobEngine | None = None
        # Read from disk when they can change (start, toggle, reload, a model loaded), not on every redraw.
        self.autostart_on: bool | None = None
        self.installed_models: tuple[str, ...] = ()

    # --- lifecycle (Tk thread) -------------------------------------------------------

    def run(self) -> int:
        self.ui = UiQueue(self.root)
        self.tray.attach(self, self._view())
        signal.signal(signal.SIGTERM, lambda number, frame: self.quit())
        signal.signal(signal.SIGINT, lambda number, frame: self.quit())
        threading.Thread(target=self._log_tray_visible, name="tray-watch", daemon=True).start()
        try:
            self.desktop = open_desktop()
        except PhiTrayError as error:
            self._set_host_state("error", str(error))
            self.tray.notify(str(error))
            log.error("%s", error)
        self.actions = self._load_actions()
        if self.desktop is not None:
            self.engine = JobEngine(
                self.desktop, lambda: self.host, lambda: self.actions, self._capture_options,
                lambda event: self.ui.call_soon(lambda: self._on_job_event(event)),
                max_characters=self.settings.max_characters, log_text=self.settings.log_text,
                output_overrides=self.settings.action_outputs,
                placeholder_defaults={"translate": {"language": self.settings.translate_language}},
            )
            self.engine.start()
            self._bind_hotkeys()
        self.lock.serve(self._on_instance_message)
        self._check_autostart()
        self._read_disk_state()
        self._start_host()
        self._report_problems()
        self.root.mainloop()
        return 0

    def _log_tray_visible(self) -> None:
        """Runs on the "tray-watch" thread: one log line with the time the icon took to show."""
        if self.tray.visible.wait(30):
            # The icon usually shows before this thread starts: count to when it showed, not to now.
            shown = seconds_since_launch() - (time.perf_counter() - self.tray.shown_at)
            log.info("tray icon visible %.0f ms after launch", shown * 1000)

    def quit(self) -> None:
        """Tray's Quit, SIGTERM, or `phitray stop`. Tk thread."""
        log.info("quitting")
        self.ui.close()
        if self.engine is not None:
            self.engine.stop()
        if self.desktop is not None:
            self.desktop.close()
        if self.host is not None:
            self.host.close()
        self.tray.stop()
        self.lock.release()
        self.root.quit()

    # --- the model host --------------------------------------------------------------

    def _chain_options(self) -> ChainOptions:
        chain = self.settings.chain if self.backend_choice == "auto" else (self.backend_choice,)
        return ChainOptions(chain=chain, model_id=self.model_id, cache_dir=self.paths.compile_cache_dir,
                            allow_pull=self.settings.allow_pull)

    def _start_host(self) -> None:
        """Start (or restart) the model host on a worker thread; the tray shows "loading" meanwhile."""
        old, self.host = self.host, None
        self._set_host_state("loading", f"Loading {self.model_id}…")
        options = self._chain_options()

        def start() -> None:
            """Runs on the "host-start" thread: loading takes seconds."""
            if old is not None:
                old.close()
            host = ModelHost(options, self.paths, lambda event: self.ui.call_soon(lambda: self._on_host_event(event)))
            try:
                host.start()
            except PhiTrayError as error:
                log.error("no model: %s", error)
                reason = str(error)  # `error` is unbound once the except block ends, before the Tk thread runs this
                self.ui.call_soon(lambda: self._host_failed(host, reason))
                return
            self.ui.call_soon(lambda: self._host_ready(host))

        threading.Thread(target=start, name="host-start", daemon=True).start()

    def _host_ready(self, host: ModelHost) -> None:
        self.host = host
        info = host.info
        assert info is not None
        log.info("model ready %.0f ms after launch (model host pid %s): %s", seconds_since_launch() * 1000, host.pid, info)
        self._set_host_state("ready", f"{info.backend_id} · {info.device} · {info.model_id}")
        self._read_disk_state()  # the load may have pulled a model

    def _host_failed(self, host: ModelHost, reason: str) -> None:
        self.host = host  # kept so its decisions can be shown; generate() will refuse
        self._set_host_state("error", reason)
        self.tray.notify(f"No model could be loaded: {reason}")

    def _on_host_event(self, event: HostEvent) -> None:
        """Host events, marshalled to the Tk thread."""
        log.info("model host: %s: %s", event.kind, event.text)
        if event.kind in ("crashed", "fallback"):
            self._set_host_state("loading", event.text)
            self.tray.notify(f"The model stopped; restarting it. ({event.text})")
        elif event.kind == "ready" and event.info is not None and self.host is not None:
            self._set_host_state("ready", f"{event.info.backend_id} · {event.info.device} · {event.info.model_id}")
        elif event.kind == "load-failed" and self.host is not None:
            self._set_host_state("error", event.text)

    def _set_host_state(self, state: str, status: str) -> None:
        self.host_state, self.host_status = state, status
        self.tray.show(self._view())

    # --- actions and hotkeys ---------------------------------------------------------

    def _load_actions(self) -> ActionSet:
        actions = load_actions(self.paths.user_actions_dir)
        for problem in actions.problems:
            log.warning("%s", problem)
        self.startup_problems.extend(actions.problems)
        return actions

    def _bind_hotkeys(self) -> None:
        assert self.desktop is not None
        fixed = {
            "picker": (self.settings.picker_hotkey, f"{self.settings.source} [hotkeys] picker"),
            "cancel": (self.settings.cancel_hotkey, f"{self.settings.source} [hotkeys] cancel"),
        }
        per_action = {a.id: (a.hotkey, a.source) for a in self.actions.actions.values() if a.hotkey}
        for action_id, combo in self.settings.action_hotkeys.items():
            if action_id not in self.actions.actions:
                self.startup_problems.append(ConfigError(f"{self.settings.source}: hotkeys.actions.{action_id}: no such action"))
                continue
            per_action[action_id] = (combo, f"{self.settings.source} [hotkeys.actions]")
        self.bindings, problems = bind_all(fixed, {k: v for k, v in per_action.items() if v[0]})
        for problem in problems:
            log.warning("%s", problem)
        self.startup_problems.extend(problems)
        self.desktop.hotkeys.stop()
        if not self.paused:
            self.desktop.hotkeys.start({combo: self._hotkey_callback(binding) for combo, binding in self.bindings.items()})
        log.info("hotkeys: %s", ", ".join(f"{combo}={binding.describe()}" for combo, binding in self.bindings.items()))

    def _hotkey_callback(self, binding: Binding) -> Callable[[], None]:
        def pressed() -> None:
            """Called on the hotkey listener's thread: only hands work on, never blocks."""
            pressed_at = time.perf_counter()
            if self.engine is None:
                return
            if binding.kind == "cancel":
                self.engine.cancel()
            elif self.host is None or self.host.info is None:
                self.ui.call_soon(lambda: self.tray.notify(f"Not ready: {self.host_status}"))
            elif binding.kind == "picker":
                self.engine.submit(Job("capture", "hotkey", pressed_at=pressed_at))
            else:
                self.engine.submit(Job("action", "hotkey", binding.action_id, pressed_at=pressed_at))
        return pressed

    def _capture_options(self) -> CaptureOptions:
        s = self.settings
        return CaptureOptions(s.capture_timeout_ms / 1000, s.release_timeout_ms / 1000, s.paste_timeout_ms / 1000, s.use_primary)

    def _report_problems(self) -> None:
        if self.startup_problems:
            first = self.startup_problems[0]
            more = f" (and {len(self.startup_problems) - 1} more in the log)" if len(self.startup_problems) > 1 else ""
            self.tray.notify(f"{first}{more}", "Phi Tray: check your settings")
            self.startup_problems = []

    # --- job events (Tk thread) ------------------------------------------------------

    def _on_job_event(self, event: JobEvent) -> None:
        if event.kind == "busy":
            self.tray.notify(event.message)
        elif event.kind == "captured":
            self.windows.open_picker(event, [(action.id, action.title) for action in self.actions.ordered()])
        elif event.kind == "started":
            self.busy = True
            self.tray.show(self._view())
            if event.output == "popup":
                self.windows.open_popup(event)
        elif event.kind == "text":
            self.windows.show_text(event)
        elif event.kind == "done":
            self._done(event)
        elif event.kind in ("failed", "notice"):
            if not self.windows.fail(event.message):
                self.tray.notify(event.message, "Phi Tray" + (f": {event.title}" if event.title else ""))
        elif event.kind == "idle":
            self.busy = False
            self.tray.show(self._view())

    def _done(self, event: JobEvent) -> None:
        if event.output == "popup":
            self.windows.finish(event)
        elif event.output == "clipboard":
            self.tray.notify(event.message, f"Phi Tray: {event.title}")
        elif event.output in ("undo",) or (event.job is not None and event.job.kind == "paste"):
            log.info("%s", event.message)

    def _submit(self, job: Job) -> None:
        if self.engine is not None:
            self.engine.submit(job)

    def _copy_to_clipboard(self, text: str) -> None:
        if self.desktop is not None:
            self.desktop.clipboard.offer_text(text)

    # --- tray commands (tray thread; each hands over at once) --------------------------

    def run_on_clipboard(self, action_id: str) -> None:
        def run() -> None:
            """Tk thread: read the clipboard's text, then queue the action on it."""
            if self.desktop is None or self.engine is None:
                return
            text = self.desktop.clipboard.read_text()
            if text is None or not text.strip():
                self.tray.notify("The clipboard holds no text. Copy some text first.")
                return
            self.engine.submit(Job("action", "tray", action_id, text=text))
        self.ui.call_soon(run)

    def open_picker(self) -> None:
        if self.engine is not None:
            self.engine.submit(Job("capture", "tray"))

    def cancel(self) -> None:
        if self.engine is not None:
            self.engine.cancel()

    def undo(self) -> None:
        if self.engine is not None:
            self.engine.submit(Job("undo", "tray"))

    def choose_backend(self, backend: str) -> None:
        def switch() -> None:
            if backend != self.backend_choice:
                self.backend_choice = backend
                self._start_host()
        self.ui.call_soon(switch)

    def choose_model(self, model_id: str) -> None:
        def switch() -> None:
            if model_id != self.model_id:
                self.model_id = model_id
                self._start_host()
        self.ui.call_soon(switch)

    def toggle_pause(self) -> None:
        def toggle() -> None:
            self.paused = not self.paused
            self._bind_hotkeys()
            self.tray.show(self._view())
            self.tray.notify("Hotkeys paused." if self.paused else "Hotkeys on again.")
        self.ui.call_soon(toggle)

    def toggle_autostart(self) -> None:
        def toggle() -> None:
            try:
                status = self.autostart.status()
                status = self.autostart.disable() if status.enabled else self.autostart.enable()
                self.tray.notify(f"Start on login: {status.describe()}")
            except PhiTrayError as error:
                self.tray.notify(str(error))
            self._read_disk_state()
        self.ui.call_soon(toggle)

    def open_actions_folder(self) -> None:
        self.paths.user_actions_dir.mkdir(parents=True, exist_ok=True)
        open_path(self.paths.user_actions_dir)

    def reload_actions(self) -> None:
        def reload() -> None:
            self.actions = self._load_actions()
            if self.desktop is not None:
                self._bind_hotkeys()
            self.tray.show(self._view())
            if self.startup_problems:
                self._report_problems()
            else:
                self.tray.notify(f"{len(self.actions.actions)} actions loaded.")
        self.ui.call_soon(reload)

    def open_log(self) -> None:
        open_path(self.paths.log_file)

    # --- second launches -------------------------------------------------------------

    def _on_instance_message(self, message: str) -> str:
        """Called on the "instance" thread for each message from a later launch."""
        if message == "quit":
            self.ui.call_soon(self.quit)
            return "quitting"
        if message == "show":
            self.ui.call_soon(lambda: self.tray.notify(
                f"Phi Tray is running ({self.host_status}). Select text and press {self.settings.picker_hotkey}."))
            return "shown"
        if message == "status":
            return f"{self.host_state}: {self.host_status}"
        return "ok"

    def _read_disk_state(self) -> None:
        """Start-on-login state and installed models, for the menu. Tk thread."""
        try:
            self.autostart_on = self.autostart.status().enabled
        except PhiTrayError:
            self.autostart_on = None
        try:
            self.installed_models = tuple(sorted({m.model_id for m in ModelStore(self.paths.models_dir).installed()}))
        except (OSError, PhiTrayError):
            self.installed_models = ()
        self.tray.show(self._view())

    def _check_autostart(self) -> None:
        try:
            repaired = autostart.check(self.autostart)
        except PhiTrayError as error:
            log.warning("%s", error)
            return
        if repaired:
            log.info("%s", repaired)
            self.tray.notify(repaired)

    # --- the tray's view -------------------------------------------------------------

    def _view(self) -> TrayView:
        state = self.host_state
        if state == "ready" and self.busy:
            state = "busy"
        elif state == "ready" and self.paused:
            state = "paused"
        return TrayView(
            state=state,
            status=self.host_status if state != "busy" else f"Working… · {self.host_status}",
            actions=tuple((a.id, a.title) for a in self.actions.ordered()),
            busy=self.busy,
            can_undo=self.engine is not None and self.engine.last_replace is not None,
            paused=self.paused,
            autostart=self.autostart_on,
            backend_choice=self.backend_choice,
            backends=BACKEND_IDS,
            model_id=self.model_id,
            models=self.installed_models,
            picker_hotkey=self.settings.picker_hotkey,
        )


def seconds_since_launch() -> float:
    """Time since this process started (Linux: from /proc), else since the daemon module was imported."""
    if sys.platform != "win32":
        try:
            ticks = int(Path("/proc/self/stat").read_text().rsplit(")", 1)[1].split()[19])
            uptime = float(Path("/proc/uptime").read_text().split()[0])
            return uptime - ticks / os.sysconf("SC_CLK_TCK")
        except (OSError, ValueError, IndexError):
            pass
    return time.perf_counter() - IMPORTED_AT


IMPORTED_AT = time.perf_counter()


def open_path(path: Path) -> None:
    """Open a folder or file in the desktop's default program, without waiting for it."""
    if sys.platform == "win32":
        os.startfile(path)  # type: ignore[attr-defined]
        return
    opener = "open" if sys.platform == "darwin" else "xdg-open"
    try:
        subprocess.Popen([opener, str(path)], stdin=subprocess.DEVNULL, stdout=subprocess.DEVNULL,
                         stderr=subprocess.DEVNULL, start_new_session=True)
    except OSError as error:
        log.warning("cannot open %s: %s", path, error)
