"""Fixtures for the tests that run inside Wine (.ci/windows/run.sh), on the project's Windows adapters."""

from __future__ import annotations

import os
from collections.abc import Iterator
from pathlib import Path

import pytest

from helpers.wine import Notepad


@pytest.fixture(scope="module")
def notepad() -> Iterator[Notepad]:
    """Closed after its module: a Notepad left open keeps the X keyboard focus from the tray's menu."""
    window = Notepad()
    yield window
    window.close()


@pytest.fixture(scope="session")
def desktop() -> Iterator[object]:
    from phitray.desktop import open_desktop

    opened = open_desktop()
    yield opened
    opened.close()


@pytest.fixture(scope="session", autouse=True)
def tk_root() -> Iterator[object]:
    """One Tk for the test process, made first, as the agent makes its own at start: made late in a
    long session (after the installed-agent tests) Tk() sometimes fails under Wine to read Tcl's
    init.tcl ("couldn't read file …: Success"), which no fresh process has shown."""
    import tkinter

    root = tkinter.Tk()
    root.withdraw()
    yield root
    root.destroy()


@pytest.fixture(scope="session")
def test_data() -> Path:
    """The Linux stage's test store (starter model, tiny Phi-3), through Wine's Z: drive."""
    return Path(os.environ["PHITRAY_TEST_DATA"])
