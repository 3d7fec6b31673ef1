"""Word-level changes between the selection and an edited answer, for the popup's review."""

from __future__ import annotations

import difflib
import re
from typing import Literal

Piece = tuple[Literal["same", "deleted", "inserted"], str]
TOKEN = re.compile(r"\s+|\w+(?:['’]\w+)*|[^\w\s]", re.UNICODE)


def word_changes(before: str, after: str) -> list[Piece]:
    """The answer as runs of kept, deleted and inserted text; whitespace follows the words it sits beside."""
    old, new = TOKEN.findall(before), TOKEN.findall(after)
    pieces: list[Piece] = []
    for tag, i1, i2, j1, j2 in difflib.SequenceMatcher(None, old, new, autojunk=False).get_opcodes():
        if tag == "equal":
            pieces.append(("same", "".join(old[i1:i2])))
            continue
        if tag in ("delete", "replace"):
            pieces.append(("deleted", "".join(old[i1:i2])))
        if tag in ("insert", "replace"):
            pieces.append(("inserted", "".join(new[j1:j2])))
    return [piece for piece in pieces if piece[1]]


def count_changes(pieces: list[Piece]) -> int:
    return sum(1 for kind, text in pieces if kind != "same" and text.strip())
