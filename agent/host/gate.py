"""One generation at a time on a model host, and the person's first.

The jobs thread and the local endpoint both start answers through the gate of
the current host (`gate_of`). The person's request (`Gate.person`) never
waits on the endpoint: an endpoint answer in progress is cancelled, and the
person's starts as soon as the host has stopped it (the next token). An
endpoint request (`Gate.endpoint`) takes its turn behind other endpoint
requests for a bounded time, never while the person's job holds or wants the
model; one the person's job cut short ends in `Preempted`, one that found no
turn in `ModelBusy`, and the endpoint answers both with 503 and Retry-After.

The model host itself refuses a second concurrent request, so the gate is
what makes the two callers take turns rather than fail each other.
"""

from __future__ import annotations

import threading
import time
import weakref
from collections.abc import Callable, Iterator

from phitray import errors
from phitray.backends.base import GenerationStats, Request
from phitray.host.client import Host, StreamedAnswer

# How long the person's request waits for a cancelled endpoint answer to end: the host stops at the next
# token, so this is only ever reached by a host that hangs (and then the host's own failure follows).
PERSON_WAIT_SECONDS = 10.0
ENDPOINT_WAIT_SECONDS = 30.0  # an endpoint request waits this long for its turn, then gets 503
MAX_ENDPOINT_WAITING = 16  # endpoint requests waiting at once; more are refused at once
ABANDON_POLL_SECONDS = 0.25  # how soon a waiting request whose client left gives up its place


class _Held:
    """A streamed answer that gives the gate back when its iteration ends (or is abandoned)."""

    def __init__(self, answer: StreamedAnswer, release: Callable[[], None]) -> None:
        self._answer, self._release = answer, release
        self.preempted = False  # set by the gate when the person's job cut this answer short

    @property
    def stats(self) -> GenerationStats | None:
        return self._answer.stats

    def __iter__(self) -> Iterator[str]:
        try:
            yield from self._answer
        finally:
            self._release()
        if self.preempted:
            raise errors.Preempted("Your request was stopped: the person at this PC started one of their own "
                                   "actions, which comes first. Try again in a moment.")

    def cancel(self) -> None:
        self._answer.cancel()


class Gate:
    """Whose turn it is on one model host. Any thread."""

    def __init__(self, person_wait: float = PERSON_WAIT_SECONDS, endpoint_wait: float = ENDPOINT_WAIT_SECONDS,
                 max_waiting: int = MAX_ENDPOINT_WAITING) -> None:
        self._person_wait, self._endpoint_wait, self._max_waiting = person_wait, endpoint_wait, max_waiting
        self._turn = threading.Condition()
        self._holder: str | None = None  # "person" | "endpoint" while an answer streams
        self._endpoint_answer: _Held | None = None
        self._cut_short = False  # the person asked for the model before the endpoint's answer existed
        self._persons_waiting = 0
        self._endpoints_waiting = 0

    @property
    def holder(self) -> str | None:
        return self._holder

    def person(self, host: Host, request: Request) -> StreamedAnswer:
        """The person's answer: an endpoint answer in progress is cut short first. Raises ModelBusy only
        when a cut-short answer does not end within the person's wait."""
        with self._turn:
            self._persons_waiting += 1
            try:
                if self._holder == "endpoint":
                    self._cut_short = True
                    if self._endpoint_answer is not None:
                        self._endpoint_answer.preempted = True
                        self._endpoint_answer.cancel()
                if not self._turn.wait_for(lambda: self._holder is None, self._person_wait):
                    raise errors.ModelBusy("The model is still busy with another request; try again in a moment.")
                self._holder = "person"
            finally:
                self._persons_waiting -= 1
        return self._start(host, request)

    def endpoint(self, host: Host, request: Request, wait: float | None = None,
                 abandoned: threading.Event | None = None) -> StreamedAnswer:
        """An endpoint request's answer, after the requests before it. Raises ModelBusy when the person's job
        has or wants the model, when too many wait already, or when no turn came within `wait` seconds;
        Cancelled when `abandoned` is set while it waits (its client went away: its place is given up)."""
        busy = errors.ModelBusy("The model is busy with the person's own action; try again in a moment.")
        with self._turn:
            if self._holder == "person" or self._persons_waiting:
                raise busy
            if self._endpoints_waiting >= self._max_waiting:
                raise errors.ModelBusy(f"{self._max_waiting} requests are waiting for the model already; "
                                       "try again in a moment.")
            self._endpoints_waiting += 1
            deadline = time.monotonic() + (self._endpoint_wait if wait is None else wait)
            try:
                while not (free := self._holder is None and not self._persons_waiting):
                    left = deadline - time.monotonic()
                    if left <= 0 or (abandoned is not None and abandoned.is_set()):
                        break
                    self._turn.wait(min(left, ABANDON_POLL_SECONDS))
            finally:
                self._endpoints_waiting -= 1
            if not free and abandoned is not None and abandoned.is_set():
                raise errors.Cancelled("The request was given up before its turn.")
            if not free:
                raise busy if self._holder == "person" else errors.ModelBusy(
                    "The model is busy with other requests; try again in a moment.")
            self._holder, self._cut_short = "endpoint", False
        held = self._start(host, request)
        assert isinstance(held, _Held)
        with self._turn:
            self._endpoint_answer = held
            if self._cut_short:  # the person came while the request was being sent
                held.preempted = True
                held.cancel()
        return held

    def _start(self, host: Host, request: Request) -> StreamedAnswer:
        try:
            answer = host.generate(request)
        except BaseException:
            self._release()
            raise
        return _Held(answer, self._release)

    def _release(self) -> None:
        with self._turn:
            self._holder, self._endpoint_answer = None, None
            self._turn.notify_all()


_gates: weakref.WeakKeyDictionary[Host, Gate] = weakref.WeakKeyDictionary()
_gates_lock = threading.Lock()


def gate_of(host: Host) -> Gate:
    """The one gate of `host`: every caller of that host passes the same one. Any thread."""
    with _gates_lock:
        gate = _gates.get(host)
        if gate is None:
            gate = _gates[host] = Gate()
        return gate
