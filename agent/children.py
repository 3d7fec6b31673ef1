"""Every child process the agent starts, started one way: a spawned interpreter with a pipe.

The children are the model host (host/server.py) and its warm standby (host/standby.py), a
model download and the catalog's download sizes (downloads.py), the settings window's device survey
(ui/settings_model.py) and its Try (cli/settings_try.py). Each is a fresh
interpreter (multiprocessing's "spawn" on every platform: a child inherits no
thread, lock or loaded library of its parent's), named so that `ps` and the
log say which it is, and talks to its parent over one duplex pipe. The
person's text reaches a child only down that pipe, never on its command line,
which other users can read (/proc/<pid>/cmdline).
"""

from __future__ import annotations

import multiprocessing
import os
import sys
from collections.abc import Callable
from dataclasses import dataclass
from multiprocessing.process import BaseProcess
from typing import Any, TypeVar

T = TypeVar("T")


@dataclass(frozen=True)
class Child:
    """A started child: its process, and the parent's end of its pipe."""

    process: BaseProcess
    # A Connection on POSIX, a PipeConnection on Windows: both send(), recv() and poll().
    connection: Any


def start_child(name: str, target: Callable[..., object], *args: object, daemon: bool = True) -> Child:
    """Start `target(connection, *args)` in a child process called `name`, on the child's main thread.

    `target` and `args` must pickle (a module-level function, frozen records). A daemonic child is ended
    when this process exits; one that starts children of its own (Try starts a model host) cannot be
    daemonic, and its parent ends it itself. Raises OSError when no child can be started (also inside a
    daemonic process, which multiprocessing forbids children)."""
    context = multiprocessing.get_context("spawn")
    ours, theirs = context.Pipe()
    process = context.Process(target=_child_main, args=(target, theirs, args), name=name, daemon=daemon)
    try:
        process.start()
    except AssertionError as error:  # multiprocessing's refusal inside a daemonic process
        ours.close()
        raise ChildProcessError(f"{name} cannot be started here: {error}") from error
    except BaseException:
        ours.close()
        raise
    finally:
        theirs.close()  # the child holds its own copy: our recv() then sees EOF when the child dies
    return Child(process, ours)


def call_in_child(name: str, seconds: float, function: Callable[..., T], *args: object) -> T:
    """`function(*args)` run in a child called `name`: its return value (which must pickle). The calling
    thread waits; the child is ended after `seconds` without an answer (TimeoutError), and one that dies
    without answering raises ChildProcessError."""
    child = start_child(name, _answer, function, *args)
    try:
        if not child.connection.poll(seconds):
            raise TimeoutError(f"{name} gave no answer within {seconds:g} s")
        try:
            answer: T = child.connection.recv()
        except EOFError:
            child.process.join(5)
            raise ChildProcessError(f"{name} ended without an answer (exit code {child.process.exitcode})") \
                from None
        return answer
    finally:
        child.connection.close()
        child.process.join(1)
        if child.process.is_alive():
            child.process.kill()
            child.process.join(5)


def _answer(connection: Any, function: Callable[..., object], *args: object) -> None:
    """The child's side of call_in_child (its main thread)."""
    connection.send(function(*args))


def _child_main(target: Callable[..., object], connection: Any, args: tuple[object, ...]) -> None:
    """What every child runs first (its main thread): standard streams where it has none, then `target`.

    Under pythonw (Windows' Start-menu shortcut and Run key) a child has no stdout or stderr either,
    and print(), a logging.StreamHandler or huggingface_hub's tqdm bars would raise. devnull rather
    than the log: a second process holding the log file open keeps Windows from rotating it."""
    for stream in ("stdout", "stderr"):
        if getattr(sys, stream) is None:
            setattr(sys, stream, open(os.devnull, "w", encoding="utf-8"))  # open for the child's life
    target(connection, *args)
