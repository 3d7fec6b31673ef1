"""Named moments of one job, reported in milliseconds from the first: the job record's `timings`."""

from __future__ import annotations

import time
from dataclasses import dataclass, field


@dataclass
class Timeline:
    """Named moments of one job (perf_counter seconds); written by the jobs thread only."""

    marks: dict[str, float] = field(default_factory=dict)

    def mark(self, name: str, at: float | None = None) -> None:
        self.marks.setdefault(name, time.perf_counter() if at is None else at)

    def milliseconds(self) -> dict[str, float]:
        if not self.marks:
            return {}
        start = min(self.marks.values())
        return {name: round((at - start) * 1000, 1) for name, at in sorted(self.marks.items(), key=lambda i: i[1])}
