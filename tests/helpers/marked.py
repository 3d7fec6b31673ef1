"""The marked text the privacy sweeps select (tests/test_privacy_marker.py, tests/windows/test_win_privacy.py),
and the scripted model's next answer to it."""

from __future__ import annotations

from phitray.backends.base import Request
from phitray.host.scripted import Answer

MARKER = "QX7F3A-4411"
TEXT = f"Please send invoice {MARKER} to Halvorsen before friday, it are urgent."
FIXED = f"Please send invoice {MARKER} to Halvorsen before Friday; it is urgent."


class Script:
    """What the scripted model answers next, set by the test before each job."""

    def __init__(self) -> None:
        self.next: str | Answer | Exception = FIXED

    def __call__(self, request: Request) -> str | Answer:
        """The jobs thread, asking for an answer."""
        if isinstance(self.next, Exception):
            raise self.next
        return self.next
