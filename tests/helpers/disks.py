"""Disks that refuse a write: a small file system of its own (a tmpfs, so root) filled to its last block, and
a file made immutable (chattr +i)."""

from __future__ import annotations

import errno
import subprocess
from collections.abc import Iterator
from contextlib import AbstractContextManager, contextmanager
from pathlib import Path

import pytest


@contextmanager
def _while(setup: list[str], undo: list[str], cannot: str) -> Iterator[None]:
    """`setup` run for the block, `undo` after; the test is skipped with `cannot` where `setup` fails here."""
    done = subprocess.run(setup, capture_output=True, text=True)
    if done.returncode != 0:
        pytest.skip(f"{cannot} here: {done.stderr.strip()}")
    try:
        yield
    finally:
        subprocess.run(undo, capture_output=True, check=True)


def small_disk(folder: Path) -> AbstractContextManager[None]:
    """A 64 KiB file system of its own at `folder` (a tmpfs: root) for the block."""
    return _while(["mount", "-t", "tmpfs", "-o", "size=64k", "tmpfs", str(folder)], ["umount", "-l", str(folder)],
                  "cannot mount a small tmpfs")


def protected(path: Path) -> AbstractContextManager[None]:
    """`path` immutable (chattr +i: root, and a file system that has the flag) for the block."""
    return _while(["chattr", "+i", str(path)], ["chattr", "-i", str(path)], "cannot make a file immutable")


def fill(folder: Path) -> None:
    with open(folder / ".filler", "wb", buffering=0) as out:
        try:
            while True:
                out.write(b"\0" * 4096)
        except OSError as error:
            assert error.errno == errno.ENOSPC
