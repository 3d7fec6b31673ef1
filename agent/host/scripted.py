"""A model host that answers from a script: the test double of `host.client.ModelHost`.

In the spirit of httpx's `MockTransport`: the jobs thread, the route and the
checks run against it exactly as against a real host, in milliseconds and
without a model. Each request gets the next scripted answer (or what a
function of the request returns), streamed in its pieces at its pace; the
request's stop strings end it as a backend's do, and a cancel stops it at the
next piece. What only a real model shows stays with the real-model tests.
"""

from __future__ import annotations

import threading
import time
from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass, field

from phitray import errors
from phitray.backends.base import BackendInfo, GenerationStats, Request

SCRIPTED_INFO = BackendInfo(backend_id="scripted", device="script", model_id="scripted", quantization="none",
                            context_length=4096, max_prompt_tokens=4096, library="phitray.host.scripted")


@dataclass(frozen=True)
class Answer:
    """One scripted answer: its pieces, the wait before the first and between the others, and an
    optional error raised after the pieces (a host that crashes mid-answer)."""

    pieces: tuple[str, ...]
    first_piece_seconds: float = 0.0
    piece_seconds: float = 0.0
    error: errors.PhiTrayError | None = None

    @classmethod
    def words(cls, text: str, piece_seconds: float = 0.0, first_piece_seconds: float = 0.0) -> Answer:
        """`text` streamed a word at a time, as a model streams tokens."""
        words = text.split(" ")
        pieces = tuple(word if index == 0 else f" {word}" for index, word in enumerate(words))
        return cls(tuple(piece for piece in pieces if piece), first_piece_seconds, piece_seconds)


Script = Iterable[str | Answer] | Callable[[Request], str | Answer]


def _stop_at(pieces: tuple[str, ...], stops: tuple[str, ...]) -> tuple[str, ...]:
    """The pieces up to the first stop string, as a backend ends an answer there."""
    text = "".join(pieces)
    cut = min((index for stop in stops if stop and (index := text.find(stop)) >= 0), default=-1)
    if cut < 0:
        return pieces
    kept, length = [], 0
    for piece in pieces:
        if length + len(piece) >= cut:
            kept.append(piece[: cut - length])
            break
        kept.append(piece)
        length += len(piece)
    return tuple(piece for piece in kept if piece)


@dataclass
class ScriptedGeneration:
    """One streamed answer; iterate it on one thread, `cancel` from any."""

    answer: Answer
    stop: tuple[str, ...]
    stats: GenerationStats | None = None
    _cancelled: threading.Event = field(default_factory=threading.Event)

    def __iter__(self) -> Iterator[str]:
        started = time.perf_counter()
        pieces = _stop_at(self.answer.pieces, self.stop)
        first_at = started
        sent = 0
        for index, piece in enumerate(pieces):
            if self._cancelled.wait(self.answer.first_piece_seconds if index == 0 else self.answer.piece_seconds):
                break
            if index == 0:
                first_at = time.perf_counter()
            sent += 1
            yield piece
        if self.answer.error is not None and not self._cancelled.is_set():
            raise self.answer.error
        now = time.perf_counter()
        self.stats = GenerationStats(ttft_seconds=first_at - started, seconds=now - started, tokens=sent,
                                     cancelled=self._cancelled.is_set())

    def cancel(self) -> None:
        self._cancelled.set()


class ScriptedHost:
    """Stands in for a loaded `ModelHost`: `info`, `failure`, `generate`, `count_tokens`.

    `script` is a list of answers, used in turn (the last one again when it runs
    out), or a function of the request. `requests` records every request asked.
    A sampled request ("Another version") carries its `seed` and `temperature`:
    a function of the request can answer each sample differently, as a model
    sampling does, and a test reads them back from `requests`.
    """

    def __init__(self, script: Script, info: BackendInfo | None = SCRIPTED_INFO, failure: str | None = None) -> None:
        self._answer_for = script if callable(script) else self._in_turn([*script])
        self.info, self.failure = info, failure
        self.requests: list[Request] = []

    @staticmethod
    def _in_turn(answers: list[str | Answer]) -> Callable[[Request], str | Answer]:
        def next_answer(request: Request) -> str | Answer:
            return answers.pop(0) if len(answers) > 1 else answers[0]
        return next_answer

    def generate(self, request: Request) -> ScriptedGeneration:
        if self.info is None:
            raise errors.NotReady(self.failure or "The model is not loaded yet; try again in a moment.")
        self.requests.append(request)
        answer = self._answer_for(request)
        return ScriptedGeneration(Answer((answer,)) if isinstance(answer, str) else answer, request.stop)

    def count_tokens(self, text: str) -> int:
        """About a token per four characters, as for English with the real tokenizers."""
        return max(1, len(text) // 4) if text else 0
