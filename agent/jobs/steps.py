"""The three stages of an action job, each a function of what the one before it produced.

acquire (the selection, the clipboard's text, or text handed over) →
generate (stream the action's answer from the current model host) →
deliver (replace, popup or clipboard). They run on the jobs thread; what
they have to say goes out through `emit`.
"""

from __future__ import annotations

import logging
import random
import threading
from collections.abc import Callable
from dataclasses import dataclass, replace
from typing import cast

from phitray import errors
from phitray.actions.checks import CheckResult, check_answer, failed
from phitray.actions.model import Action, Format, Output
from phitray.actions.runner import ActionResult, Sampling, run_action
from phitray.app_profiles import AppProfile
from phitray.backends.base import BackendInfo, Request
from phitray.desktop import Desktop, Snapshot
from phitray.host.client import Host, StreamedAnswer
from phitray.host.gate import gate_of
from phitray.jobs import formatting
from phitray.jobs.apps import App
from phitray.jobs.capture import Resolve, bring_to_front, capture_selection
from phitray.jobs.paste import paste_text
from phitray.jobs.route import route
from phitray.jobs.timeline import Timeline
from phitray.jobs.types import ActionJob, Delivered, JobEvent, JobSettings, PickedJob, Streamed

log = logging.getLogger(__name__)
Emit = Callable[[JobEvent], None]
ActionJobs = ActionJob | PickedJob
# "Another version" samples: warm enough to word it differently, cool enough to keep an edit an edit;
# each further try of a flagged answer a little warmer.
SAMPLE_TEMPERATURE, WARMER_PER_TRY, MAX_TEMPERATURE = 0.7, 0.15, 1.0
ANOTHER_VERSION_TRIES = 3  # after a flagged answer, the first of this many samples that passes is shown


@dataclass(frozen=True)
class Input:
    """What an action works on, and where its result may go back to."""

    text: str
    snapshot: Snapshot | None  # the person's clipboard before a capture; None when nothing was copied
    window: int | None
    output: Output
    capture: str = ""  # how a selection was taken (Captured.path); "" for text from elsewhere
    markdown: str = ""  # the selection's Markdown when the action keeps its formatting (formatting.py)
    profile: AppProfile | None = None  # the app's profile (app_profiles.py), resolved once for the job


class CancellableModel:
    """The runner's `Model` over the current host, with cancel and a 'prompt sent' mark."""

    def __init__(self, host: Host, timeline: Timeline, cancelled: threading.Event) -> None:
        self._host, self._timeline, self.cancelled = host, timeline, cancelled
        self.current: StreamedAnswer | None = None

    @property
    def info(self) -> BackendInfo | None:
        return self._host.info

    def generate(self, request: Request) -> StreamedAnswer:
        if self.cancelled.is_set():
            raise errors.Cancelled("Cancelled.")
        self._timeline.mark("prompt_sent")
        self.current = gate_of(self._host).person(self._host, request)  # an endpoint request gives way
        if self.cancelled.is_set():  # a cancel that came while the request was being sent
            self.current.cancel()
        return self.current

    def count_tokens(self, text: str) -> int:
        return self._host.count_tokens(text)


def acquire(job: ActionJobs, action: Action, desktop: Desktop, config: JobSettings, timeline: Timeline,
            resolve: Resolve | None = None) -> Input:
    """The input of an action job: the picker's capture, a new capture, the clipboard's text, or the job's own.
    `resolve` gives the window's profile (jobs/apps.py), once per job: at the capture, or for text handed
    over with its window (a Retry) from that window's traits."""
    captured = job.capture if isinstance(job, PickedJob) else None
    if isinstance(job, ActionJob) and job.text is None and not job.from_clipboard:
        asked = job.output or config.output_overrides.get(action.id) or action.output  # before the app's profile
        captured = capture_selection(desktop, config.capture, timeline, max_characters=config.max_characters,
                                     resolve=resolve, want_html=action.format == "keep" and asked == "replace")
    if captured is not None:
        profile = captured.profile
    else:
        window = job.window if isinstance(job, ActionJob) else None
        profile = resolve(desktop.focus.traits(window)) if window is not None and resolve is not None else None
    override = profile.override(action.id).output if profile is not None else None
    output = (job.output if isinstance(job, ActionJob) else None) or override \
        or config.output_overrides.get(action.id) or action.output
    action = for_app(action, profile)
    if captured is not None:
        if isinstance(job, PickedJob):
            timeline.mark("text_captured")
        return Input(captured.text, captured.snapshot, captured.window, output, captured.path,
                     formatting.selection_markdown(action, output, captured.text, captured.html,
                                                   config.max_characters), profile)
    assert isinstance(job, ActionJob)
    if job.from_clipboard:
        text = desktop.clipboard.read_text(config.max_characters)
        if text is None or not text.strip():
            raise errors.NothingToDo("The clipboard holds no text. Copy some text first.")
    else:
        assert job.text is not None
        text = job.text
    timeline.mark("text_captured")
    if output == "replace" and job.window is None:
        output = "popup"  # text from the clipboard or a caller has nowhere to be pasted back
    return Input(text, None, job.window, output, markdown=job.markdown if action.format == "keep" else "",
                 profile=profile)


