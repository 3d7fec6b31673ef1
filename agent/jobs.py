"""The engine thread: one job at a time, from the selection to the delivered result.

Hotkey callbacks, tray items and popup buttons call `JobEngine.submit`, which
never blocks: a job is taken if the engine is idle, otherwise it is dropped
with a "busy" notice. The engine thread then captures the selection, runs the
action on the resident model, and delivers the result (replace, popup,
clipboard). Everything it has to say goes out as `JobEvent`s through one
callback, which the UI marshals to its own thread.

`run_job` is the synchronous seam: tests call it directly with a scripted or
real desktop.
"""

from __future__ import annotations

import itertools
import logging
import queue
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass, field, replace

from phitray import errors
from phitray.actions.library import ActionSet
from phitray.actions.model import Action
from phitray.actions.runner import NothingToDo, run_action
from phitray.backends.base import BackendInfo, Request
from phitray.capture import (
    CaptureOptions,
    NothingSelected,
    Timeline,
    capture_selection,
    paste_text,
    wait_for_release,
)
from phitray.desktop import Desktop
from phitray.protocol import GenerationStats
from phitray.supervisor import Generation, ModelHost

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class Job:
    kind: str  # "action" | "capture" (for the picker) | "paste" (a popup's Replace) | "undo"
    source: str  # "hotkey" | "picker" | "tray" | "popup"
    action_id: str = ""
    text: str | None = None  # the input; None = capture the selection
    values: tuple[tuple[str, str], ...] = ()
    output: str | None = None  # overrides the action's own output
    window: int | None = None  # where a paste goes
    original: str = ""  # for a paste: the text it replaces, kept for Undo
    pressed_at: float = field(default_factory=time.perf_counter)


@dataclass(frozen=True)
class JobEvent:
    kind: str  # "captured" | "started" | "text" | "done" | "failed" | "notice" | "busy" | "idle"
    job_id: int = 0
    message: str = ""  # what to tell the person; never their text
    text: str = ""  # a streamed piece ("text") or the whole result ("done")
    title: str = ""
    output: str = ""  # where the result goes: replace | popup | clipboard
    job: Job | None = None
    original: str = ""  # the input, kept for Retry / Undo
    at: float = field(default_factory=time.perf_counter)  # when the engine sent it


@dataclass(frozen=True)
class Replaced:
    """The last replace, so the tray's Undo can take it back."""

    window: int | None
    original: str
    result: str


class Cancelled(errors.PhiTrayError):
    """The person cancelled the running job."""


class _CancellableModel:
    """The runner's engine protocol over a ModelHost, with cancel and a 'prompt sent' mark."""

    def __init__(self, host: ModelHost, timeline: Timeline, cancelled: threading.Event) -> None:
        self._host, self._timeline, self._cancelled = host, timeline, cancelled
        self.current: Generation | None = None

    @property
    def info(self) -> BackendInfo | None:
        return self._host.info

    def generate(self, request: Request) -> Generation:
        if self._cancelled.is_set():
            raise Cancelled("Cancelled.")
        self._timeline.mark("prompt_sent")
        self.current = self._host.generate(request)
        return self.current

    def count_tokens(self, text: str) -> int:
        return self._host.count_tokens(text)


