"""Model paths a native library can open whatever the person's name: OpenVINO GenAI (and onnxruntime-genai,
#1262) turn a Windows path into the ANSI code page, and a folder whose name that code page cannot spell
("Håkan 張" on a Western Windows) fails with "No Unicode translation". The profile folder, and so every
model, cache and log folder under it, carries the person's name.

`loadable(folder)` lends the library a path it can spell: the folder's own path where the code page holds
it, else a path relative to the folder, made the working directory meanwhile (the model host is a process
of its own, loading one model at a time). On Linux and macOS the code page is UTF-8 and nothing changes.
"""

from __future__ import annotations

import locale
import os
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path


def spelled(path: Path, encoding: str | None = None) -> bool:
    """Whether the code page (this process's, by default) can spell `path`."""
    try:
        str(path).encode(encoding or locale.getencoding())
    except UnicodeEncodeError:
        return False
    return True


@contextmanager
def loadable(folder: Path, encoding: str | None = None) -> Iterator[Callable[[Path], str]]:
    """A function giving, for `folder` or a path near it, the string to hand the library while this lasts."""
    if spelled(folder, encoding):
        yield str
        return

    def relative(path: Path) -> str:
        try:
            near = os.path.relpath(path, folder)
        except ValueError:  # another drive: there is no relative path
            return str(path)
        return near if spelled(Path(near), encoding) else str(path)

    previous = os.getcwd()
    os.chdir(folder)
    try:
        yield relative
    finally:
        os.chdir(previous)
