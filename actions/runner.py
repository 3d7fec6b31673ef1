"""Run an action on a text through the model: render, split if needed, stream, clean.

The model is anything with `generate(Request)` and `count_tokens(str)` and an
`info` — the resident `ModelHost` in the daemon and CLI.
"""

from __future__ import annotations

import re
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass, replace
from typing import Protocol

from phitray.actions.cleanup import AnswerStream, clean_answer, keep_edges
from phitray.actions.longtext import plan_chunks
from phitray.actions.model import TEXT_CLOSE, Action
from phitray.backends.base import MIN_ANSWER_TOKENS, BackendInfo, GenerationStats, Request
from phitray.errors import ContextOverflow, NothingToDo


DEFAULT_MAX_CHARACTERS = 200_000
LONE_SURROGATE = re.compile("[\ud800-\udfff]")
# Chat-template tokens and the rounding of counting pieces apart: kept free in every prompt.
PROMPT_MARGIN_TOKENS = 32


class Streaming(Protocol):
    @property
    def stats(self) -> GenerationStats | None: ...

    def __iter__(self) -> Iterator[str]: ...


class Model(Protocol):
    @property
    def info(self) -> BackendInfo | None: ...

    def generate(self, request: Request) -> Streaming: ...

    def count_tokens(self, text: str) -> int: ...


@dataclass(frozen=True)
class ActionResult:
    action_id: str
    text: str  # cleaned, with the selection's own leading/trailing whitespace
    chunks: int  # pieces the input was split into
    model_calls: int
    seconds: float
    ttft_seconds: float  # to the first streamed character of the final answer
    tokens: int  # generated over all model calls
    tokens_per_second: float  # tokens after each call's first over the time spent decoding them (as the host counts)
    model_seconds: float = 0.0  # inside the model host's generate calls, request received → last chunk
    decoding: str = ""  # what the model host ran (GenerationStats.decoding); every call of an action asks the same
    raw: str = ""  # every call's answer as the model gave it, before cleanup: the checks look for echoes there
    html: str = ""  # the answer as HTML where the selection's formatting was kept (text is then its plain form)



@dataclass(frozen=True)
class Sampling:
    """"Another version": sample at `temperature` with `seed`, in place of the action's own (greedy) decoding."""

    seed: int
    temperature: float


def run_action(
    model: Model,
    action: Action,
    text: str,
    values: dict[str, str] | None = None,
    on_text: Callable[[str], None] = lambda chunk: None,
    max_characters: int = DEFAULT_MAX_CHARACTERS,
    sampling: Sampling | None = None,
) -> ActionResult:
    """`on_text` receives the final answer as it streams (on the calling thread), cleaned: its pieces
    joined are the result's text, edges included."""
    # A lone surrogate (from a broken source) cannot be encoded for any tokenizer: mark it as unreadable.
    text = LONE_SURROGATE.sub("\ufffd", text)
    if not text.strip():
        raise NothingToDo("There is no text to work on: the selection is empty or only whitespace.")
    if len(text) > max_characters:
        raise ContextOverflow(
            f"The text is {len(text):,} characters; {action.title} takes at most {max_characters:,}. "
            "Select less, or raise max_characters in the settings."
        )
    action.values(values)  # unknown placeholders fail before any model call
    assert model.info is not None, "the model is not loaded"
    run = _Run(model, action, values or {}, on_text, lead=text[: len(text) - len(text.lstrip())], sampling=sampling)
    core = text.strip()
    spans = plan_chunks(core, run.text_budget(), model.count_tokens)
    pieces = [core[s.start : s.end] for s in spans]
    if len(pieces) == 1:
        answer = run.call(core, stream=True)
    elif action.long_text == "map-reduce":
        answer = run.map_reduce(pieces)
    else:
        answer = run.piecewise(pieces)
    delivered = keep_edges(answer, text)
    run.stream_rest(delivered)
    return ActionResult(
        action_id=action.id,
        text=delivered,
        chunks=len(pieces),
        model_calls=run.calls,
        seconds=time.perf_counter() - run.started,
        ttft_seconds=run.ttft,
        tokens=run.tokens,
        tokens_per_second=run.decoded_tokens / run.decode_seconds if run.decode_seconds else 0.0,
        model_seconds=run.model_seconds,
        decoding=run.decoding,
        raw="\n\n".join(run.raw),
    )


