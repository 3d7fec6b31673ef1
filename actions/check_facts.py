"""Fact rules: numbers, URLs, e-mail addresses, identifiers, acronyms and names that an answer must keep.

Facts are tokens compared as values, never as substrings: 3 is not 30, 359.99 is not 35999, and
1,200 (English), 1.200 (German), 1 200 (French) and ١٬٢٠٠ (Arabic) are the same number. A number
written with one separator of three digits after it ("1.200", "1,200") may be either reading; any
reading matching counts. Dates and times are their parts (5/3/2024 and 05.03.2024 share 5, 3 and 2024).

Names are capitalised words inside a sentence, except in languages that capitalise every noun
(German, Luxembourgish), where only acronyms, identifiers and mixed-case words (macOS, IPv6) count.
A fact of the input that the answer writes as a corrected typo of it ("Momnt" → "Moment") is kept.

Rules: `keeps_facts` (every fact kept, no number added: edits and lists), `keeps_numbers` (numbers,
URLs, e-mail addresses and code — placeholders, options, paths — kept, no number added: translations,
where names and words change), `adds_no_numbers` (no number the text lacks: summaries, which may leave details out).
"""

from __future__ import annotations

import re
import unicodedata
from collections import Counter
from collections.abc import Iterable

from rapidfuzz.distance import OSA

from phitray.actions.check_units import WORD

URL = re.compile(r"(?:https?://|www\.)[^\s<>\"')\]»”]+", re.IGNORECASE)
EMAIL = re.compile(r"[\w.+-]+@[\w-]+\.[\w.-]+")
# A number: digits in any script, with group separators (one kind) and a decimal mark; not inside a word
# (ext4, IPv6, %1$s), a sign only where a word could not end before it.
NUMBER = re.compile(r"(?<![A-Za-z\u00c0-\u024f\u0370-\u03ff\u0400-\u04ff_%{$\d])"
                    r"(?:(?<![\w.,])[-−+])?\d+(?:(?:[.,'’٬٫]|[ \u00a0\u202f\u2009](?=\d{3}(?!\d)))\d+)*")
_SEPARATOR = re.compile(r"[.,'’٬٫ \u00a0\u202f\u2009]")
# Code a translation keeps as it is: placeholders (%s, %(name)s, {0}, ${VAR}), options (--help), paths and
# file or host names. Edits keep word-like identifiers too: snake_case, mixedCase and CamelCase (AltGr), words
# with digits (IPv6).
CODE = re.compile(r"\b[A-Z][A-Z0-9_]{2,}(?==)|%\(\w+\)\w|%\d*\$?[sdif]|\{\w*\}|\$\{\w+\}|\$[A-Z_][A-Z0-9_]*|(?<!\S)(?:--[A-Za-z][\w-]*|-[A-Za-z][A-Za-z0-9]?\b)"
                  r"|(?<![\w/])(?:~|\.{1,2})?/(?=[\w./-]*[A-Za-z])[A-Za-z0-9_.-]+(?:/[A-Za-z0-9_.-]+)*|\b\w+\.(?:conf|txt|py|sh|cfg|ini|json|org|com|net)\b")
WORDLIKE = re.compile(r"\b\w+_\w+\b|\b[A-Za-z][a-z]+[A-Z]\w*|\b[a-z]+[A-Z]\w*|\b[A-Za-z]+\d\w*")
IDENTIFIER = re.compile(f"{CODE.pattern}|{WORDLIKE.pattern}")
# Two to six capitals: GNU, URL, NSS; a longer word in capitals is shouted, not an acronym.
ACRONYM = re.compile(r"(?<![\w-])[A-ZÀ-ÞА-ЯЁΑ-Ω][A-ZÀ-ÞА-ЯЁΑ-Ω]{1,5}(?![\w-])")
POSITIONAL = re.compile(r"%\d+\$")  # %1$s is %s put in its place
NOUN_CAPITALISING = ("de", "lb")
# Languages writing 1.200,5 (a comma before decimals); the rest write 1,200.5. Unknown: either reading.
DECIMAL_COMMA = frozenset("de fr es pt it nl sv da no nb nn pl cs sk sl hr sr bs tr fi ru uk be bg mk el id vi ro hu "
                          "lt lv et ca gl eu is af az kk uz ky sq ka hy mn".split())
DECIMAL_POINT = frozenset("en zh ja ko he hi bn th ar fa ur ta te kn ml mr gu pa ne si my km lo ms tl sw".split())
SENTENCE_END = ".!?:;。！？؟।\n•*#>-–—"  # after these a capital says nothing; after a quote or bracket it may
TYPO_SIMILARITY = 0.75
ONE = frozenset({0.0, 1.0})  # a translation may write "one" as 1 (1つ) or the other way round


