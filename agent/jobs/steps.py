"""The three stages of an action job, each a function of what the one before it produced.

acquire (the selection, the clipboard's text, or text handed over) →
generate (stream the action's answer from the current model host) →
deliver (replace, popup or clipboard). They run on the jobs thread; what
they have to say goes out through `emit`.
"""

from __future__ import annotations

import logging
import threading
from collections.abc import Callable
from dataclasses import dataclass, replace

from phitray import errors
from phitray.actions.checks import CheckResult, check_answer, failed
from phitray.actions.model import Action, Output
from phitray.actions.runner import ActionResult, run_action
from phitray.backends.base import BackendInfo, Request
from phitray.desktop import Desktop, Snapshot
from phitray.jobs.capture import Timeline, bring_to_front, capture_selection, paste_text
from phitray.jobs.types import JobSettings, Job, JobEvent
from phitray.host.client import Generation, ModelHost

log = logging.getLogger(__name__)
Emit = Callable[[JobEvent], None]


@dataclass(frozen=True)
class Input:
    """What an action works on, and where its result may go back to."""

    text: str
    snapshot: Snapshot | None  # the person's clipboard before a capture; None when nothing was copied
    window: int | None
    output: Output


class CancellableModel:
    """The runner's engine protocol over a ModelHost, with cancel and a 'prompt sent' mark."""

    def __init__(self, host: ModelHost, timeline: Timeline, cancelled: threading.Event) -> None:
        self._host, self._timeline, self.cancelled = host, timeline, cancelled
        self.current: Generation | None = None

    @property
    def info(self) -> BackendInfo | None:
        return self._host.info

    def generate(self, request: Request) -> Generation:
        if self.cancelled.is_set():
            raise errors.Cancelled("Cancelled.")
        self._timeline.mark("prompt_sent")
        self.current = self._host.generate(request)
        if self.cancelled.is_set():  # a cancel that came while the request was being sent
            self.current.cancel()
        return self.current

    def count_tokens(self, text: str) -> int:
        return self._host.count_tokens(text)


def acquire(job: Job, action: Action, desktop: Desktop, config: JobSettings, timeline: Timeline) -> Input:
    """The input of an action job: captured, read from the clipboard, or the job's own text."""
    output = job.output or config.output_overrides.get(action.id) or action.output
    if job.text is None and not job.from_clipboard:
        captured = capture_selection(desktop, config.capture, timeline)
        return Input(captured.text, captured.snapshot, captured.window, output)
    if job.from_clipboard:
        text = desktop.clipboard.read_text()
        if text is None or not text.strip():
            raise errors.NothingToDo("The clipboard holds no text. Copy some text first.")
    else:
        assert job.text is not None
        text = job.text
    timeline.mark("text_captured")
    if output == "replace" and job.window is None:
        output = "popup"  # text from the clipboard or a caller has nowhere to be pasted back
    return Input(text, None, job.window, output)


def generate(job_id: int, job: Job, action: Action, given: Input, model: CancellableModel, config: JobSettings,
             timeline: Timeline, emit: Emit) -> ActionResult:
    """Stream the action's answer; a popup gets each piece as it comes."""
    values = placeholder_values(job, action, config)

    def on_text(piece: str) -> None:
        """Called on the jobs thread for each streamed piece of the final answer."""
        timeline.mark("first_chunk")
        if given.output == "popup":
            emit(JobEvent("text", job_id, text=piece))

    result = run_action(model, action, given.text, values, on_text, config.max_characters)
    stats = model.current.stats if model.current else None
    if model.cancelled.is_set() or (stats is not None and stats.cancelled):
        raise errors.Cancelled("Cancelled.")
    timeline.mark("answer_done")
    if not result.text.strip():
        raise errors.PhiTrayError(f"{action.title}: the model gave an empty answer; nothing was changed.")
    return result


def check(job: Job, action: Action, given: Input, result: ActionResult, config: JobSettings) -> tuple[CheckResult, ...]:
    """The action's answer checks, run on the jobs thread before anything is delivered."""
    return check_answer(action.checks, given.text, result.text, action.values(placeholder_values(job, action, config)))


def placeholder_values(job: Job, action: Action, config: JobSettings) -> dict[str, str]:
    """The settings' values for the action's placeholders (translate's language), then the job's own."""
    values = {**config.placeholder_defaults.get(action.id, {}), **dict(job.values)}
    return {name: value for name, value in values.items() if name in action.placeholders}


def deliver(job_id: int, job: Job, action: Action, given: Input, result: ActionResult, checks: tuple[CheckResult, ...],
            desktop: Desktop, config: JobSettings, timeline: Timeline, emit: Emit) -> tuple[Output, bool]:
    """Put the result where the action's output says, unless a check failed or a review is wanted: then
    into the popup. Returns where it went, and whether it replaced text."""
    output = given.output
    message = f"{result.tokens} tokens, {result.tokens_per_second:.0f} tokens/s"
    replaced = False
    problems = failed(checks)
    if problems and output in ("replace", "clipboard"):
        kept = "Not replaced" if output == "replace" else "Not copied"
        output, message = "popup", f"{kept}: " + " ".join(problem.reason for problem in problems)
    elif problems:
        message = "Check this answer: " + " ".join(problem.reason for problem in problems)
    elif output == "replace" and config.review_before_replace and action.checks.is_edit:
        output, message = "popup", "Review the changes: Enter replaces, Esc closes."
    if output == "replace" and given.window is not None and not bring_to_front(desktop.focus, given.window):
        # Ctrl+V goes to whatever is in front: never to a window the selection did not come from.
        output, message = "popup", "The window you were in is no longer in front; here is the result."
    if output == "replace":
        snapshot = given.snapshot
        if snapshot is None:  # the text came from the picker: the clipboard is the person's own now
            snapshot = desktop.clipboard.snapshot()
        if paste_text(desktop, result.text, snapshot, config.capture, timeline, given.window):
            replaced = True
        else:  # the target never asked for the text: show it so nothing is lost
            output, message = "popup", "The window did not take the paste; here is the result."
    elif output == "clipboard":
        desktop.clipboard.keep_text(result.text)
        message = "The result is on the clipboard."
    emit(JobEvent("done", job_id, message, text=result.text, title=action.title, output=output,
                  job=replace(job, window=given.window), original=given.text, checks=checks,
                  review=output == "popup" and action.checks.is_edit))
    return output, replaced
