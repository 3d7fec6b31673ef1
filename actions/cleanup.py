"""Strip what small models wrap around an answer, and keep the selection's own edges.

Small models add "Here is the rewritten text:" preambles, echo the <text> delimiters, put the answer
in quotes or code fences, and reasoning models emit <think> blocks. None of that belongs in a
person's document, nor in a popup while the answer streams.

`clean_answer` says what is removed, on a whole answer. `AnswerStream` removes the same while the
answer streams, holding back only what the decision still needs, so that what streams is what gets
delivered: its pieces joined are `clean_answer` of the whole. Every rule is therefore decided at the
answer's start or by what comes after a mark, never by text far ahead:

- a <think> block is dropped wherever it starts (to its </think>, or to the end);
- the opening: whitespace, one preamble line ("Here's a corrected version of the text:", or any line
  an echoed <text> follows), an echoed <text>, and (when the original has no fence) a
  code fence's first line; so an answer's first line waits until the next begins, or for 160 characters;
- the answer ends at a </text>, or at the closing fence of an opening one; a stray <text> is dropped;
- quotes around the whole answer go, unless quotes inside say it quotes someone, or the original
  opened with one too (a quoted answer is shown once its closing quote is seen).
"""

from __future__ import annotations

import re

from phitray.actions.model import TEXT_CLOSE, TEXT_OPEN

_DONE = ("rewritten", "corrected", "proofread", "translated", "revised", "shortened", "summarized", "edited",
         "polished", "improved", "fixed")
# How a preamble line starts when it stands alone ("Sure! Here is the rewritten text:").
OPENERS = ("sure", "certainly", "of course", "okay", "ok", "alright", "here's", "here’s", "here is", "here are",
           "below is", *(f"the {done}" for done in _DONE), *(f"{who} {done}" for who in ("i've", "i’ve", "i have")
                                                            for done in (*_DONE, "rewrote")))
_OPENER = "|".join(re.escape(opener) for opener in sorted(OPENERS, key=len, reverse=True))
# One line: one that starts like a preamble and ends in a colon, or any line that an echoed <text> follows.
PREAMBLE = re.compile(rf"(?:{_OPENER})\b[^\n]{{0,120}}:[ \t]{{0,8}}(?:\n|(?-i:(?={TEXT_OPEN})))"
                      rf"|[^\n]{{0,100}}(?:\n\s*)?(?-i:(?={TEXT_OPEN}))", re.IGNORECASE)
PREAMBLE_REACH = 160  # a line this long without a break is past any preamble
OPENING = re.compile(rf"\s*(?:(?:{PREAMBLE.pattern})\s*)?(?-i:{TEXT_OPEN}\s*)?", re.IGNORECASE)
FENCE_MARK = "```"
FENCE_OPEN = re.compile(r"```[\w-]*\n\s*")
FENCE_CLOSE = "\n```"
THINK = re.compile(r"<think>.*?(?:</think>|\Z)", re.DOTALL | re.IGNORECASE)
QUOTES = (('"', '"'), ("“", "”"), ("'", "'"), ("«", "»"))


def clean_answer(answer: str, original: str) -> str:
    """The answer without wrappers the original did not have."""
    text = THINK.sub("", answer)
    start = OPENING.match(text).end()  # type: ignore[union-attr]  # every part is optional: it always matches
    fence = FENCE_OPEN.match(text, start) if FENCE_MARK not in original else None
    body = text[fence.end() if fence else start :]
    ends = [index for index in (body.find(TEXT_CLOSE), body.find(FENCE_CLOSE) if fence else -1) if index >= 0]
    body = body[: min(ends, default=len(body))].replace(TEXT_OPEN, "").strip()
    for opening, closing in QUOTES:
        inner = body[1:-1]
        # Only a wrapper: quotes inside mean the answer quotes someone, and the original decides too.
        if len(body) >= 2 and body[0] == opening and body[-1] == closing and opening not in inner \
                and closing not in inner and not original.strip().startswith(opening):
            return inner.strip()
    return body


def keep_edges(result: str, original: str) -> str:
    """Put back the selection's leading and trailing whitespace (a selected line usually ends in a newline)."""
    lead = original[: len(original) - len(original.lstrip())]
    trail = original[len(original.rstrip()) :]
    return f"{lead}{result}{trail}" if result else result


_FENCE_START = re.compile(r"`{1,3}|```[\w-]*")
_THINK_OPEN, _THINK_CLOSE = re.compile("<think>", re.IGNORECASE), re.compile("</think>", re.IGNORECASE)
# (length, pattern) of each proper start of the tags, longest first
_THINK_PARTS = {tag: [(n, re.compile(re.escape(tag[:n]), re.IGNORECASE)) for n in range(len(tag) - 1, 0, -1)]
                for tag in ("<think>", "</think>")}


def _partial(text: str, marks: tuple[str, ...]) -> int:
    """The length of the longest end of `text` that is the start of one of `marks` (case matters)."""
    return max((n for mark in marks for n in range(len(mark) - 1, 0, -1) if text.endswith(mark[:n])), default=0)


def _partial_tag(text: str, tag: str) -> int:
    """The length of the longest end of `text` that is the start of `tag`, in any case."""
    return next((n for n, part in _THINK_PARTS[tag] if part.fullmatch(text[-n:])), 0)


def _preamble_decided(rest: str) -> bool:
    """Whether PREAMBLE's match on `rest` is final: its first line is too long for one, or has ended and
    the next line's start shows whether an echoed <text> follows."""
    line_end = rest.find("\n")
    if line_end < 0:
        return len(rest) >= PREAMBLE_REACH
    after = rest[_skip_space(rest, line_end) :]
    return bool(after) and (after.startswith(TEXT_OPEN) or not TEXT_OPEN.startswith(after))


