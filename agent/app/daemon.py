"""`phitray run`: the tray agent. Wires the tray, hotkeys, jobs thread, host controller and windows together.

Threads: ARCHITECTURE.md's table. Other threads reach Tk only through
`UiQueue.call_soon`, which never waits. The state the tray shows is one frozen
`AgentState`, replaced on the Tk thread and drawn by `view.tray_view`.

The daemon is the one writer of the agent's settings, actions, problems and
host choice: every change goes through `apply`, which compares old and new and
does only what changed.
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
from phitray.app.commands import AgentCommands
from phitray.app.history import History
from phitray.app.notices import Notices
from phitray.app.settings_link import LiveSettings
from phitray.app.usage import ActionUses
from phitray.app.view import AgentState, tray_view
from phitray.backends.catalog import model_note
from phitray.backends.chain import ChainOptions
from phitray.backends.registry import BACKEND_IDS
from phitray.backends.store import ModelStore
from phitray.desktop import Desktop, autostart, open_desktop
from phitray.desktop.instance import InstanceLock
from phitray.desktop.system import seconds_since_launch
from phitray.errors import ConfigError, PhiTrayError
from phitray.hotkeys import Binding, Combo
from phitray.host.controller import HostChange, HostController
from phitray.jobs.capture import CaptureOptions
from phitray.jobs.thread import JobThread
from phitray.jobs import types as job
from phitray.logs import LogFlags, milestone, set_level
from phitray.paths import Paths
from phitray.serve.server import Endpoint
from phitray.settings import LoadedSettings, Settings
from phitray.ui.job_windows import JobWindows
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
        self.log_flags = log_flags  # `run --log-text` and `--debug`, kept over every change of the settings
        self.settings: Settings = log_flags.settings(loaded.settings)
        self.problems: list[ConfigError] = list(loaded.problems)  # kept for the next notice
        self.lock = lock
        self.autostart = autostart.for_this_platform()
        self.ui = UiQueue(root, wake)
        self.history = History(paths.history_file, self.settings.history_on_disk,  # the last results, in memory
                               lambda recent: self.update_state(recent=recent))
        self.state = AgentState(backends=BACKEND_IDS, model_id=self.settings.model_id,
                                picker_hotkey=self.settings.picker_hotkey, recent=self.history.recent())
        self.actions = self.read_actions()
        self.problems.extend(self.actions.problems)
        self.uses = ActionUses()  # how often each action ran, for the picker's order; counts only
        self.windows = JobWindows(root, self.submit, self.cancel, self._copy_to_clipboard, self._release_keys)
        self.desktop = desktop
        self.jobs: JobThread | None = None
        self._bound: dict[Combo, Binding] | None = None  # the hotkeys bound now; None: none (paused, or held)
        self._refused: list[str] = []  # what the desktop refused of them
        self.notices = Notices(root, tray)
        self.first_run = firstrun.FirstRun(paths, self.ui.call_soon, self.tray.notify,
                                           lambda text: self.update_state(download=text), self._downloaded)
        self.settings_window = LiveSettings(self)
        self.commands = AgentCommands(self)
        self.controller = HostController(paths, lambda change: self.ui.call_soon(lambda: self._on_host_change(change)),
                                         before_switch=self.cancel)
        self.endpoint = Endpoint(paths, self.controller.current, self.tray.notify)  # the local endpoint, when enabled

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
        self.tray.attach(self.commands, tray_view(self.state), self.ui.call_soon, self.root)
        threading.Thread(target=self._log_tray_visible, name="tray-watch", daemon=True).start()
        if self.desktop is None:
            try:
                self.desktop = open_desktop()
            except PhiTrayError as error:
                self.update_state(host="error", host_status=str(error))
                self.tray.notify(str(error))
                log.error("%s", error)
        if self.desktop is not None:
            self.desktop.focus.set_terminals(self.settings.terminals)
            if self.desktop.limits:
                milestone("session-limits")
                self.tray.notify(self.desktop.limits)
            self.jobs = JobThread(self.desktop, self.controller.current, self._job_settings(),
                                  lambda event: self.ui.call_soon(lambda: self._on_job_event(event)))
            self.jobs.start()
            self._bind_hotkeys(report=True)
        self.lock.serve(self.commands.answer)
        self._check_autostart()
        self.read_disk_state()
        self.update_state(model_id=self.first_run.start_model(self.settings))  # the starter while Phi-3 downloads
        self.controller.switch(self.chain_options())
        self.endpoint.apply(self.settings.server)
        self._report_problems()

    def _log_tray_visible(self) -> None:
        """Runs on the "tray-watch" thread: one log line with the time the icon took to show."""
        if self.tray.visible.wait(30):
            # The icon usually shows before this thread starts: count to when it showed, not to now.
            shown = seconds_since_launch() - (time.perf_counter() - self.tray.shown_at)
            milestone("tray-visible", ms=round(shown * 1000))

    def shutdown(self) -> None:
        """End every thread and process of the agent: Quit, SIGTERM, or `phitray stop`. Tk thread."""
        log.info("quitting")
        self.ui.close()
        if self.jobs is not None:
            self.jobs.stop()
        if self.desktop is not None:
            self.desktop.close()
        self.first_run.close()
        self.endpoint.stop()
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
        milestone("host-event", generation=change.generation, kind=event.kind)
        host = self.controller.current()
        if event.kind in ("ready", "load-failed") and host is not None:
            self.first_run.host_settled(self.chain_options().chain, host.decisions)
        notes = tuple(f"{backend}: skipped, {reason}" for backend, reason in (host.skipped if host else ()))
        if event.info is not None and (note := model_note(event.info.model_id)):
            notes += (note,)
        if event.kind == "ready" and event.info is not None:
            info = event.info
            log.info("model ready: %s", info)
            milestone("model-ready", model_id=info.model_id, backend=info.backend_id, device=info.device,
                      pid=host.pid if host else None, ms=round(seconds_since_launch() * 1000))
            self.update_state(host="ready", host_status=f"{info.backend_id} · {info.device} · {info.model_id}",
                         notes=notes)
            self.read_disk_state()  # the load may have pulled a model
        elif event.kind == "load-failed":
            log.error("no model: %s", event.text)
            milestone("model-failed")
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
            self.choose_host(f"Loading {model_id}…", model_id=model_id)

    # --- the one writer of settings, actions, problems and the host choice (Tk thread) ----

    def apply(self, new_settings: Settings | None = None, new_actions: ActionSet | None = None,
              report: bool = True) -> list[str]:
        """Make `new_settings` and/or `new_actions` the agent's, doing only what changed: the jobs' settings
        swapped, the hotkeys bound again only when a combo changed, the model host switched only when the
        backend, model or decoding changed, the tray redrawn. `report`: keep the problems for the next
        notice (the settings window shows its own). Returns the combos the desktop refused. Tk thread."""
        before = self.chain_options()
        if new_settings is not None:
            old, self.settings = self.settings, self.log_flags.settings(new_settings)
            set_level(self.log_flags.level(self.settings), self.settings.log_text)
            if self.settings.model_id != old.model_id:
                self.update_state(model_id=self.settings.model_id)
            if self.desktop is not None and self.settings.terminals != old.terminals:
                self.desktop.focus.set_terminals(self.settings.terminals)
            if self.settings.server != old.server:
                self.endpoint.apply(self.settings.server)
            self.history.keep_on_disk(self.settings.history_on_disk)
        if new_actions is not None:
            self.actions = new_actions
            if report:
                self.problems.extend(new_actions.problems)
        if self.jobs is not None:
            self.jobs.configure(self._job_settings())
        if self._bound is not None and self._bound != hotkey_table(self.settings, self.actions)[0]:
            self._bind_hotkeys(report)
        if self.chain_options() != before:
            self.update_state(host="loading", host_status=f"Loading {self.state.model_id}…")
            self.controller.switch(self.chain_options())
        self.update_state(picker_hotkey=self.settings.picker_hotkey,
                          actions=tuple((a.id, a.title) for a in self.actions.ordered()))
        return self._refused

    def read_actions(self) -> ActionSet:
        """The built-in and the person's actions, read again, each problem logged (the set keeps them); for
        `apply`. Tk thread."""
        actions = load_actions(self.paths.user_actions_dir)
        for problem in actions.problems:
            log.warning("%s", problem)
        return actions

    def _job_settings(self) -> job.JobSettings:
        s = self.settings
        return job.JobSettings(
            actions=self.actions,
            capture=CaptureOptions(s.capture_timeout_ms / 1000, s.release_timeout_ms / 1000,
                                   s.paste_timeout_ms / 1000, s.use_primary),
            max_characters=s.max_characters, log_text=s.log_text, output_overrides=s.action_outputs,
            review_before_replace=s.review_before_replace, profiles=s.apps,
            placeholder_defaults={"translate": {"language": s.translate_language}},
        )

    def _bind_hotkeys(self, report: bool) -> None:
        """Every hotkey (none while paused) from the settings and actions as they are now. `report`: keep
        the problems for the next notice. Tk thread."""
        if self.desktop is None or self.jobs is None:
            return
        bindings, problems = hotkey_table(self.settings, self.actions)
        for problem in problems:
            log.warning("%s", problem)
        self.desktop.hotkeys.stop()
        self._refused = [] if self.state.paused else self.desktop.hotkeys.start(hotkey_callbacks(bindings, self.jobs))
        self._bound = bindings
        if report:
            self.problems.extend([*problems, *(ConfigError(f"Hotkey {problem}.") for problem in self._refused)])
        log.info("hotkeys: %s", ", ".join(f"{combo}={binding.describe()}" for combo, binding in bindings.items()))

    def hold_hotkeys(self, held: bool) -> None:
        """Every hotkey off while the settings window records a combo, so pressing one reaches the window;
        bound again after. Tk thread."""
        if held and self.desktop is not None:
            self.desktop.hotkeys.stop()
            self._bound = None
        elif not held:
            self._bind_hotkeys(report=False)

    def _report_problems(self) -> None:
        if self.problems:
            first = self.problems[0]
            more = f" (and {len(self.problems) - 1} more in the log)" if len(self.problems) > 1 else ""
            self.tray.notify(f"{first}{more}", "Phi Tray: check your settings")
            self.problems = []

    # --- job events (Tk thread) ------------------------------------------------------

    def icon_docked(self, docked: bool) -> None:
        """Whether a tray shows the icon, as the tray found; the picker lists its entries meanwhile. Tk thread."""
        self.notices.icon_docked(docked, self.settings.picker_hotkey)

    def _on_job_event(self, event: job.JobEvent) -> None:
        self.history.note(event)
        if not isinstance(event, (job.Streamed, job.Idle)):
            self.notices.job_seen(self.settings.picker_hotkey)

        def say(message: str, title: str = "") -> None:
            self.notices.say(message, event.kind, title)

        match event:
            case job.Busy(message):
                say(message)
            case job.CaptureTaken():
                ordered, hotkeys = self.uses.picker_rows(self.actions, self.settings)
                menu = self.commands.picker_menu() if self.notices.tray_missing else ()
                self.windows.open_picker(event, ordered, menu, hotkeys)
            case job.Started(output=output):
                self.uses.count(event)
                self.update_state(busy=True)
                if output == "popup":
                    self.windows.open_popup(event)
            case job.Streamed():
                self.windows.show_text(event)
            case job.Delivered(output="popup"):
                self.windows.finish(event)
            case job.Delivered(output="clipboard", message=message, title=title):
                say(message, title)
            case job.Delivered(message=message):
                log.info("%s", message)
            case job.Ended(message=message, title=title):
                if not self.windows.fail(message):
                    say(message, title)
            case job.Idle(can_undo):
                self.update_state(busy=False, can_undo=can_undo)

    def submit(self, work: job.Job) -> None:
        """Hand a job to the jobs thread and return at once. Any thread: the Tk thread and the tray's call it."""
        if self.jobs is not None:
            self.jobs.submit(work)

    def _release_keys(self) -> str:
        """Tk thread: the picker has the keyboard; what was typed before it showed."""
        if self.desktop is None:
            return ""
        return self.desktop.keys.release_keyboard(lambda: self.ui.call_soon(self._picker_not_in_front))

    def _picker_not_in_front(self) -> None:
        """Tk thread: Windows never let the picker to the front, so what the person types goes elsewhere.
        A picker left behind would look ready and take nothing: close it and say how to get it back."""
        if self.windows.picker is not None:
            self.windows.picker.close()
            self.windows.picker = None
            self.notices.picker_not_in_front(self.settings.picker_hotkey)

    def _copy_to_clipboard(self, text: str) -> None:
        if self.desktop is not None:
            self.desktop.clipboard.keep_text(text)

    def cancel(self) -> None:
        """Tray thread, Tk thread (popup's Esc) or host-control thread (a switch): sets an event, never waits."""
        if self.jobs is not None:
            self.jobs.cancel()

    # --- what the tray's commands change (Tk thread) -----------------------------------

    def choose_host(self, status: str, **choice: str) -> None:
        """A backend or model chosen in the tray: the state changes here, the host controller does the rest."""
        if any(getattr(self.state, name) != value for name, value in choice.items()):
            self.update_state(**choice, host="loading", host_status=status)
            self.controller.switch(self.chain_options())

    def set_paused(self, paused: bool) -> None:
        self.update_state(paused=paused)
        self._bind_hotkeys(report=True)
        self.tray.notify("Hotkeys paused." if paused else "Hotkeys on again.")

    def reload_actions(self) -> None:
        """The tray's "Reload actions": read the files again and say what came of it."""
        self.apply(new_actions=self.read_actions())
        if self.problems:
            self._report_problems()
        else:
            self.tray.notify(f"{len(self.actions.actions)} actions loaded.")

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
