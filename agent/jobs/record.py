"""The one record each job ends in: a JSON line on the `phitray.jobrecord` logger, read by the tests and the bench.

It names what ran, how it ended and how long each step took; never the
person's text.
"""

from __future__ import annotations

import json
import logging
import re
from dataclasses import asdict, dataclass, field, fields
from typing import Any

LOGGER = "phitray.jobrecord"
# How a record stands in the log file: `… phitray.jobrecord: {…}`.
RECORD_LINE = re.compile(r" phitray\.jobrecord: (\{.*\})$", re.MULTILINE)
_records = logging.getLogger(LOGGER)
_records.setLevel(logging.INFO)  # written at every log level: the bench and the tests read it


@dataclass(frozen=True)
class JobRecord:
    job: int
    kind: str  # "action", "capture", "paste" or "undo"
    action: str
    source: str
    outcome: str  # "done", or the name of the error it ended in ("NothingSelected", "Cancelled" …)
    began: float  # wall clock, seconds: jobs line up against each other and other logs
    ended: float
    timings: dict[str, float] = field(default_factory=dict)  # ms from the first mark (jobs/timeline.py)
    output: str = ""  # where the result went
    backend: str = ""
    model: str = ""
    tokens: int = 0
    tokens_per_second: float = 0.0
    model_calls: int = 0
    model_ms: float = 0.0  # inside the model host's generate calls
    decoding: str = ""  # what the model host ran: plain, prompt-lookup N/M, draft model …
    flagged: bool = False  # the answer failed one of its action's checks
    failed_checks: tuple[str, ...] = ()
    # How the selection was taken: "primary" (read where it is, no key sent: X11's PRIMARY, Windows' UI
    # Automation) or "copy" (Ctrl+C); "" if none.
    capture: str = ""
    profile: str = ""  # the app's profile (app_profiles.py) by its name, never the window's title; "" for none

    @property
    def number(self) -> int:
        return self.job

    @property
    def action_id(self) -> str:
        return self.action

    def to_json(self) -> str:
        return json.dumps(asdict(self), ensure_ascii=False)

    @classmethod
    def from_json(cls, text: str) -> JobRecord:
        """A record read back; keys it does not know (a newer agent's) are passed over."""
        data: dict[str, Any] = json.loads(text)
        known = {f.name for f in fields(cls)}
        values = {key: value for key, value in data.items() if key in known}
        values["failed_checks"] = tuple(values.get("failed_checks", ()))
        return cls(**values)

    def write(self) -> None:
        _records.info("%s", self.to_json())


def read_records(log_text: str) -> list[JobRecord]:
    """Every job record in a log file's text, in order."""
    return [JobRecord.from_json(match[1]) for match in RECORD_LINE.finditer(log_text)]
