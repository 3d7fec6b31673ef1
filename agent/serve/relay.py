"""One endpoint answer, carried from the model host's gate to the event loop.

The answer is started and read on an "endpoint-answer" thread: it waits for
its turn at the gate, then puts each piece on an asyncio queue without ever
waiting on the network, so a slow client never keeps the model (or the
person's next job) waiting, and a cut-short answer gives the gate back as soon
as the host has stopped.
"""

from __future__ import annotations

import asyncio
import threading
from typing import Any

from phitray import errors
from phitray.backends.base import GenerationStats, Request
from phitray.host.client import Host, StreamedAnswer
from phitray.host.gate import gate_of


class Relay:
    """Events on `queue`: ("start", None) once the model has begun, ("text", piece)…, then ("end", (stats,
    prompt tokens)) or ("error", exception) at any point."""

    def __init__(self, loop: asyncio.AbstractEventLoop, host: Host, request: Request) -> None:
        self.queue: asyncio.Queue[tuple[str, Any]] = asyncio.Queue()
        self._loop, self._host, self._request = loop, host, request
        self._lock = threading.Lock()
        self._answer: StreamedAnswer | None = None
        self._cancelled = False
        self._abandoned = threading.Event()  # lets a request still waiting at the gate give up its place
        threading.Thread(target=self._run, name="endpoint-answer", daemon=True).start()

    def cancel(self) -> None:
        """The client went away, or the endpoint stops: end the answer at the next token. Any thread."""
        with self._lock:
            self._cancelled = True
            answer = self._answer
        self._abandoned.set()
        if answer is not None:
            answer.cancel()

    def _put(self, kind: str, value: Any) -> None:
        try:
            self._loop.call_soon_threadsafe(self.queue.put_nowait, (kind, value))
        except RuntimeError:  # the loop is closed: the endpoint stopped, nobody reads this answer
            self.cancel()

    def _run(self) -> None:
        """The "endpoint-answer" thread: one answer from its turn at the gate to its end."""
        try:
            answer = gate_of(self._host).endpoint(self._host, self._request, abandoned=self._abandoned)
            with self._lock:
                self._answer, cancelled = answer, self._cancelled
            if cancelled:
                answer.cancel()
            self._put("start", None)
            for piece in answer:
                self._put("text", piece)
            if self._cancelled:
                raise errors.HostGone("The answer was stopped before it finished (the endpoint is stopping).")
            stats: GenerationStats | None = answer.stats
            self._put("end", (stats, self._prompt_tokens()))
        except Exception as error:  # every failure is the client's answer, never this thread's end
            self._put("error", error)

    def _prompt_tokens(self) -> int:
        texts = [self._request.system or "", *(content for _, content in self._request.history), self._request.prompt]
        try:
            return self._host.count_tokens("\n".join(texts))
        except Exception:  # usage is a courtesy: a host that cannot count leaves it at 0
            return 0
