"""What the answer checks compare: words, or characters for scripts that do not space their words.

One unit is chosen for a pair of texts, on both together: a Korean fix whose input has typos is
compared character by character on both sides, never words against characters. Words keep their
combining marks (Devanagari and Bengali vowel signs, Arabic and Hebrew points), which Python's `\\w`
alone would cut them at.
"""

from __future__ import annotations

import functools
import re
import unicodedata
from collections import Counter

_MARKS = "\u0300-\u036f\u0483-\u0489\u0591-\u05c7\u0610-\u061a\u064b-\u065f\u0670\u06d6-\u06ed\u0900-\u0dff\u0e00-\u0eff\u200c"
WORD = re.compile(rf"[\w{_MARKS}]+(?:['’][\w{_MARKS}]+)*")
_UNSPACED = re.compile(r"[\u0e00-\u0eff\u1000-\u109f\u1780-\u17ff]")  # Thai, Lao, Myanmar, Khmer: no spaces either


def words(text: str) -> list[str]:
    return [w.lower() for w in WORD.findall(text)]


@functools.lru_cache(maxsize=8)  # asked for the same texts by several checks of one answer
def wide_share(text: str) -> float:
    """The share of the letters written in scripts without spaces between words (CJK, Hangul, Thai …)."""
    letters = [c for c in text if c.isalpha()]
    if not letters:
        return 0.0
    wide = sum(1 for c in letters if unicodedata.east_asian_width(c) == "W" or _UNSPACED.match(c))
    return wide / len(letters)


def by_characters(*texts: str) -> bool:
    """Whether these texts, taken together, are compared character by character."""
    return wide_share(" ".join(texts)) > 0.5


def units(text: str, characters: bool) -> list[str]:
    if characters:
        return [c for c in text.lower() if c.isalnum()]
    return words(text)


def pair_units(a: str, b: str) -> tuple[list[str], list[str]]:
    """Both texts cut into the one unit chosen for the pair."""
    characters = by_characters(a, b)
    return units(a, characters), units(b, characters)


def _grams(items: list[str], characters: bool) -> Counter[str]:
    """Character trigrams inside words (edges marked), or character pairs for unspaced scripts."""
    found: Counter[str] = Counter()
    if characters:
        found.update(a + b for a, b in zip(items, items[1:]))
        found.update(items)
        return found
    for word in items:
        padded = f" {word} "
        found.update(padded[i:i + 3] for i in range(len(padded) - 2))
    return found


def shared_content(a: str, b: str) -> float:
    """How much of their writing two texts share, in any order: the Dice coefficient of their character
    trigrams (pairs and single characters for unspaced scripts). A fixed typo or another ending of the
    same word still shares most of it; a reordered or reworded sentence keeps its stems."""
    characters = by_characters(a, b)
    grams_a, grams_b = _grams(units(a, characters), characters), _grams(units(b, characters), characters)
    total = sum(grams_a.values()) + sum(grams_b.values())
    if not total:
        return 1.0
    return 2 * sum((grams_a & grams_b).values()) / total


def weight(text: str) -> float:
    """How much a text says, about the same in any script: a CJK or Hangul character counts as three
    letters, a vowel sign or other combining mark (Devanagari, Bengali, Arabic) as one; spaces and
    punctuation count nothing."""
    wide = sum(1 for c in text if c.isalpha() and unicodedata.east_asian_width(c) == "W")
    plain = sum(1 for c in text if c.isalnum() or unicodedata.category(c) in ("Mn", "Mc")) - wide
    return plain + 3 * wide


def word_similarity(a: str, b: str) -> float:
    """1.0 for the same units in the same order (normalized Levenshtein over the pair's units)."""
    from rapidfuzz.distance import Levenshtein

    units_a, units_b = pair_units(a, b)
    if not units_a and not units_b:
        return 1.0
    return float(Levenshtein.normalized_similarity(units_a, units_b))
