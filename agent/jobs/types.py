"""What crosses into and out of the jobs thread: jobs in, events out, and the engine's settings.

Only these frozen records cross threads; their kinds are `Literal` types so
that mypy catches a misspelt kind.
"""

from __future__ import annotations

import time
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Literal

from phitray.actions.checks import CheckResult
from phitray.actions.library import ActionSet
from phitray.actions.model import Action, Output
from phitray.jobs.capture import CaptureOptions

# action: run an action; capture: take the selection for the picker; paste: a popup's Replace; undo: the tray's Undo
JobKind = Literal["action", "capture", "paste", "undo"]
JobSource = Literal["hotkey", "picker", "tray", "popup", "settings", "test"]
# captured: the picker's selection is in; started: an action runs (the popup opens); text: a streamed piece;
# done: the result was delivered; failed / notice: it ended without one (a fault / a plain message);
# busy: a job was refused because one runs; idle: the engine is free again
EventKind = Literal["captured", "started", "text", "done", "failed", "notice", "busy", "idle"]
# Where a result went: an action's output, "paste" for a popup's Replace, "undo" for the tray's Undo.
Delivery = Literal["replace", "popup", "clipboard", "paste", "undo", ""]


@dataclass(frozen=True)
class Job:
    kind: JobKind
    source: JobSource
    action_id: str = ""
    text: str | None = None  # the input; None = capture the selection (or read the clipboard, below)
    from_clipboard: bool = False  # the tray's "Run on clipboard text": the engine reads it, not the caller
    values: tuple[tuple[str, str], ...] = ()
    output: Output | None = None  # overrides the action's own output
    window: int | None = None  # where a paste goes
    original: str = ""  # for a paste: the text it replaces, kept for Undo
    draft: Action | None = None  # the settings window's Try: an action not yet saved, run instead of action_id's
    pressed_at: float = field(default_factory=time.perf_counter)


@dataclass(frozen=True)
class JobEvent:
    kind: EventKind
    job_id: int = 0
    message: str = ""  # what to tell the person; never their text
    text: str = ""  # a streamed piece ("text") or the whole result ("done")
    title: str = ""
    output: Delivery = ""
    job: Job | None = None
    original: str = ""  # the input, kept for Retry / Undo
    checks: tuple[CheckResult, ...] = ()  # of a "done" answer: every check the action declares
    review: bool = False  # a "done" edit shown for review: the popup marks its changes, Enter replaces
    at: float = field(default_factory=time.perf_counter)  # when the engine sent it

    @property
    def flagged(self) -> bool:
        """The answer failed a check: it is shown, never pasted or copied unseen."""
        return any(not check.passed for check in self.checks)


@dataclass(frozen=True)
class Replaced:
    """The last replace, so the tray's Undo can take it back."""

    window: int | None
    original: str
    result: str


@dataclass(frozen=True)
class JobSettings:
    """Everything the engine reads from settings and action files; swapped whole on a reload."""

    actions: ActionSet = field(default_factory=lambda: ActionSet({}, ()))
    capture: CaptureOptions = CaptureOptions()
    max_characters: int = 200_000
    log_text: bool = False
    review_before_replace: bool = False  # edits always open for review instead of replacing at once
    output_overrides: Mapping[str, Output] = field(default_factory=dict)
    placeholder_defaults: Mapping[str, Mapping[str, str]] = field(default_factory=dict)
