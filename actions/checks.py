"""Answer checks: what an action's answer must pass before it may replace the person's text.

An action declares its checks in a `[checks]` table of its TOML file;
`parse_checks` validates that raw table field by field (a bad threshold names
the file and field, like every other field) into a frozen `Checks`, and
`check_answer` runs them on (input, answer). Every check says in plain words
why it failed. Small models invert meanings, drift into English, loop, or echo
the prompt; none of these may be pasted over the person's text unseen.

    [checks]
    close_to_input = 0.6    # shared writing with the input, 0-1 (edits)
    covers_input = 0.5      # says at least this share of what the input says, and does not stop mid-sentence
    keeps_facts = true      # every number, URL, e-mail, identifier, acronym and name kept, no number added
    keeps_numbers = true    # numbers, URLs, e-mails and identifiers kept, no number added (translations)
    adds_no_numbers = true  # no number the input lacks (summaries)
    keeps_negation = true   # no negation added or dropped (edits that keep the wording)
    keeps_polarity = true   # negative (a negation, or failure, lack, invalidity) exactly when the input is (rewrites)
    shorter = 0.8           # at most this share of the input's length; a summary is never the input itself
    same_language = true    # the answer's language is the input's (all but translate)
    target_language = true  # the answer is in the $language placeholder (translate)
    no_loop = true          # no run of the answer written again after itself (on unless false)
    no_prompt_echo = true   # no <text> tags or instructions echoed back, no stub left of them (on unless false)

Each rule lives in its own module: check_units (what is compared), check_facts, check_negation,
check_language, check_shape. `bench/checks.py` measures them on real text in 25 languages.
"""

from __future__ import annotations

import logging

from dataclasses import dataclass
from typing import Any

from phitray.actions import check_facts, check_language, check_negation, check_shape, check_units
from phitray.actions.check_facts import NUMBER, facts_of as facts
from phitray.actions.check_language import detect_language, language_code
from phitray.actions.check_units import shared_content, word_similarity
from phitray.errors import ActionFileError

__all__ = ["NUMBER", "CheckResult", "Checks", "check_answer", "check_placeholders", "clear_caches", "detect_language", "facts", "failed", "language_code",
           "parse_checks", "shared_content", "unknown_language", "word_similarity"]
PARAPHRASE = 0.5  # a close_to_input under this allows rewording
# A second guess at least this likely counts beside the first (a short text may be either).
SECOND_LANGUAGE = 0.3

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class Checks:
    """The validated `[checks]` of one action; None or False is off."""

    close_to_input: float | None = None
    covers_input: float | None = None
    keeps_facts: bool = False
    keeps_numbers: bool = False
    adds_no_numbers: bool = False
    shorter: float | None = None
    keeps_negation: bool = False
    keeps_polarity: bool = False
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
    "close_to_input": _share, "covers_input": _share, "keeps_facts": _flag, "keeps_numbers": _flag,
    "adds_no_numbers": _flag, "keeps_negation": _flag, "keeps_polarity": _flag, "shorter": _ratio, "same_language": _flag,
    "target_language": _flag, "no_loop": _flag, "no_prompt_echo": _flag,
}


def parse_checks(raw: Any, source: str) -> Checks:
    """The `[checks]` table of one action; raises ActionFileError naming the field."""
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


def check_placeholders(checks: Checks, placeholders: dict[str, str], source: str) -> None:
    """What the declared checks need of the action's placeholders: `target_language` a $language that
    names a language the checks know. Raises ActionFileError naming the field."""
    if not checks.target_language:
        return
    if "language" not in placeholders:
        raise ActionFileError(source, "checks.target_language", "needs a $language placeholder (declare it under "
                                                                "[placeholders] with a default)")
    problem = unknown_language(placeholders["language"])
    if problem:
        raise ActionFileError(source, "placeholders.language", problem)


def unknown_language(name: str) -> str:
    """Why a language name cannot be checked; '' when the checks know it."""
    if language_code(name) is not None:
        return ""
    return (f"{name!r} is not a language the checks know: name it in English, in itself or by its ISO code "
            "(German, Deutsch or de)")


def languages_of(*texts: str) -> tuple[str, ...]:
    """The texts' likely languages: the first guess, and the second when that is likely too. An edit's
    text and answer are guessed together: more letters, one language."""
    return check_language.likely_languages(*texts, second=SECOND_LANGUAGE)


def sure_language(text: str) -> str | None:
    """The text's language when fastText is sure of it, else None (numbers are then read either way)."""
    code, p = check_language.guesses(text, 1)[0]
    return code if p >= check_language.SURE_TARGET else None


def check_answer(checks: Checks, text: str, answer: str, values: dict[str, str] | None = None,
                 raw: str | None = None) -> tuple[CheckResult, ...]:
    """Every declared check on one answer, in a fixed order. `raw` is the model's answer as streamed,
    before cleanup (several model calls joined): echoes are looked for there too.

    Any text goes through: lone surrogates and NULs are made readable first, and a check that fails
    on a text anyway flags the answer with a reason instead of ending the job."""
    text, answer = checkable(text), checkable(answer)
    raw = None if raw is None else checkable(raw)
    try:
        return _check_answer(checks, text, answer, values or {}, raw)
    except Exception as error:  # a rule's bug must cost one answer its paste, never the person's job
        log.exception("the answer checks failed")
        return (CheckResult("checkable", False, f"Phi Tray could not check this answer ({type(error).__name__}); "
                                                "read it before you use it."),)


