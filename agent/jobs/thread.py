"""The jobs thread: one job at a time, from the selection to the delivered result.

Hotkey callbacks, tray items and popup buttons call `JobThread.submit`, which
never blocks: a job is taken if the thread is idle, otherwise it is dropped
with a `Busy` event. `cancel` only sets an event and queues a word for the
running generation: neither touches the pipe nor Tk. The jobs thread then
runs the job in stages (`jobs.steps`). Everything it has to say goes out as
typed events (`jobs.types`) through one callback, which the UI marshals to its
own thread, and each job ends in one `JobRecord` (never the person's text),
which the tests and the benchmark read.

`run_job` is the synchronous seam: tests call it directly with a scripted or
real desktop and a scripted or real model host.
"""

from __future__ import annotations

import itertools
import logging
import queue
import threading
import time
from collections.abc import Callable
from typing import Any

from phitray import errors
from phitray.actions.model import Action
from phitray.app_profiles import AppProfile
from phitray.desktop import Desktop, WindowTraits
from phitray.host.client import Host
from phitray.jobs import restore, steps
from phitray.jobs.apps import RecentApps
from phitray.jobs.capture import bring_to_front, capture_selection, wait_for_release
from phitray.jobs.paste import paste_text
from phitray.jobs.record import JobRecord
from phitray.logs import TEXT
from phitray.jobs.timeline import Timeline
from phitray.jobs.types import (
    ActionJob,
    Busy,
    CaptureJob,
    CaptureTaken,
    Delivered,
    Failed,
    Idle,
    Job,
    JobEvent,
    JobSettings,
    Noticed,
    PasteJob,
    PickedJob,
    Replaced,
    RestoreJob,
    Started,
    UndoJob,
)

log = logging.getLogger(__name__)
BUSY_MESSAGE = "Still working on the last action. Press the cancel hotkey to stop it."


