"""One streamed answer from a model host process, on the daemon's side: `ModelHost.generate` gives it.

Its iterator waits on the messages the host's supervisor routes to it, never without a deadline: a
cancel the host has not honoured within CANCEL_SECONDS, or SILENT_SECONDS without a word from the host
while it answers, end that host process (its supervisor restarts it) and the answer (Cancelled, or
HostCrashed). A driver call that never returns cannot hang the agent.
"""

from __future__ import annotations

import queue
import time
from collections.abc import Iterator
from typing import TYPE_CHECKING

from phitray import errors
from phitray.backends.base import GenerationStats
from phitray.host.messages import Cancel, Chunk, Failed, Finished

if TYPE_CHECKING:
    from phitray.host.client import ModelHost

CANCEL_SECONDS = 3.0  # a cancel not honoured by then ends the host: a driver call that never returns
# An answer with no word from the host for this long ends it: far past the longest prompt's first token
# on the slowest backend (prompts are at most a few thousand tokens).
SILENT_SECONDS = 300.0


_CANCEL = object()  # queued by Generation.cancel(): the iterating thread forwards it to the host


class Generation:
    """One streamed answer. Iterate for text chunks (on any one thread), then read `stats`."""

    def __init__(self, host: ModelHost, request_id: int, messages: queue.Queue[object], spawn: int) -> None:
        """`spawn`: the number of the host process the request went to, the only one ended for it."""
        self._host = host
        self.request_id = request_id
        self._messages = messages
        self._spawn = spawn
        self.stats: GenerationStats | None = None

    def __iter__(self) -> Iterator[str]:
        deadline, cancelled = time.monotonic() + SILENT_SECONDS, False
        try:
            while True:
                try:
                    message = self._messages.get(timeout=max(0.0, deadline - time.monotonic()))
                except queue.Empty:
                    if cancelled:
                        self._host._abandon(self._spawn, f"it did not stop within {CANCEL_SECONDS:g} s of a cancel")
                        raise errors.Cancelled(f"Cancelled; the model did not stop within {CANCEL_SECONDS:g} s, so "
                                               "it is being restarted.") from None
                    self._host._abandon(self._spawn, f"it sent nothing for {SILENT_SECONDS:g} s while answering")
                    raise errors.HostCrashed(f"The model stopped answering for {SILENT_SECONDS:g} s; it is being "
                                             "restarted.") from None
                if message is _CANCEL:
                    if not cancelled:
                        cancelled, deadline = True, min(deadline, time.monotonic() + CANCEL_SECONDS)
                    try:
                        self._host._send(Cancel(self.request_id))
                    except errors.HostError:
                        pass  # gone already: its end arrives as an error below
                    continue
                if not cancelled:
                    deadline = time.monotonic() + SILENT_SECONDS
                if isinstance(message, Chunk):
                    yield message.text
                elif isinstance(message, Finished):
                    self.stats = message.stats
                    return
                elif isinstance(message, Failed):
                    raise message.error()
                elif isinstance(message, BaseException):
                    raise message
        finally:
            self._host._forget(self.request_id)

    def text(self) -> str:
        return "".join(self)

    def cancel(self) -> None:
        """Ask the host to stop; the iterator then ends with stats.cancelled set, or raises Cancelled
        once the host has been ended for not stopping within CANCEL_SECONDS.

        Any thread, and it never waits: the request is queued for the thread
        that iterates, which sends it down the pipe.
        """
        self._messages.put(_CANCEL)