def number_values(token: str, decimal_comma: bool | None = None) -> tuple[frozenset[float], ...]:
    """Each number a token can be read as, as a set of its possible values; a date gives its parts.
    `decimal_comma`: whether the language writes decimals after a comma (None: not known, either)."""
    digits = "".join(str(unicodedata.digit(c)) if c.isdigit() else c for c in token)
    sign = -1.0 if digits[0] in "-−" else 1.0
    digits = digits.lstrip("-−+")
    separators = _SEPARATOR.findall(digits)
    parts = _SEPARATOR.split(digits)
    if not separators:
        return (frozenset({sign * float(digits)}),)
    kinds = list(dict.fromkeys(separators))
    if len(kinds) == 1 and len(separators) > 1:  # 1.200.000, or a date 05.03.2024
        if all(len(p) == 3 for p in parts[1:]) and len(parts[0]) <= 3:
            return (frozenset({sign * float("".join(parts))}),)
        return tuple(frozenset({float(p)}) for p in parts if p)
    if len(kinds) == 1:  # one separator: a group or a decimal mark
        whole, tail = parts
        grouped = float(whole + tail)
        if kinds[0] in " \u00a0\u202f\u2009'’٬":
            return (frozenset({sign * grouped}),)
        decimal = float(f"{whole}.{tail}")
        if len(tail) != 3 or len(whole) > 3:
            return (frozenset({sign * decimal}),)
        if decimal_comma is None or kinds[0] not in ".,":
            return (frozenset({sign * decimal, sign * grouped}),)
        return (frozenset({sign * (decimal if (kinds[0] == ",") == decimal_comma else grouped)}),)
    decimal_mark = separators[-1]  # 1.200,50 / 1,200.50 / 1 200,5: the last kind is the decimal mark
    whole = "".join(parts[:-1])
    return (frozenset({sign * float(f"{whole}.{parts[-1]}")}),) if decimal_mark in ".,٫" else \
        (frozenset({sign * float("".join(parts))}),)


def decimal_comma(language: str | None) -> bool | None:
    return True if language in DECIMAL_COMMA else False if language in DECIMAL_POINT else None


def numbers(text: str, language: str | None = None) -> list[tuple[str, frozenset[float]]]:
    """(as written, possible values) of every number outside URLs, e-mail addresses and identifiers,
    read as the text's language writes them."""
    rest = IDENTIFIER.sub(" ", EMAIL.sub(" ", URL.sub(" ", text)))
    found = []
    comma = decimal_comma(language)
    for match in NUMBER.finditer(rest):
        for values in number_values(match.group(), comma):
            found.append((match.group().strip(), values))
    return found


def _digits(written: str) -> str:
    return "".join(str(unicodedata.digit(c)) for c in written if c.isdigit()).lstrip("0")


def _number_kept(written: str, values: frozenset[float], others: list[tuple[str, frozenset[float]]]) -> bool:
    """The same value, written with the same digits: 1,200 is 1.200 and 1 200, never 1,2000 or 12.00."""
    return any(values & theirs and _digits(written) == _digits(their) for their, theirs in others)


def identifiers(text: str, wordlike: bool = True) -> set[str]:
    rest = EMAIL.sub(" ", URL.sub(" ", text))
    pattern = IDENTIFIER if wordlike else CODE
    found = (m.group().rstrip(".-") for m in pattern.finditer(rest))
    return {written for written in found if len(written.strip("-/")) >= 2}


def acronyms(text: str) -> set[str]:
    letters = [c for c in text if c.isalpha()]
    if letters and sum(c.isupper() for c in letters) > len(letters) / 2:
        return set()  # a text in capitals shouts; its words are not acronyms
    return set(ACRONYM.findall(text))


def names(text: str, language: str | None) -> set[str]:
    """Capitalised words inside a sentence, in languages that capitalise names only. A word that only
    ever starts a sentence cannot be told from any other first word: it is a fact only as an acronym
    or identifier."""
    if language in NOUN_CAPITALISING:
        return set()
    found = set()
    for match in WORD.finditer(text):
        word = match.group()
        if not (word[0].isupper() and word[1:] and any(c.islower() for c in word[1:])):
            continue
        before = text[: match.start()].rstrip()
        if before and before[-1] not in SENTENCE_END and not before.endswith(("…", "...")):
            found.add(word)
    return found