class JobEngine:
    def __init__(
        self,
        desktop: Desktop,
        model: Callable[[], ModelHost | None],
        actions: Callable[[], ActionSet],
        options: Callable[[], CaptureOptions],
        on_event: Callable[[JobEvent], None],
        max_characters: int = 200_000,
        log_text: bool = False,
        output_overrides: dict[str, str] | None = None,
        placeholder_defaults: dict[str, dict[str, str]] | None = None,
    ) -> None:
        self.desktop = desktop
        self._model, self._actions, self._options, self._emit = model, actions, options, on_event
        self.max_characters, self.log_text = max_characters, log_text
        self.output_overrides = output_overrides or {}
        self.placeholder_defaults = placeholder_defaults or {}
        self.last_replace: Replaced | None = None
        self.last_timeline: Timeline | None = None
        self.last_stats = ""  # tokens and tokens/s of the last answer, for the log
        self._jobs: queue.SimpleQueue[Job | None] = queue.SimpleQueue()
        self._busy = threading.Lock()
        self._refusals = threading.Lock()  # makes "busy, count the refusal" one step against the job's end
        self._refused = 0
        self._cancelled = threading.Event()
        self._running: _CancellableModel | None = None
        self._ids = itertools.count(1)
        self._thread: threading.Thread | None = None

    # --- any thread ------------------------------------------------------------------

    def start(self) -> None:
        self._thread = threading.Thread(target=self._loop, name="engine", daemon=True)
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
            self._emit(JobEvent("busy", message="Still working on the last action. Press the cancel hotkey to stop it."))
        return False

    def cancel(self) -> bool:
        """Stop the running job, if any. Any thread."""
        if not self.busy:
            return False
        self._cancelled.set()
        running = self._running
        if running is not None and running.current is not None:
            running.current.cancel()
        return True

    # --- the engine thread -----------------------------------------------------------

    def _loop(self) -> None:
        """The engine thread: one job after another until stop()."""
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
                self._emit(JobEvent("idle"))
            if refused:
                log.info("job %d: %d more requests while it ran were refused", job_id, refused)

    def run_job(self, job: Job) -> int:
        """Run one job to the end on the calling thread; every outcome becomes an event. Returns its number."""
        job_id = next(self._ids)
        began = time.time()
        timeline = Timeline()
        timeline.mark("pressed", job.pressed_at)
        self.last_timeline = timeline
        self.last_stats = ""
        title = job.action_id
        outcome = "done"
        try:
            if job.kind == "paste":
                self._paste(job, timeline)
            elif job.kind == "undo":
                self._undo(job)
            elif job.kind == "capture":  # the picker's first half: take the selection, then let the person choose
                captured = capture_selection(self.desktop, self._options(), timeline)
                self._emit(JobEvent("captured", job_id, text=captured.text, job=replace(job, window=captured.window),
                                    original=captured.text))
            else:
                action = self._actions().get(job.action_id)
                title = action.title
                self._run_action(job_id, job, action, timeline)
        except Cancelled:
            outcome = "cancelled"
            self._emit(JobEvent("failed", job_id, "Cancelled. Your text and clipboard are as they were.", title=title, job=job))
        except (NothingSelected, NothingToDo, errors.ContextOverflow, errors.ConfigError) as problem:
            outcome = type(problem).__name__
            self._emit(JobEvent("notice", job_id, str(problem), title=title, job=job))
        except errors.HostError as problem:
            outcome = type(problem).__name__
            self._emit(JobEvent("failed", job_id, f"{problem} Your text and clipboard are as they were.", title=title, job=job))
        except errors.PhiTrayError as problem:
            outcome = type(problem).__name__
            self._emit(JobEvent("failed", job_id, str(problem), title=title, job=job))
        except Exception as problem:  # the engine thread must outlive any one job
            outcome = type(problem).__name__
            log.exception("job %d failed", job_id)
            self._emit(JobEvent("failed", job_id, f"Something went wrong: {problem}. Details are in the log.", title=title, job=job))
        finally:
            self._running = None
            # "ran" is wall-clock seconds, so jobs can be lined up against each other and other logs.
            log.info("job %d %s %s from %s: %s; ran %.3f-%.3f; timings %s%s", job_id, job.kind, job.action_id or "-",
                     job.source, outcome, began, time.time(), timeline.milliseconds(), self.last_stats)
        return job_id

    def _run_action(self, job_id: int, job: Job, action: Action, timeline: Timeline) -> None:
        host = self._model()
        if host is None or host.info is None:
            raise errors.NoBackendLoaded("The model is not loaded yet; try again in a moment.")
        options = self._options()
        output = job.output or self.output_overrides.get(action.id) or action.output
        window = job.window
        if job.text is None:
            captured = capture_selection(self.desktop, options, timeline)
            text, snapshot, window = captured.text, captured.snapshot, captured.window
        else:
            text, snapshot = job.text, None
            timeline.mark("text_captured")
            if output == "replace" and window is None:
                output = "popup"  # text from the tray's clipboard item has nowhere to be pasted back
        if self.log_text:
            log.debug("job %d input: %r", job_id, text)
        values = {**self.placeholder_defaults.get(action.id, {}), **dict(job.values)}
        values = {name: value for name, value in values.items() if name in action.placeholders}
        self._emit(JobEvent("started", job_id, title=action.title, output=output, job=replace(job, window=window), original=text))
        model = _CancellableModel(host, timeline, self._cancelled)
        self._running = model

        def on_text(piece: str) -> None:
            """Called on the engine thread for each streamed piece of the final answer."""
            timeline.mark("first_chunk")
            if output == "popup":
                self._emit(JobEvent("text", job_id, text=piece))

        result = run_action(model, action, text, values, on_text, self.max_characters)
        stats: GenerationStats | None = model.current.stats if model.current else None
        if self._cancelled.is_set() or (stats is not None and stats.cancelled):
            raise Cancelled("Cancelled.")
        timeline.mark("answer_done")
        self.last_stats = (f"; tokens {result.tokens}; tokens/s {result.tokens_per_second:.1f}; "
                           f"model calls {result.model_calls}; model ms {result.model_seconds * 1000:.1f}")
        if self.log_text:
            log.debug("job %d result: %r", job_id, result.text)
        if not result.text.strip():
            raise errors.PhiTrayError(f"{action.title}: the model gave an empty answer; nothing was changed.")
        message = f"{result.tokens} tokens, {result.tokens_per_second:.0f} tokens/s"
        if output == "replace":
            if snapshot is None:  # the text came from the picker: the clipboard is the person's own now
                snapshot = self.desktop.clipboard.snapshot()
            if window is not None and self.desktop.focus.current() != window:
                self.desktop.focus.activate(window)
            if not paste_text(self.desktop, result.text, snapshot, options, timeline):
                # The target never asked for the text: show it so nothing is lost.
                output, message = "popup", "The window did not take the paste; here is the result."
            else:
                self.last_replace = Replaced(window, text, result.text)
        elif output == "clipboard":
            self.desktop.clipboard.offer_text(result.text)
            message = "The result is on the clipboard."
        self._emit(JobEvent("done", job_id, message, text=result.text, title=action.title, output=output,
                            job=replace(job, window=window), original=text))

    def _paste(self, job: Job, timeline: Timeline) -> None:
        assert job.text is not None
        if job.window is not None and not self.desktop.focus.activate(job.window):
            raise errors.PhiTrayError("The window to paste into is gone; use Copy instead.")
        snapshot = self.desktop.clipboard.snapshot()
        if not paste_text(self.desktop, job.text, snapshot, self._options(), timeline):
            raise errors.PhiTrayError("The window did not take the paste; use Copy instead.")
        self.last_replace = Replaced(job.window, job.original, job.text)
        self._emit(JobEvent("done", message="Pasted.", output="replace", job=job))

    def _undo(self, job: Job) -> None:
        last = self.last_replace
        if last is None:
            raise errors.ConfigError("There is nothing to undo.")
        if last.window is not None and not self.desktop.focus.activate(last.window):
            raise errors.PhiTrayError("The window of the last replace is gone.")
        wait_for_release(self.desktop.keys, self._options().release_timeout)
        self.desktop.keys.send_undo()
        self.last_replace = None
        self._emit(JobEvent("done", message="Undid the last replace.", output="undo", job=job))
