"""What crosses into and out of the jobs thread: jobs in, events out, and the jobs' settings.

A job is one of six frozen types and an event one of eight (`kind` names each
for logs and tests); the jobs thread and the daemon dispatch on them with
`match`. Only these frozen records cross threads. An event never carries the person's text except where a window shows
it (a streamed piece, an answer, the original for Retry).
"""

from __future__ import annotations

import time
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import ClassVar, Literal

from phitray.actions.checks import CheckResult
from phitray.actions.library import ActionSet
from phitray.actions.model import Action, Output
from phitray.app_profiles import AppProfile
from phitray.jobs.capture import CaptureOptions, Captured

JobSource = Literal["hotkey", "picker", "tray", "popup", "settings", "test"]
# Where a result went: an action's output, "paste" for a popup's Replace, "undo" for the tray's Undo,
# "restore" for an original put back from the tray's Recent.
Delivery = Literal["replace", "popup", "clipboard", "paste", "undo", "restore"]
Values = tuple[tuple[str, str], ...]


def _now() -> float:
    return time.perf_counter()


# --- jobs ------------------------------------------------------------------------------


@dataclass(frozen=True)
class Pressed:
    """When the person asked (a key, a click): every job's timeline starts there."""

    pressed_at: float = field(default_factory=_now, kw_only=True)


@dataclass(frozen=True)
class ActionJob(Pressed):
    """Run an action on the selection (`text` None), on the clipboard's text, or on text handed over."""

    kind: ClassVar[str] = "action"
    source: JobSource
    action_id: str
    text: str | None = None
    from_clipboard: bool = False  # the tray's "Run on clipboard text": the jobs thread reads it, not the caller
    values: Values = ()
    output: Output | None = None  # overrides the action's own output
    window: int | None = None  # where a result handed over with `text` may be pasted back
    draft: Action | None = None  # the settings window's Try: an action not yet saved, run instead of action_id's
    seed: int | None = None  # "Another version": sampled with this seed (and warmer) instead of greedily
    tries: int = 1  # with a seed: samples tried (seed, seed + 1, …) until one passes the action's checks
    markdown: str = ""  # with `text`: its Markdown, when the selection's formatting is kept (Another version)


@dataclass(frozen=True)
class CaptureJob(Pressed):
    """The picker's first half: take the selection and hold the keyboard for the picker."""

    kind: ClassVar[str] = "capture"
    source: JobSource


@dataclass(frozen=True)
class PickedJob(Pressed):
    """The picker's choice: an action on the selection its capture took, clipboard snapshot included."""

    kind: ClassVar[str] = "action"
    source: ClassVar[JobSource] = "picker"
    action_id: str
    capture: Captured
    values: Values = ()


@dataclass(frozen=True)
class PasteJob(Pressed):
    """A popup's Replace: paste `text` over `original` in `window`."""

    kind: ClassVar[str] = "paste"
    source: ClassVar[JobSource] = "popup"
    action_id: str
    text: str
    window: int | None
    original: str
    html: str = ""  # the answer as HTML, pasted beside the text, when its formatting was kept and it is unchanged


@dataclass(frozen=True)
class UndoJob(Pressed):
    """The tray's Undo: take the last replace back."""

    kind: ClassVar[str] = "undo"
    source: JobSource


@dataclass(frozen=True)
class RestoreJob(Pressed):
    """The tray's Recent, "Put the original back": paste `original` over `answer` where the window still has
    the answer selected, else leave `original` on the clipboard."""

    kind: ClassVar[str] = "restore"
    source: ClassVar[JobSource] = "tray"
    action_id: str
    window: int | None
    original: str
    answer: str


Job = ActionJob | CaptureJob | PickedJob | PasteJob | UndoJob | RestoreJob


# --- events ----------------------------------------------------------------------------


@dataclass(frozen=True)
class CaptureTaken:
    """The picker's selection is in; the picker opens on it."""

    kind: ClassVar[str] = "captured"
    job_id: int
    capture: Captured


@dataclass(frozen=True)
class Started:
    """An action runs; a popup job's window opens. `retry` is the job the popup's Retry submits."""

    kind: ClassVar[str] = "started"
    job_id: int
    title: str
    output: Output
    retry: ActionJob


@dataclass(frozen=True)
class Streamed:
    """A piece of a popup job's answer, as the model streams it."""

    kind: ClassVar[str] = "text"
    job_id: int
    text: str
    at: float = field(default_factory=_now)  # when the jobs thread sent it


@dataclass(frozen=True)
class Delivered:
    """The result went where `output` says; for an answer, `retry` rebuilds its job."""

    kind: ClassVar[str] = "delivered"
    job_id: int
    message: str  # what to tell the person; never their text
    output: Delivery
    title: str = ""
    text: str = ""  # the answer
    original: str = ""  # the input, for the popup's marks and Retry
    checks: tuple[CheckResult, ...] = ()  # every check the action declares
    review: bool = False  # an edit shown in the popup: its changes are marked, Enter replaces
    retry: ActionJob | None = None
    app: str = ""  # the program the selection came from, as the capture names it ("" where it cannot)
    html: str = ""  # the answer as HTML when the selection's formatting was kept (text is its plain form)

    @property
    def flagged(self) -> bool:
        """The answer failed a check: it is shown, never pasted or copied unseen."""
        return any(not check.passed for check in self.checks)


@dataclass(frozen=True)
class Ended:
    """A job that ended without a result: `Noticed` or `Failed`."""

    job_id: int
    message: str
    title: str = ""


@dataclass(frozen=True)
class Noticed(Ended):
    """The job ended with a plain message (nothing selected, not loaded, a bad setting)."""

    kind: ClassVar[str] = "notice"


@dataclass(frozen=True)
class Failed(Ended):
    """The job ended in a fault or was cancelled; the person's text and clipboard are as they were."""

    kind: ClassVar[str] = "failed"


@dataclass(frozen=True)
class Busy:
    """A job was refused because one runs (said once per running job)."""

    kind: ClassVar[str] = "busy"
    message: str


@dataclass(frozen=True)
class Idle:
    """The jobs thread is free again; `can_undo`: a replace is there to take back."""

    kind: ClassVar[str] = "idle"
    can_undo: bool


JobEvent = CaptureTaken | Started | Streamed | Delivered | Noticed | Failed | Busy | Idle


# --- what the jobs thread keeps and reads ------------------------------------------------


@dataclass(frozen=True)
class Replaced:
    """The last replace, so the tray's Undo can take it back."""

    window: int | None
    original: str
    result: str


@dataclass(frozen=True)
class JobSettings:
    """Everything the jobs thread reads from settings and action files; swapped whole on a change."""

    actions: ActionSet = field(default_factory=lambda: ActionSet({}, ()))
    capture: CaptureOptions = CaptureOptions()
    max_characters: int = 200_000
    log_text: bool = False
    review_before_replace: bool = False  # edits always open for review instead of replacing at once
    output_overrides: Mapping[str, Output] = field(default_factory=dict)
    placeholder_defaults: Mapping[str, Mapping[str, str]] = field(default_factory=dict)
    profiles: tuple[AppProfile, ...] = ()  # the person's [[apps]]; the built-in ones follow them (app_profiles.py)
