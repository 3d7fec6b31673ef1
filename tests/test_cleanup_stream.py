"""The streaming cleaner agrees with clean_answer: what streams is what gets delivered, on wrapped and
unwrapped answers split into pieces anywhere, and it holds back only while a wrapper is still possible."""

from __future__ import annotations

import itertools
import random

import pytest

from phitray.actions.cleanup import AnswerStream, clean_answer

THINKS = ("", "<think>The user wants a proofread.\nSo: fix it.</think>", "<THINK>x</Think>\n")
SPACES = ("", " ", "\n\n", " \t\n")
PREAMBLES = ("", "Here's a corrected version of the text:\n", "Sure! Here is the rewritten text:\n\n",
             "Certainly, here’s the translation: ", "OK, I have fixed the typos:\n", "Here is the text:",
             "Sure, I can come at 5 and", "The corrected text reads as follows:\n",
             # the starter's own, on proofread and rewrite
             "To ensure accuracy, please provide the text as follows:\n\n", "Rewrite the text between <text> and </text:\n")
TAGS = ("", "<text>", "<text>\n")
FENCES = ("", "```\n", "```python\n")
QUOTES = ("", '"', "“", "'", "«")
CLOSING = {"": "", '"': '"', "“": "”", "'": "'", "«": "»"}
BODIES = ("Their team does not have the numbers for 2025 yet, so we can't ship on Friday the 14th.",
          'He said "no" twice.', "Don't.", "line one\n\nline two", "code `x` here", "a</te", "<thi", "x\n``",
          "", "  ", '"Hello," she said.', "<text>inner", "a\n```\nb", "Hello", "ok")
ENDS = ("", "\n```", "</text>", "\n</text>\n\nI changed the verb.", "  \n", "\n\nI corrected the grammar.", "<think>")
ORIGINALS = ("their team do not has the numbers", '"quoted" text', "```py\nx\n```", "  lead\n")
TOKENS = ("<", "text", ">", "</", "<think>", "</think>", "</THINK>", "```", "\n", " ", '"', "“", "”", "'", "«", "»",
          "Here's", "Sure", ":", "a", "b", "Ok", "the corrected", "`", "</text>", "<text>", "py", "\t", "think")


def streamed(answer: str, original: str, cuts: list[int]) -> tuple[str, list[str]]:
    stream = AnswerStream(original)
    pieces = [answer[a:b] for a, b in zip([0, *cuts], [*cuts, len(answer)])]
    out = [stream.feed(piece) for piece in pieces]
    out.append(stream.finish())
    return "".join(out), out


def random_cuts(rng: random.Random, answer: str) -> list[int]:
    if not answer:
        return []
    count = rng.randint(0, min(len(answer), 12))
    return sorted(rng.sample(range(1, len(answer) + 1), count)) if count else []


def wrapped_answers() -> list[str]:
    rng = random.Random(11)
    answers = []
    for think, pre, tag, fence, quote, body, end in itertools.product(THINKS, PREAMBLES, TAGS, FENCES, QUOTES, BODIES,
                                                                      ENDS):
        if rng.random() < 0.02:
            answers.append(f"{think}{rng.choice(SPACES)}{pre}{tag}{fence}{quote}{body}{CLOSING[quote]}{end}")
    return answers


def test_the_stream_agrees_with_clean_answer_on_wrapped_and_unwrapped_answers() -> None:
    rng = random.Random(5)
    answers = wrapped_answers()
    assert len(answers) > 1500
    for answer in answers:
        for original in ORIGINALS:
            expected = clean_answer(answer, original)
            for cuts in ([], list(range(1, len(answer))), random_cuts(rng, answer)):
                got, _ = streamed(answer, original, cuts)
                assert got == expected, (answer, original, cuts)


def test_the_stream_agrees_on_hostile_token_soup() -> None:
    rng = random.Random(17)
    for _ in range(6000):
        answer = "".join(rng.choice(TOKENS) for _ in range(rng.randint(0, 30)))
        original = rng.choice(ORIGINALS + ("'", "«x»"))
        expected = clean_answer(answer, original)
        for cuts in (list(range(1, len(answer))), random_cuts(rng, answer)):
            assert streamed(answer, original, cuts)[0] == expected, (answer, original, cuts)


@pytest.mark.parametrize("answer, original, expected", [
    ("Here's a corrected version of the text:\n<text>\nTheir team does not have the numbers yet.\n",
     "Their team do not has the numbers yet.\n", "Their team does not have the numbers yet."),
    ("<think>hm</think>Sure! Here is the rewritten text:\n\n```\nDear team,\n```\nHope this helps!", "hey team",
     "Dear team,"),
    ("“Hello there.”", "hello there", "Hello there."),
    ('"Hello," she said.', "hello she said", '"Hello," she said.'),
    ("```python\nprint(1)\n```", "```python\nprint 1\n```", "```python\nprint(1)\n```"),
    ("Plain answer.", "plain", "Plain answer."),
])
def test_known_wrappings_stream_clean(answer: str, original: str, expected: str) -> None:
    assert clean_answer(answer, original) == expected
    assert streamed(answer, original, list(range(1, len(answer))))[0] == expected


def test_an_answer_is_held_only_until_its_first_line_is_decided() -> None:
    first, second = "Their team does not have the numbers for 2025 yet.", "So we can't ship on Friday."
    answer = f"{first}\n\n{second} More words follow here."
    _, pieces = streamed(answer, "their team do not has", list(range(1, len(answer))))
    shown = [len("".join(pieces[: n + 1])) for n in range(len(pieces))]
    # Nothing until the second line starts (the first might introduce an echoed <text>), then at once.
    released = next(n for n, length in enumerate(shown) if length)
    assert released == answer.index(second)  # "S" cannot start a <text>
    assert all(shown[n] == len(answer[: n + 1].rstrip()) for n in range(released, len(answer)))  # spaces wait
    long_line = "word " * 60
    _, pieces = streamed(long_line, "x", list(range(1, len(long_line))))
    assert next(n for n, piece in enumerate(pieces) if piece) == 159  # a line past 160 characters is no preamble


def test_a_preamble_never_shows() -> None:
    plain = "Their team does not have the numbers for 2025 yet."
    for preamble in ("Here's a corrected version of the text:\n\n<text>\n", "To ensure accuracy, here it is:\n<text>\n",
                     "Rewrite the text between <text> and </text:\n<text>\n", "Sure! Here is the fix:\n"):
        wrapped = preamble + plain + "\n</text>\nI changed two words."
        _, pieces = streamed(wrapped, "their team do not has", list(range(1, len(wrapped))))
        shown = ""
        for piece in pieces:
            shown += piece
            assert plain.startswith(shown), (preamble, shown)
        assert shown == plain
