"""`pip download` of one wheel, with pip's byte counts where this pip can give them.

The pip a Python brings is the one a fresh venv has: 22.3 with Python 3.11.0,
23.2.1 with 3.12.0, newer since. Byte counts come from `--progress-bar raw`,
which pip 24.1 added; an older pip is run with `--progress-bar off` and reports
no bytes until the wheel is there. A pip that fails is reported with its own
last error line, not only its exit status.
"""

from __future__ import annotations

import logging
import queue
import re
import subprocess
import sys
import threading
import time
from collections.abc import Callable
from pathlib import Path
from typing import IO

from phitray.backends.base import Progress
from phitray.errors import DownloadError, OfflineError

log = logging.getLogger(__name__)
PIP_TIMEOUT_SECONDS = 600
RAW_PROGRESS_SINCE = (24, 1)  # pip's first release with --progress-bar raw
_VERSION = re.compile(r"^pip (\d+)\.(\d+)")


def pip_version() -> tuple[int, int] | None:
    """(major, minor) of the pip `python -m pip` runs here, or None when it does not run or say."""
    try:
        result = subprocess.run([sys.executable, "-m", "pip", "--version"], capture_output=True, text=True,
                                stdin=subprocess.DEVNULL, timeout=60, encoding="utf-8", errors="replace")
    except (OSError, subprocess.SubprocessError) as error:
        log.debug("pip --version: %s", error)
        return None
    match = _VERSION.match(result.stdout.strip()) if result.returncode == 0 else None
    return (int(match[1]), int(match[2])) if match else None


def download_wheel(wheels: Path, requirement: str, progress: Progress, check: Callable[[], None],
                   on_bytes: Callable[[int, int | None], None]) -> Path:
    """`pip download` the requirement's wheel into `wheels`, calling `on_bytes(done, total)` as pip counts
    (pip 24.1 and later). `check` runs while pip works and raises to stop it (a cancel); pip is killed."""
    version = pip_version()
    raw = version is not None and version >= RAW_PROGRESS_SINCE
    progress(f"downloading {requirement} from the Python package index"
             + ("" if raw else " (this pip shows no progress)"))
    command = [sys.executable, "-m", "pip", "download", "--no-deps", "--only-binary", ":all:",
               "--disable-pip-version-check", "--progress-bar", "raw" if raw else "off",
               "--dest", str(wheels), requirement]
    output: list[str] = []
    with subprocess.Popen(command, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, stdin=subprocess.DEVNULL,
                          text=True, encoding="utf-8", errors="replace") as pip:
        lines: queue.Queue[str | None] = queue.Queue()
        # A reader thread, so that the pulling thread can look at `cancel` while pip is quiet (resolving, connecting).
        threading.Thread(target=_read_lines, args=(pip.stdout, lines), name="pull-pip-output", daemon=True).start()
        deadline = time.monotonic() + PIP_TIMEOUT_SECONDS
        while True:
            try:
                line = lines.get(timeout=0.2)
            except queue.Empty:
                line = ""
            if line is None:
                break
            try:
                check()
            except BaseException:
                pip.kill()
                pip.wait()
                raise
            if time.monotonic() > deadline:
                pip.kill()
                pip.wait()
                raise OfflineError(f"pip download {requirement} did not finish in {PIP_TIMEOUT_SECONDS} s.")
            done_total = pip_progress(line)
            if done_total is not None:
                on_bytes(done_total[0], done_total[1] or None)
            elif line.strip():
                output.append(line.strip())
        returncode = pip.wait()
    if returncode != 0:
        raise OfflineError(f"Cannot fetch {requirement} from the package index: {pip_reason(output, returncode)}")
    wheel = next(iter(sorted(wheels.glob("*.whl"))), None)
    if wheel is None:
        raise DownloadError(f"pip download {requirement} left no wheel in {wheels}.")
    return wheel


def pip_reason(output: list[str], returncode: int) -> str:
    """pip's own account of a failure: its last "ERROR:" line, else its last line (a usage error, a
    Python that has no pip), else the exit status."""
    errors = [line for line in output if line.startswith("ERROR")]
    if errors:
        return errors[-1]
    return output[-1] if output else f"pip exited with {returncode}"


def _read_lines(stream: IO[str] | None, lines: queue.Queue[str | None]) -> None:
    """The "pull-pip-output" thread: pip's output, line by line, then None at its end."""
    for line in stream or ():
        lines.put(line)
    lines.put(None)


def pip_progress(line: str) -> tuple[int, int] | None:
    """(done, total) from pip's "Progress 1234 of 5678" line (total 0 when pip does not know it)."""
    words = line.split()
    if len(words) == 4 and words[0] == "Progress" and words[2] == "of" and words[1].isdigit() and words[3].isdigit():
        return int(words[1]), int(words[3])
    return None