class _Run:
    def __init__(self, model: Model, action: Action, values: dict[str, str], on_text: Callable[[str], None],
                 lead: str, sampling: Sampling | None = None) -> None:
        self.model, self.action, self.values, self.on_text = model, action, values, on_text
        self.sampling = sampling
        # What has streamed is always the start of what is delivered: the text's leading whitespace goes
        # before the first clean piece, a piece's own separator only before its answer, the rest at the end.
        self.streamed: list[str] = []
        self.separator = lead
        self.calls = 0
        self.started = time.perf_counter()
        self.ttft = 0.0
        self.tokens = 0
        self.decode_seconds = 0.0
        self.decoded_tokens = 0  # after each call's first, which its TTFT paid for
        self.model_seconds = 0.0
        self.decoding = ""
        self.raw: list[str] = []

    def text_budget(self, reduce: bool = False) -> int:
        """Tokens left for the text once the template, margins and the answer are accounted for."""
        info = self.model.info
        assert info is not None
        system, prompt = self.action.render("", self.values, reduce=reduce)
        template = self.model.count_tokens(system) + self.model.count_tokens(prompt)
        answer = min(self.action.max_new_tokens, info.context_length // 2)
        room = min(info.max_prompt_tokens, info.context_length - answer) - template - PROMPT_MARGIN_TOKENS
        if room < MIN_ANSWER_TOKENS:
            raise ContextOverflow(
                f"{self.action.id}'s template leaves no room for text in {info.model_id}'s {info.context_length}-token context."
            )
        return room

    def call(self, text: str, stream: bool, reduce: bool = False) -> str:
        system, prompt = self.action.render(text, self.values, reduce=reduce)
        # Small models echo the closing delimiter after the answer, then start commenting on it.
        request = Request(prompt, system=system or None, max_new_tokens=self.action.max_new_tokens,
                          temperature=self.action.temperature, stop=(TEXT_CLOSE,), decoding=self.action.decoding)
        if self.sampling is not None:  # plain decoding: prompt lookup's drafts are tuned for greedy answers
            request = replace(request, temperature=self.sampling.temperature, seed=self.sampling.seed,
                              decoding="plain")
        self.calls += 1
        parts = []
        cleaned = AnswerStream(text) if stream else None
        answer: list[str] = []  # the clean answer, as streamed
        generation = self.model.generate(request)
        for chunk in generation:
            if cleaned is not None:
                self.send(cleaned.feed(chunk), answer)
            parts.append(chunk)
        self.raw.append("".join(parts))
        stats = generation.stats
        if stats is not None:
            self.tokens += stats.tokens
            self.decode_seconds += stats.seconds - stats.ttft_seconds
            self.decoded_tokens += max(stats.tokens - 1, 0)
            self.model_seconds += stats.seconds
            self.decoding = stats.decoding
        if cleaned is None:
            return clean_answer("".join(parts), text)
        self.send(cleaned.finish(), answer)
        return "".join(answer)

    def send(self, clean: str, answer: list[str]) -> None:
        """Stream a clean piece of the answer (kept in `answer` too), after the whitespace owed before it."""
        if not clean:
            return
        if not self.ttft:
            self.ttft = time.perf_counter() - self.started
        answer.append(clean)
        piece, self.separator = self.separator + clean, ""
        self.streamed.append(piece)
        self.on_text(piece)

    def stream_rest(self, delivered: str) -> None:
        """Stream what the delivered text has beyond what streamed: the selection's trailing whitespace."""
        streamed = "".join(self.streamed)
        assert delivered.startswith(streamed), "what streamed is not the start of what is delivered"
        if rest := delivered[len(streamed) :]:
            self.streamed.append(rest)
            self.on_text(rest)

    def piecewise(self, pieces: list[str]) -> str:
        """Rewrite-style: each piece in order, streamed, joined with the text's own separators."""
        answers = []
        between = ""  # the text's whitespace since the last piece that got an answer
        for piece in pieces:
            core = piece.strip()
            if not core:
                answers.append(piece)
                between += piece
                continue
            if self.streamed:
                self.separator = between + piece[: len(piece) - len(piece.lstrip())]
            answer = self.call(core, stream=True)
            if answer:
                between = piece[len(piece.rstrip()) :]
            answers.append(keep_edges(answer, piece))
        return "".join(answers).strip()

    def map_reduce(self, pieces: list[str]) -> str:
        """Summary-style: each piece on its own, then the partial answers combined, until one fits."""
        partials = [self.call(piece.strip(), stream=False) for piece in pieces if piece.strip()]
        while True:
            joined = "\n\n".join(p for p in partials if p)
            budget = self.text_budget(reduce=True)
            spans = plan_chunks(joined, budget, self.model.count_tokens)
            if len(spans) == 1:
                return self.call(joined, stream=True, reduce=True)
            if len(spans) >= len(partials):
                raise ContextOverflow("The partial results do not get shorter; the model cannot condense this text.")
            partials = [self.call(joined[s.start : s.end].strip(), stream=False, reduce=True) for s in spans]
