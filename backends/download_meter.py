"""A pull's byte counts turned into what a person reads: "12.3 of 40.1 MB, 4.2 MB/s".

Feed it `pull`'s on_bytes calls; each returns a frozen DownloadStatus that may
cross to the Tk or tray thread. Used by the first run's tray status and the
settings window's download bar alike.
"""

from __future__ import annotations

import time
from collections import deque
from collections.abc import Callable
from dataclasses import dataclass

MB = 1_000_000
GB = 1_000_000_000
RATE_WINDOW_SECONDS = 3.0  # the speed shown is over the last few seconds, so it follows a changing connection


@dataclass(frozen=True)
class DownloadStatus:
    done_bytes: int
    total_bytes: int | None
    bytes_per_second: float

    @property
    def fraction(self) -> float | None:
        """0..1, or None while the total is unknown."""
        if not self.total_bytes:
            return None
        return min(1.0, self.done_bytes / self.total_bytes)

    @property
    def text(self) -> str:
        # One unit for both numbers, picked by the larger: "0.12 of 2.30 GB", never "120.0 MB of 2.3 GB".
        unit, size = ("GB", GB) if max(self.done_bytes, self.total_bytes or 0) >= GB else ("MB", MB)
        done = f"{self.done_bytes / size:.{2 if size == GB else 1}f}"
        total = f"{(self.total_bytes or 0) / size:.{2 if size == GB else 1}f}"
        amount = f"{done} of {total} {unit}" if self.total_bytes else f"{done} {unit}"
        return f"{amount}, {self.bytes_per_second / MB:.1f} MB/s" if self.bytes_per_second else amount


class DownloadMeter:
    """Keeps the last few seconds of (time, bytes) to tell the speed. Called on the pulling thread only."""

    def __init__(self, clock: Callable[[], float] = time.monotonic) -> None:
        self.clock = clock
        self.samples: deque[tuple[float, int]] = deque()

    def update(self, done_bytes: int, total_bytes: int | None) -> DownloadStatus:
        now = self.clock()
        self.samples.append((now, done_bytes))
        while len(self.samples) > 2 and now - self.samples[1][0] >= RATE_WINDOW_SECONDS:
            self.samples.popleft()
        first_time, first_done = self.samples[0]
        elapsed = now - first_time
        rate = (done_bytes - first_done) / elapsed if elapsed > 0 else 0.0
        return DownloadStatus(done_bytes, total_bytes, max(0.0, rate))