class JobThread:
    def __init__(self, desktop: Desktop, host: Callable[[], Host | None], config: JobSettings,
                 on_event: Callable[[JobEvent], None]) -> None:
        """`host` gives the current model host; `on_event` is called on the jobs thread (and, for
        `Busy`, on whichever thread submitted) and must not block."""
        self.desktop = desktop
        self._host, self._emit = host, on_event
        self.config = config
        self.last_replace: Replaced | None = None
        self.last_timeline: Timeline | None = None
        self.last_record: JobRecord | None = None
        self.apps = RecentApps()  # the apps jobs ran in lately, for the settings window's Apps tab
        self._jobs: queue.SimpleQueue[Job | None] = queue.SimpleQueue()
        self._busy = threading.Lock()
        self._refusals = threading.Lock()  # makes "busy, count the refusal" one step against the job's end
        self._refused = 0
        self._cancelled = threading.Event()
        self._running: steps.CancellableModel | None = None
        self._ids = itertools.count(1)
        self._thread: threading.Thread | None = None

    # --- any thread ------------------------------------------------------------------

    def configure(self, config: JobSettings) -> None:
        """New settings or actions; the next job reads them (one frozen object, swapped whole). Any thread."""
        self.config = config

    def start(self) -> None:
        self._thread = threading.Thread(target=self._loop, name="jobs", daemon=True)
        self._thread.start()

    def stop(self) -> None:
        self.cancel()
        self._jobs.put(None)
        if self._thread is not None:
            self._thread.join(timeout=10)

    @property
    def busy(self) -> bool:
        return self._busy.locked()

    def submit(self, job: Job) -> bool:
        """Queue `job` if nothing runs; otherwise say so, once per running job. Never blocks (hotkey threads call it).

        One notice per job, not per press: a key held down or pressed in a
        hurry must not bury the person in notifications.
        """
        with self._refusals:
            if not self._busy.acquire(blocking=False):
                self._refused += 1
                first = self._refused == 1
            else:
                first = False
                self._cancelled.clear()
                self._jobs.put(job)
                return True
        if first:
            self._emit(Busy(BUSY_MESSAGE))
        return False

    def cancel(self) -> bool:
        """Stop the running job, if any. Any thread; never waits (the jobs thread tells the host)."""
        if not self.busy:
            return False
        self._cancelled.set()
        running = self._running
        if running is not None and running.current is not None:
            running.current.cancel()
        return True

    # --- the jobs thread -----------------------------------------------------------

    def _loop(self) -> None:
        """The jobs thread: one job after another until stop()."""
        while True:
            job = self._jobs.get()
            if job is None:
                return
            try:
                job_id = self.run_job(job)
            finally:
                with self._refusals:
                    refused, self._refused = self._refused, 0
                    self._busy.release()
                self._emit(Idle(can_undo=self.last_replace is not None))
            if refused:
                log.info("job %d: %d more requests while it ran were refused", job_id, refused)

    def run_job(self, job: Job) -> int:
        """Run one job to the end on the calling thread; every outcome becomes an event. Returns its number."""
        job_id = next(self._ids)
        began = time.time()
        timeline = Timeline()
        timeline.mark("pressed", job.pressed_at)
        self.last_timeline = timeline
        title = getattr(job, "action_id", "")
        outcome = "done"
        found: dict[str, Any] = {}
        try:
            match job:
                case PasteJob():
                    self._paste(job_id, job, timeline)
                    found["output"] = "paste"
                case UndoJob():
                    self._undo(job_id)
                    found["output"] = "undo"
                case RestoreJob():
                    found["output"] = restore.put_back(job_id, job, self.desktop, self.config, timeline, self._emit)
                case CaptureJob():  # the picker's first half: take the selection, then let the person choose
                    self._ready_host()
                    captured = capture_selection(self.desktop, self.config.capture, timeline, hold_keys=True,
                                                 max_characters=self.config.max_characters, resolve=self._resolve)
                    found.update(capture=captured.path, profile=captured.profile.name if captured.profile else "")
                    self._emit(CaptureTaken(job_id, captured))
                case ActionJob() | PickedJob():
                    action = (job.draft if isinstance(job, ActionJob) else None) or self.config.actions.get(job.action_id)
                    title = action.title
                    found = self._run_action(job_id, job, action, timeline)
        except errors.Cancelled:
            outcome = "Cancelled"
            self._emit(Failed(job_id, "Cancelled. Your text and clipboard are as they were.", title))
        except errors.AppOff as off:  # the app's profile has Phi Tray off: no key was sent to it
            outcome, found["profile"] = "AppOff", off.profile
            self._emit(Noticed(job_id, str(off), title))
        except (errors.Notice, errors.ContextOverflow, errors.ConfigError) as problem:
            outcome = type(problem).__name__
            self._emit(Noticed(job_id, str(problem), title))
        except errors.HostError as problem:
            outcome = type(problem).__name__
            self._emit(Failed(job_id, f"{problem} Your text and clipboard are as they were.", title))
        except errors.PhiTrayError as problem:
            outcome = type(problem).__name__
            self._emit(Failed(job_id, str(problem), title))
        except Exception as problem:  # the jobs thread must outlive any one job
            outcome = type(problem).__name__
            log.error("job %d failed: %s", job_id, type(problem).__name__)
            TEXT.exception("job %d failed", job_id)  # the traceback can quote the person's text
            self._emit(Failed(job_id, f"Something went wrong: {problem}. Details are in the log.", title))
        finally:
            self._running = None
            self._cancelled.clear()  # a cancel belongs to the job it came during, never to the next one
            record = JobRecord(job_id, job.kind, getattr(job, "action_id", ""), job.source, outcome,
                               round(began, 3), round(time.time(), 3), timeline.milliseconds(), **found)
            self.last_record = record
            record.write()
        return job_id

    def _run_action(self, job_id: int, job: ActionJob | PickedJob, action: Action,
                    timeline: Timeline) -> dict[str, Any]:
        """acquire → generate → check → deliver; returns what the job record adds."""
        config = self.config
        host = self._ready_host()
        given = steps.acquire(job, action, self.desktop, config, timeline, self._resolve)
        action = steps.for_app(action, given.profile)  # its tone and format in this app
        if config.log_text:
            log.debug("job %d input: %r", job_id, given.text)
        self._emit(Started(job_id, action.title, given.output, steps.retry_job(job, given)))
        model = steps.CancellableModel(host, timeline, self._cancelled)
        self._running = model
        values = steps.placeholder_values(job, action, config, given.profile)
        result = steps.generate(job_id, action, given, values, model, config, timeline, self._emit,
                                steps.sampling(job, 0))
        checks = steps.check(action, given, result, values)
        for attempt in range(1, steps.tries(job)):  # "Another version" after a flagged answer: the next sample
            if all(check.passed for check in checks):
                break
            # The popup starts over on the next sample.
            self._emit(Started(job_id, action.title, given.output, steps.retry_job(job, given)))
            result = steps.generate(job_id, action, given, values, model, config, timeline, self._emit,
                                    steps.sampling(job, attempt))
            checks = steps.check(action, given, result, values)
        if config.log_text:
            log.debug("job %d result: %r", job_id, result.text)
        timeline.mark("checked")
        output, replaced = steps.deliver(job_id, job, action, given, result, checks, self.desktop, config, timeline,
                                         self._emit)
        if replaced:
            self.last_replace = Replaced(given.window, given.text, result.text)
        info = host.info
        return {"output": output, "backend": info.backend_id if info else "", "model": info.model_id if info else "",
                "tokens": result.tokens, "tokens_per_second": round(result.tokens_per_second, 1),
                "model_calls": result.model_calls, "model_ms": round(result.model_seconds * 1000, 1),
                "decoding": result.decoding, "flagged": any(not c.passed for c in checks),
                "failed_checks": tuple(c.name for c in checks if not c.passed), "capture": given.capture,
                "profile": given.profile.name if given.profile else ""}

    def _resolve(self, traits: WindowTraits) -> AppProfile | None:
        """Jobs thread: the window's profile, from the settings' [[apps]] and the built-in ones; raises AppOff."""
        return self.apps.resolve(traits, self.config.profiles)

    def _ready_host(self) -> Host:
        """The current host if it has a model loaded; otherwise a notice that says why not."""
        host = self._host()
        if host is not None and host.info is not None:
            return host
        if host is not None and host.failure:
            raise errors.NotReady(f"No model is loaded: {host.failure}")
        raise errors.NotReady("The model is not loaded yet; try again in a moment.")

    def _paste(self, job_id: int, job: PasteJob, timeline: Timeline) -> None:
        if job.window is not None and not bring_to_front(self.desktop.focus, job.window):
            raise errors.PhiTrayError("The window to paste into is gone or would not come to the front; use Copy instead.")
        snapshot = self.desktop.clipboard.snapshot()
        if not paste_text(self.desktop, job.text, snapshot, self.config.capture, timeline, job.window,
                          job.html or None):
            raise errors.PhiTrayError("The window did not take the paste; use Copy instead.")
        self.last_replace = Replaced(job.window, job.original, job.text)
        self._emit(Delivered(job_id, "Pasted.", "paste", title=job.action_id, text=job.text, original=job.original))

    def _undo(self, job_id: int) -> None:
        last = self.last_replace
        if last is None:
            raise errors.NothingToUndo("There is nothing to undo.")
        if last.window is not None and not bring_to_front(self.desktop.focus, last.window):
            raise errors.PhiTrayError("The window of the last replace is gone or would not come to the front.")
        wait_for_release(self.desktop.keys, self.config.capture.release_timeout)
        self.desktop.keys.send_undo()
        self.last_replace = None
        self._emit(Delivered(job_id, "Undid the last replace.", "undo"))
