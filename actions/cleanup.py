"""Strip what small models wrap around an answer, and keep the selection's own edges.

Small models add "Here is the rewritten text:" preambles, put the answer in
quotes or code fences, and reasoning models emit <think> blocks. None of that
belongs in a person's document.
"""

from __future__ import annotations

import re

THINK = re.compile(r"<think>.*?(</think>|$)", re.DOTALL | re.IGNORECASE)
PREAMBLE = re.compile(
    r"^\s*(sure|certainly|of course|okay|ok|here('s| is| are)|below is|the (rewritten|corrected|proofread|translated|"
    r"revised|shortened|summarized)\b)[^\n]{0,120}:\s*\n",
    re.IGNORECASE,
)
FENCE = re.compile(r"^\s*```[\w-]*\n(.*?)\n```\s*$", re.DOTALL)
QUOTES = (('"', '"'), ("“", "”"), ("'", "'"), ("«", "»"))
ENCLOSED = re.compile(r"<text>[ \t]*\n?(.*?)\n?[ \t]*</text>", re.DOTALL)
STRAY_TAG = re.compile(r"^\s*<text>[ \t]*\n?|\n?[ \t]*</text>\s*$")


def clean_answer(answer: str, original: str) -> str:
    """The answer without wrappers the original did not have."""
    text = THINK.sub("", answer)
    # Small models often echo the delimiters around their answer, then comment on it.
    enclosed = ENCLOSED.search(text)
    if enclosed:
        text = enclosed.group(1)
    elif "<text>" in text:  # the closing tag was the stop string: the answer is what follows the opening one
        text = text.split("<text>", 1)[1]
    text = STRAY_TAG.sub("", text)
    text = PREAMBLE.sub("", text, count=1)
    stripped = text.strip()
    if "```" not in original:
        fenced = FENCE.match(stripped)
        if fenced:
            stripped = fenced.group(1).strip()
    original_core = original.strip()
    for opening, closing in QUOTES:
        inner = stripped[len(opening) : -len(closing)]
        # Only a wrapper: quotes inside mean the answer quotes someone, and the original decides too.
        wrapped = len(stripped) >= 2 and stripped.startswith(opening) and stripped.endswith(closing)
        if wrapped and opening not in inner and closing not in inner and not original_core.startswith(opening):
            stripped = inner.strip()
            break
    return stripped


def keep_edges(result: str, original: str) -> str:
    """Put back the selection's leading and trailing whitespace (a selected line usually ends in a newline)."""
    lead = original[: len(original) - len(original.lstrip())]
    trail = original[len(original.rstrip()) :]
    return f"{lead}{result}{trail}" if result else result
