"""Split text that does not fit the model's context, never dropping a character.

A plan is a list of consecutive spans over the original text: joined, they
give it back exactly. Splits fall on paragraph breaks, then sentence ends,
then spaces, and only as a last resort inside a word.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from dataclasses import dataclass

SEPARATORS = (
    re.compile(r"\n\s*\n"),  # paragraphs
    re.compile(r"(?<=[.!?。！？])\s+"),  # sentences
    re.compile(r"\n"),  # lines
    re.compile(r"\s+"),  # words
)


@dataclass(frozen=True)
class Span:
    start: int
    end: int


def plan_chunks(text: str, budget: int, count_tokens: Callable[[str], int]) -> list[Span]:
    """Spans of at most `budget` tokens each that cover `text` exactly once, in order."""
    if budget < 1:
        raise ValueError("budget must be at least one token")
    spans: list[Span] = []
    _split(text, 0, len(text), budget, count_tokens, 0, spans)
    return _merge(text, spans, budget, count_tokens)


def _split(text: str, start: int, end: int, budget: int, count: Callable[[str], int], level: int,
           out: list[Span]) -> None:
    if count(text[start:end]) <= budget:
        out.append(Span(start, end))
        return
    if level == len(SEPARATORS):
        # No separator left: cut by characters, halving until a piece fits.
        middle = (start + end) // 2
        if middle == start:
            out.append(Span(start, end))  # one character over budget: nothing smaller exists
            return
        _split(text, start, middle, budget, count, level, out)
        _split(text, middle, end, budget, count, level, out)
        return
    cuts = [m.end() for m in SEPARATORS[level].finditer(text, start, end) if start < m.end() < end]
    if not cuts:
        _split(text, start, end, budget, count, level + 1, out)
        return
    previous = start
    for cut in cuts + [end]:
        _split(text, previous, cut, budget, count, level + 1, out)
        previous = cut


def _merge(text: str, spans: list[Span], budget: int, count: Callable[[str], int]) -> list[Span]:
    """Join neighbouring small pieces back up to the budget, so the model is called as few times as possible."""
    merged: list[Span] = []
    for span in spans:
        if merged and count(text[merged[-1].start : span.end]) <= budget:
            merged[-1] = Span(merged[-1].start, span.end)
        else:
            merged.append(span)
    return merged