def checkable(text: str) -> str:
    """`text` with lone surrogates as U+FFFD and NULs dropped: the language and fact libraries take no others."""
    return text.encode("utf-16", "surrogatepass").decode("utf-16", "replace").replace("\0", "")


def _check_answer(checks: Checks, text: str, answer: str, values: dict[str, str],
                  raw: str | None) -> tuple[CheckResult, ...]:
    results = [CheckResult("not_empty", bool(answer.strip()), "" if answer.strip() else "The answer is empty.")]
    if not answer.strip():
        return tuple(results)
    languages = languages_of(text, answer) if checks.same_language else languages_of(text)
    text_language = sure_language(text)
    answer_language = text_language if checks.same_language else sure_language(answer)
    if checks.no_prompt_echo:
        echoed = check_shape.echoes(text, answer, raw)
        stub = not echoed and check_shape.stub(text, answer)
        results.append(CheckResult("no_prompt_echo", not (echoed or stub),
                                   f"The answer repeats the instructions ({echoed!r})." if echoed else
                                   "The answer has no words in it, only markup or signs." if stub and
                                   check_shape.wordless(answer) else
                                   f"The answer is only {answer.strip()[:80]!r}: the rest was cut away (the model may "
                                   "have repeated the prompt)." if stub else ""))
    if checks.no_loop:
        looping = check_shape.loops(text, answer)
        results.append(CheckResult("no_loop", not looping, "The answer repeats itself." if looping else ""))
    if checks.close_to_input is not None:
        similarity = shared_content(text, answer)
        # A rewrite of a few words may share none of them; an edit that keeps the wording still shares most.
        close = similarity >= checks.close_to_input or (checks.close_to_input < PARAPHRASE and
                                                        check_shape.too_short_to_compare(text))
        results.append(CheckResult(
            "close_to_input", close,
            "" if close else f"The answer changes much more than an edit should "
                             f"({similarity:.0%} of the writing shared, at least {checks.close_to_input:.0%} expected)."))
    if checks.covers_input is not None:
        said, stops = check_shape.coverage(text, answer)
        short = said < checks.covers_input
        results.append(CheckResult(
            "covers_input", not (short or stops),
            f"The answer says much less than the text ({said:.0%} of it): it may be cut short." if short else
            "The answer stops in the middle of a sentence: it may be cut short." if stops else ""))
    if checks.keeps_facts or checks.keeps_numbers:
        lost = check_facts.lost_facts(text, answer, "de" if "de" in languages else text_language,
                                      every=checks.keeps_facts, answer_language=answer_language)
        results.append(CheckResult("keeps_facts" if checks.keeps_facts else "keeps_numbers", not lost,
                                   check_facts.describe(lost) if lost else ""))
    if checks.adds_no_numbers:
        added = check_facts.added_numbers(text, answer, text_language, answer_language)
        results.append(CheckResult("adds_no_numbers", not added,
                                   f"The answer has numbers the text does not: {', '.join(added[:5])}." if added else ""))
    if checks.keeps_negation:
        kept, reason = check_negation.compare(text, answer, languages)
        results.append(CheckResult("keeps_negation", kept, reason))
    if checks.keeps_polarity:
        kept, reason = check_negation.compare_polarity(
            text, answer, languages, None if checks.same_language else languages_of(answer))
        results.append(CheckResult("keeps_polarity", kept, reason))
    if checks.shorter is not None:
        results.append(_shorter(checks.shorter, text, answer, itself=not checks.is_edit))
    if checks.same_language:
        results.append(CheckResult("same_language", *check_language.same_language(text, answer)))
    if checks.target_language:
        results.append(CheckResult("target_language",
                                   *check_language.target_language(values.get("language", ""), text, answer)))
    return tuple(results)


def _shorter(limit: float, text: str, answer: str, itself: bool) -> CheckResult:
    """At most `limit` of the text's length; `itself`: and never the text itself (a summary; an edit may
    leave a text that needs nothing as it is)."""
    if itself and check_shape.the_text_itself(text, answer):
        return CheckResult("shorter", False, "The answer is the text itself.")
    if len(text.strip()) < check_shape.MIN_CHARACTERS_FOR_SHORTER:
        return CheckResult("shorter", True, "the input is too short to compare")
    ratio = len(answer.strip()) / len(text.strip())
    short = ratio <= limit
    return CheckResult("shorter", short, "" if short else f"The answer is not shorter than the text ({ratio:.0%} of its length).")


def clear_caches() -> None:
    """Forget the texts seen so far (the rules cache their language guesses for one answer's checks)."""
    check_language.clear_caches()
    check_units.wide_share.cache_clear()


def failed(results: tuple[CheckResult, ...]) -> tuple[CheckResult, ...]:
    return tuple(result for result in results if not result.passed)