def _typo_of(fact: str, tokens: Iterable[str], case: bool = False) -> bool:
    """Whether some token is the fact with a typo corrected (or made): one letter off (two swapped count
    as one), or, for longer facts, close in spelling and length. `case`: capitals must match (acronyms)."""
    lowered = fact if case else fact.lower()
    if len(fact) < 3:
        return False
    for token in tokens:
        other = token if case else token.lower()
        if abs(len(other) - len(lowered)) > 2 and (lowered in other or other in lowered):
            continue  # TerminusBoldVGA is another name than TerminusBold, not its typo
        if OSA.distance(lowered, other) <= 1 or (
                len(fact) >= 6 and abs(len(other) - len(lowered)) <= max(2, len(lowered) // 4)
                and OSA.normalized_similarity(lowered, other) >= TYPO_SIMILARITY):
            return True
    return False


def lost_facts(text: str, answer: str, language: str | None, every: bool = True,
               answer_language: str | None = None) -> list[str]:
    """The facts of the text the answer lacks, and numbers it adds (as "+n"). `every`: word-like
    identifiers, names and acronyms too, else numbers, URLs, e-mail addresses and code only. Code is
    kept as written (%1$s may stand for %s); the rest may be a corrected typo of itself. Each fact as
    often as the text has it: one of two "Latin" dropped is dropped."""
    lost: list[str] = []
    answer_tokens = set(re.findall(r"[^\s,;:!?()\"'“”«»]+", answer)) | set(WORD.findall(answer))
    lowered = answer.lower()
    for found in sorted(set(URL.findall(text)) | set(EMAIL.findall(text))):
        if found.rstrip(".").lower() not in lowered:
            lost.append(found)
    unplaced, placed = POSITIONAL.sub("%", answer), POSITIONAL.sub("%", text)
    code = identifiers(text, wordlike=False)
    for found in sorted(identifiers(text, wordlike=every)):
        # As often as the text has it, as a whole: XKBOPTIONS="${XKBOPTIONS}" without its key still says
        # ${XKBOPTIONS}, and TerminusBoldVGA is not TerminusBold.
        whole = re.compile(rf"(?<![A-Za-z0-9_]){re.escape(POSITIONAL.sub('%', found))}(?![A-Za-z0-9_])")
        kept = len(whole.findall(unplaced))
        if kept < len(whole.findall(placed)) and (found in code or kept or not _typo_of(found, answer_tokens)):
            lost.append(found)
    if every:
        for found in sorted(acronyms(text)):
            alone = re.compile(rf"(?<![^\W\d_]){re.escape(found)}")
            kept = len(alone.findall(answer))
            if kept < len(alone.findall(text)) and (kept or not _typo_of(found, answer_tokens, case=True)):
                lost.append(found)
        answer_words = Counter(w.lower() for w in WORD.findall(answer))
        text_words = Counter(w.lower() for w in WORD.findall(text))
        for found in sorted(names(text, language)):
            name = found.lower()
            if answer_words[name] < text_words[name] and (answer_words[name] or not _typo_of(found, answer_words)):
                lost.append(found)
    theirs = numbers(answer, answer_language)
    lost += [written for written, values in numbers(text, language) if not _number_kept(written, values, theirs)
             and (every or not values <= ONE)]
    lost += [f"+{written}" for written in added_numbers(text, answer, language, answer_language)
             if every or not number_values(written)[0] <= ONE]
    return list(dict.fromkeys(lost))


def added_numbers(text: str, answer: str, language: str | None = None, answer_language: str | None = None) -> list[str]:
    """Numbers of the answer the text does not have."""
    theirs = numbers(text, language)
    return [written for written, values in numbers(answer, answer_language)
            if not _number_kept(written, values, theirs)]


def describe(lost: list[str]) -> str:
    dropped = [f for f in lost if not f.startswith("+")]
    added = [f[1:] for f in lost if f.startswith("+")]
    said = []
    if dropped:
        said.append("drops or changes " + ", ".join(dropped[:5]) + (f" and {len(dropped) - 5} more" if len(dropped) > 5 else ""))
    if added:
        said.append("adds the number" + ("s " if len(added) > 1 else " ") + ", ".join(added[:5]))
    return "The answer " + " and ".join(said) + "."


def facts_of(text: str, language: str | None = None) -> set[str]:
    """Every fact of a text, as written: URLs, e-mail addresses, identifiers, acronyms, names, numbers."""
    return (set(URL.findall(text)) | set(EMAIL.findall(text)) | identifiers(text) | acronyms(text)
            | names(text, language) | {written for written, _ in numbers(text)})
