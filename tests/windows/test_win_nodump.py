"""The model host's refusal of crash dumps on Windows: Windows Error Reporting off for that process alone."""

from __future__ import annotations

import ctypes
import subprocess
import sys

SEM_NOGPFAULTERRORBOX = 0x0002

CHILD = """
import ctypes
from phitray.desktop.system import refuse_crash_dumps
before = ctypes.windll.kernel32.GetErrorMode()
print(before, refuse_crash_dumps(), ctypes.windll.kernel32.GetErrorMode())
"""


def test_wer_is_off_for_the_process_that_asks_and_for_no_other() -> None:
    done = subprocess.run([sys.executable, "-c", CHILD], capture_output=True, text=True, timeout=120)
    assert done.returncode == 0, done.stderr
    before, took, after = done.stdout.split()
    assert took == "True"
    assert int(after) & SEM_NOGPFAULTERRORBOX and int(after) & ~SEM_NOGPFAULTERRORBOX == int(before) & ~SEM_NOGPFAULTERRORBOX
    assert not ctypes.windll.kernel32.GetErrorMode() & SEM_NOGPFAULTERRORBOX  # this process is untouched
