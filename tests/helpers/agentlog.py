"""What a running agent's log says: one JSON record per job, and lines to wait for.

Shared by the Linux end-to-end tests (helpers.agent) and the installed agent under Wine.
"""

from __future__ import annotations

import json
import re
import subprocess
import time
from collections.abc import Callable
from pathlib import Path

from phitray.jobs.record import JobRecord, read_records

# Milestones (phitray.logs.milestone): the agent's structured "this happened" lines.
MILESTONE_LINE = re.compile(r" phitray\.milestone: (\{.*\})$", re.MULTILINE)


class AgentLog:
    """Mixed into a running agent: needs `process` (its Popen) and `log_file`, and says what it printed in `output()`."""

    process: subprocess.Popen[bytes]

    @property
    def log_file(self) -> Path:
        raise NotImplementedError

    def output(self) -> str:
        return ""

    def log(self) -> str:
        return self.log_file.read_text(encoding="utf-8") if self.log_file.exists() else ""

    def wait_log(self, pattern: str, timeout: float = 60, count: int = 1) -> list[re.Match[str]]:
        deadline = time.monotonic() + timeout
        while True:
            found = list(re.finditer(pattern, self.log()))
            if len(found) >= count:
                return found
            if self.process.poll() is not None:
                raise AssertionError(f"the agent exited ({self.process.returncode}) waiting for {pattern!r}:\n{self.output()}")
            if time.monotonic() > deadline:
                raise AssertionError(f"no {pattern!r} in the agent's log within {timeout} s:\n{self.log()[-3000:]}")
            time.sleep(0.05)

    def milestones(self, name: str, **fields: object) -> list[dict[str, object]]:
        """Every milestone `name` so far whose fields include `fields`."""
        found = [json.loads(m[1]) for m in MILESTONE_LINE.finditer(self.log())]
        return [m for m in found if m["milestone"] == name and all(m.get(k) == v for k, v in fields.items())]

    def wait_milestone(self, name: str, timeout: float = 60, count: int = 1, **fields: object) -> dict[str, object]:
        """The `count`-th milestone `name` with `fields`, once the agent has written it."""
        deadline = time.monotonic() + timeout
        while True:
            found = self.milestones(name, **fields)
            if len(found) >= count:
                return found[count - 1]
            if self.process.poll() is not None:
                raise AssertionError(f"the agent exited ({self.process.returncode}) waiting for {name} {fields}:\n"
                                     f"{self.output()}")
            if time.monotonic() > deadline:
                raise AssertionError(f"no milestone {name} {fields} within {timeout} s:\n{self.log()[-3000:]}")
            time.sleep(0.05)

    def jobs(self) -> list[JobRecord]:
        return read_records(self.log())

    def job_after(self, trigger: Callable[[], object], timeout: float = 60) -> JobRecord:
        """Run `trigger` (a hotkey press, a menu click) and wait for the job it starts to end."""
        before = len(self.jobs())
        trigger()
        return self.wait_job(before + 1, timeout)

    def wait_job(self, number: int, timeout: float = 60) -> JobRecord:
        self.wait_log(rf' phitray\.jobrecord: \{{"job": {number},', timeout)
        return next(job for job in self.jobs() if job.number == number)

