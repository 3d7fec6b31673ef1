"""What the children tests run in a child process. A child finds a function by its module's name, which
a test module (imported by pytest's importlib mode) does not have, so they live here."""

from __future__ import annotations

import multiprocessing
import os


def who_am_i() -> tuple[int, str]:
    """The child's pid and the name it was started with."""
    return os.getpid(), multiprocessing.current_process().name
