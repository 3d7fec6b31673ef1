"""The capture sequence's window rules at the project's seam (helpers/scripted.py), with no model."""

from __future__ import annotations

import pytest

from phitray.desktop import WindowTraits
from phitray.jobs.capture import SLOW_COPY_SECONDS, CaptureOptions, capture_selection
from phitray.jobs.timeline import Timeline
from phitray.errors import NothingSelected

from helpers.scripted import ScriptedDesktop

OPTIONS = CaptureOptions(copy_timeout=0.3)


def test_a_window_known_to_copy_slowly_gets_the_longer_wait() -> None:
    """Word or a remote desktop can take a second to copy: it is waited for, not called empty."""
    slow = ScriptedDesktop(text="a long Word document", selection=(0, 6), copy_delay=1.0,
                           traits_of_editor=WindowTraits(slow_copy=True))
    assert SLOW_COPY_SECONDS > 1.0
    assert capture_selection(slow.desktop(), OPTIONS, Timeline()).text == "a long"


def test_other_windows_keep_the_short_wait() -> None:
    quick = ScriptedDesktop(text="a long Word document", selection=(0, 6), copy_delay=1.0)
    with pytest.raises(NothingSelected):
        capture_selection(quick.desktop(), OPTIONS, Timeline())
