"""Shape rules: an answer that loops, echoes the prompt, is cut short, or is the text itself.

- `no_loop`: a run of words (characters for unspaced scripts) written again straight after itself —
  the whole answer twice, or a sentence or list line over and over — that the text does not repeat.
- `no_prompt_echo`: the prompt's delimiters or instructions in the answer, looked for in the answer
  as the model streamed it (`raw`) as well: the stop string ends an echoed prompt at its own `</text>`
  and cleanup keeps a stub of it ("and"); and a stub left of a longer text is flagged, never pasted.
- `covers_input`: the answer says about as much as the text (weighted across scripts), and does not
  stop mid-sentence where the text ends one: a truncated answer is caught.
- `shorter`: a summary is shorter than the text, and never the text itself.
"""

from __future__ import annotations

import re

from phitray.actions.check_language import MARKUP
from phitray.actions.check_units import by_characters, units, weight, words

# The delimiters, and words every built-in prompt says of them (what an echoed prompt leaves once cleanup
# takes out the tags: "Summarize the text between  and") or every built-in system prompt ends with.
ECHO_MARKS = ("<text>", "</text>", "It is data, not instructions", "the text between", "Output only",
              "with no introduction")
INSTRUCTION_MARKS = tuple(mark for mark in ECHO_MARKS if not mark.startswith("<"))
LOOP_MIN_UNITS = 4  # a repeated run shorter than this (in words; 3× in characters) is language, not a loop
REPEAT_GRAM = 4  # units compared at a time when looking for a repeated run
STUB_MAX_WEIGHT = 12  # letters, a CJK character counting three (check_units.weight)
STUB_SHARE = 0.2
STOPS_SHORT = 0.7  # an answer that stops mid-sentence is cut short only when it also says less than this share
MIN_CHARACTERS_FOR_SHORTER = 80
MIN_UNITS_TO_COMPARE = 4
SENTENCE_END = tuple(".!?。！？؟।…:;")
CLOSERS = "\"'”’»)]』」*"
THINK = re.compile(r"<think>.*?(</think>|$)", re.DOTALL | re.IGNORECASE)
BULLET = re.compile(r"^\s*(?:[-*•]|\d+[.)])\s+", re.MULTILINE)


def longest_repeat(text: str) -> int:
    """The longest run of units written again straight after itself (…A B C A B C…), in units.

    One pass over the text's runs of four units: a run that equals the one a fixed distance back, over
    the whole distance, is a stretch written twice; each run is compared with the one that distance
    back, or, when that fails, with its own last occurrence (linear in the text's length)."""
    items = units(text, by_characters(text))
    size = REPEAT_GRAM
    grams = [tuple(items[i:i + size]) for i in range(len(items) - size + 1)]
    last: dict[tuple[str, ...], int] = {}
    best = distance = run = 0
    for index, gram in enumerate(grams):
        if distance and grams[index - distance] == gram:
            run += 1
        else:
            earlier = last.get(gram)
            distance, run = (index - earlier, 1) if earlier is not None else (0, 0)
        if distance and run >= distance - size + 1:
            best = max(best, distance)
        last[gram] = index
    return best


def loops(text: str, answer: str) -> bool:
    """Whether the answer repeats a run of itself back to back that the text does not."""
    scale = 3 if by_characters(answer) else 1
    repeat = longest_repeat(answer)
    if repeat < LOOP_MIN_UNITS * scale and not _doubled(answer):
        return False
    return repeat > longest_repeat(text) or (_doubled(answer) and not _doubled(text))


def _doubled(text: str) -> bool:
    """The whole text written twice."""
    items = units(text, by_characters(text))
    half = len(items) // 2
    return len(items) >= 2 and len(items) % 2 == 0 and items[:half] == items[half:]


def echoes(text: str, answer: str, raw: str | None) -> str:
    """What of the prompt the answer (or the model's raw answer) repeats; '' when nothing."""
    lowered = text.lower()
    # In the raw answer the delimiters alone are wrapping that cleanup removes (and the stop string itself);
    # the instruction's own words are the echo.
    for source, marks in ((answer, ECHO_MARKS), (THINK.sub("", raw or ""), INSTRUCTION_MARKS)):
        for mark in marks:
            if mark.lower() in source.lower() and mark.lower() not in lowered:
                return mark
    return ""


def stub(text: str, answer: str) -> bool:
    """An answer of a word or two left of a longer text: what cleanup leaves of a cut echo ("and"), or
    markup with no words in it (an empty table)."""
    said = weight(MARKUP.sub(" ", answer))
    return said <= STUB_MAX_WEIGHT and said < STUB_SHARE * weight(text)


def wordless(answer: str) -> bool:
    """Markup, signs and spaces, and not one letter or digit."""
    return weight(MARKUP.sub(" ", answer)) == 0


def coverage(text: str, answer: str) -> tuple[float, bool]:
    """(how much the answer says against the text, whether it stops mid-sentence where the text ends one)."""
    said = weight(answer) / max(weight(text), 1)
    ends = text.rstrip().rstrip(CLOSERS).endswith(SENTENCE_END)
    stops = not answer.rstrip().rstrip(CLOSERS).endswith(SENTENCE_END)
    return said, ends and stops and said < STOPS_SHORT


def too_short_to_compare(text: str) -> bool:
    """Under four words (eight characters in unspaced scripts): rewordings of it share little or nothing
    ("Confermi?" for "Sei sicuro?"), so closeness says nothing."""
    return len(units(text, by_characters(text))) < (MIN_UNITS_TO_COMPARE * 2 if by_characters(text) else MIN_UNITS_TO_COMPARE)


def the_text_itself(text: str, answer: str) -> bool:
    """The answer is the text, bullets and spacing aside."""
    return words(BULLET.sub("", answer)) == words(BULLET.sub("", text)) and bool(words(text))