def for_app(action: Action, profile: AppProfile | None) -> Action:
    """The action as it runs in the profile's app: its tone said to the model, and its format."""
    override = profile.override(action.id) if profile is not None else None
    if override is None:
        return action
    if override.tone:  # the system prompt is a template: a $ in the tone is a dollar sign
        tone = override.tone.replace("$", "$$")
        action = replace(action, system=f"{action.system}\n\nWrite in a {tone} tone.".lstrip())
    if override.format:
        action = replace(action, format=cast(Format, override.format))
    return action


def new_seed() -> int:
    return random.randrange(1, 2**31)  # within every library's seed type; a new one at each Retry


def retry_job(job: ActionJobs, given: Input) -> ActionJob:
    """The job a popup's Retry ("Another version") submits: the same action on the same text, into the popup,
    sampled with a new seed, up to ANOTHER_VERSION_TRIES samples until one passes the checks."""
    draft = job.draft if isinstance(job, ActionJob) else None
    return ActionJob("popup", job.action_id, text=given.text, values=job.values, output="popup", window=given.window,
                     draft=draft, seed=new_seed(), tries=ANOTHER_VERSION_TRIES, markdown=given.markdown)


def sampling(job: ActionJobs, attempt: int) -> Sampling | None:
    """How the `attempt`-th try (from 0) of `job` decodes: None for the action's own way, else a sample."""
    if not isinstance(job, ActionJob) or job.seed is None:
        return None
    return Sampling(job.seed + attempt, min(MAX_TEMPERATURE, SAMPLE_TEMPERATURE + WARMER_PER_TRY * attempt))


def tries(job: ActionJobs) -> int:
    """How many answers a job may try for one that passes its checks: only a sampled job gets more than one."""
    return max(1, job.tries) if isinstance(job, ActionJob) and job.seed is not None else 1


def generate(job_id: int, action: Action, given: Input, values: dict[str, str], model: CancellableModel,
             config: JobSettings, timeline: Timeline, emit: Emit, sample: Sampling | None = None) -> ActionResult:
    """Stream the action's answer (sampled with `sample`); a popup gets each piece as it comes."""

    def on_text(piece: str) -> None:
        """Called on the jobs thread for each streamed piece of the final answer."""
        timeline.mark("first_chunk")
        if given.output == "popup":
            emit(Streamed(job_id, piece))

    worked, source = (formatting.marked_up(action), given.markdown) if given.markdown else (action, given.text)
    result = run_action(model, worked, source, values, on_text, config.max_characters, sample)
    stats = model.current.stats if model.current else None
    if model.cancelled.is_set() or (stats is not None and stats.cancelled):
        raise errors.Cancelled("Cancelled.")
    timeline.mark("answer_done")
    if not result.text.strip():
        raise errors.PhiTrayError(f"{action.title}: the model gave an empty answer; nothing was changed.")
    return formatting.answer_of(result, given.text) if given.markdown else result


def check(action: Action, given: Input, result: ActionResult, values: dict[str, str]) -> tuple[CheckResult, ...]:
    """The action's answer checks, run on the jobs thread before anything is delivered."""
    return check_answer(action.checks, given.text, result.text, action.values(values), raw=result.raw)


def placeholder_values(job: ActionJobs, action: Action, config: JobSettings,
                       profile: AppProfile | None = None) -> dict[str, str]:
    """The settings' values for the action's placeholders (translate's language), the app's profile's, then
    the job's own."""
    in_app = dict(profile.override(action.id).values) if profile is not None else {}
    values = {**config.placeholder_defaults.get(action.id, {}), **in_app, **dict(job.values)}
    return {name: value for name, value in values.items() if name in action.placeholders}


def deliver(job_id: int, job: ActionJobs, action: Action, given: Input, result: ActionResult,
            checks: tuple[CheckResult, ...], desktop: Desktop, config: JobSettings, timeline: Timeline,
            emit: Emit) -> tuple[Output, bool]:
    """Put the result where `route` says. Returns where it went, and whether it replaced text."""
    failures = tuple(failed(checks))
    review = config.review_before_replace and action.checks.is_edit
    pasting = route(given.output, failures, review, window_back=True).output == "replace"
    # Ctrl+V goes to whatever is in front: never to a window the selection did not come from.
    window_back = not pasting or given.window is None or bring_to_front(desktop.focus, given.window)
    chosen = route(given.output, failures, review, window_back)
    output, message = chosen.output, chosen.reason or f"{result.tokens} tokens, {result.tokens_per_second:.0f} tokens/s"
    replaced = False
    if output == "replace":
        # The picker's text and a Try's come with no snapshot: the clipboard is the person's own now.
        snapshot = given.snapshot if given.snapshot is not None else desktop.clipboard.snapshot()
        replaced = paste_text(desktop, result.text, snapshot, config.capture, timeline, given.window,
                              result.html or None)
        if not replaced:  # the target never asked for the text: show it so nothing is lost
            output, message = "popup", "The window did not take the paste; here is the result."
    elif output == "clipboard":
        desktop.clipboard.keep_text(result.text)
        message = "The result is on the clipboard."
    app = App.of(desktop.focus.traits(given.window)).label if given.window is not None else ""  # for the history
    emit(Delivered(job_id, message, output, action.title, result.text, given.text, checks,
                   review=output == "popup" and action.checks.is_edit, retry=retry_job(job, given), app=app,
                   html=result.html))
    return output, replaced