def _skip_space(text: str, index: int) -> int:
    while index < len(text) and text[index].isspace():
        index += 1
    return index


class AnswerStream:
    """`clean_answer` as the answer streams: `feed` each piece, then `finish`; what they return, joined,
    is `clean_answer` of the pieces joined. Used on one thread."""

    def __init__(self, original: str) -> None:
        self._fences = FENCE_MARK not in original
        self._core = original.strip()
        self._thinking, self._unthought = False, ""  # inside a <think> block; a tag's possible start, held
        self._head: str | None = ""  # the answer's start until the opening is decided; then None
        self._fenced = False
        self._raw, self._ended = "", False  # a mark's possible start, held; past the answer's end
        self._space, self._started = "", False  # whitespace held (it may end the answer); text sent
        self._quote: tuple[str, str] | None = None  # the opening quote, while the whole answer is held
        self._held, self._quoted = "", False  # the answer so far, while held; quote decided (passed through)

    def feed(self, piece: str) -> str:
        """The clean text that `piece` completes (may be empty)."""
        return self._step(piece, final=False)

    def finish(self) -> str:
        """The rest, once the answer has ended."""
        return self._step("", final=True)

    def _step(self, piece: str, final: bool) -> str:
        text = self._unthink(piece, final)
        if self._head is not None:
            self._head += text
            start = self._opening(final)
            if start is None:
                return ""
            text, self._head = self._head[start:], None
        return self._unquote(self._trim(self._cut(text, final), final), final)

    def _unthink(self, piece: str, final: bool) -> str:
        """Drop <think> blocks: what is outside them, less a tag's possible start."""
        buffer, out = self._unthought + piece, []
        while True:
            if self._thinking:
                if found := _THINK_CLOSE.search(buffer):
                    buffer, self._thinking = buffer[found.end() :], False
                    continue
                keep = 0 if final else _partial_tag(buffer, "</think>")
                buffer = buffer[len(buffer) - keep :]
                break
            if found := _THINK_OPEN.search(buffer):
                out.append(buffer[: found.start()])
                buffer, self._thinking = buffer[found.end() :], True
                continue
            keep = 0 if final else _partial_tag(buffer, "<think>")
            out.append(buffer[: len(buffer) - keep])
            buffer = buffer[len(buffer) - keep :]
            break
        self._unthought = buffer
        return "".join(out)

    def _opening(self, final: bool) -> int | None:
        """Where the answer proper starts in the held head, or None while that is not yet decided."""
        head = self._head or ""
        index = _skip_space(head, 0)
        if not final and not _preamble_decided(head[index:]):
            return None
        if preamble := PREAMBLE.match(head, index):
            index = _skip_space(head, preamble.end())
        rest = head[index:]
        if not final and (not rest or TEXT_OPEN.startswith(rest) and rest != TEXT_OPEN):
            return None
        if head.startswith(TEXT_OPEN, index):
            index = _skip_space(head, index + len(TEXT_OPEN))
        if self._fences:
            rest = head[index:]
            if not final and (not rest or _FENCE_START.fullmatch(rest)):
                return None
            if fence := FENCE_OPEN.match(head, index):
                if not final and fence.end() == len(head):
                    return None  # more whitespace may follow, and a fence closes on a line break
                index, self._fenced = fence.end(), True
        return index

    def _cut(self, piece: str, final: bool) -> str:
        """The answer up to its end mark, stray <text> tags dropped, less a mark's possible start."""
        if self._ended:
            return ""
        marks = (TEXT_OPEN, TEXT_CLOSE, FENCE_CLOSE) if self._fenced else (TEXT_OPEN, TEXT_CLOSE)
        buffer, out = self._raw + piece, []
        while hits := [(at, mark) for mark in marks if (at := buffer.find(mark)) >= 0]:
            index, mark = min(hits)
            out.append(buffer[:index])
            if mark != TEXT_OPEN:
                self._ended, buffer = True, ""
                break
            buffer = buffer[index + len(mark) :]
        keep = 0 if final or self._ended else _partial(buffer, marks)
        out.append(buffer[: len(buffer) - keep])
        self._raw = buffer[len(buffer) - keep :]
        return "".join(out)

    def _trim(self, text: str, final: bool) -> str:
        """No whitespace at the answer's start, and the end's held until more text follows it."""
        if not self._started:
            text = text.lstrip()
        if not text:
            return ""
        self._started = True
        body = text.rstrip()
        if not body:
            self._space += text
            return ""
        out, self._space = self._space + body, "" if final else text[len(body) :]
        return out

    def _unquote(self, text: str, final: bool) -> str:
        """Quotes around the whole answer dropped; the answer is held from an opening quote until decided."""
        if self._quoted:
            return text
        if not self._held and text:
            pair = next((pair for pair in QUOTES if text[0] == pair[0] and not self._core.startswith(pair[0])), None)
            if pair is None:
                self._quoted = True
                return text
            self._quote = pair
        self._held += text
        if self._quote is not None:
            opening, closing = self._quote
            inner = self._held[1:-1]  # the last character is never whitespace: a quote there may still close
            if opening in inner or closing in inner:
                self._quoted, held, self._held = True, self._held, ""
                return held
            if final:
                held, self._held = self._held, ""
                wrapped = len(held) >= 2 and held[-1] == closing
                return held[1:-1].strip() if wrapped else held
        return ""
