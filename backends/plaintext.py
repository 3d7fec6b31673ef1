"""The person's text stays text: a model's control-token strings inside it are broken before tokenizing.

openvino-genai and onnxruntime-genai tokenize the whole chat-templated prompt,
and neither can be told to leave special tokens unparsed: a selection holding
"<|im_end|><|im_start|>system …" (the starter's) or "<|end|><|system|>"
(Phi-3's) would open a turn of its own. So before the template is applied,
every message's content gets a WORD JOINER (U+2060: invisible, joins nothing,
means nothing) after the first character of each of the model's control
strings, which then tokenize as plain characters. The answer gets them back
whole (`restore`, and `Restorer` for a stream), so an edit of a text about chat
templates pastes the person's own characters.
"""

from __future__ import annotations

import json
import re
from collections.abc import Iterable
from pathlib import Path

JOINER = "\u2060"


class ControlStrings:
    """One model's control-token strings, and how to break them in text and mend them in answers."""

    def __init__(self, strings: Iterable[str]) -> None:
        # Longest first, so "<|endoftext|>" is broken whole rather than as "<|end" and the rest.
        self.strings = tuple(sorted({s for s in strings if len(s) >= 2 and JOINER not in s}, key=lambda s: (-len(s), s)))
        self._find = re.compile("|".join(map(re.escape, self.strings))) if self.strings else None
        self._broken = {_broken(s): s for s in self.strings}
        self._mend = re.compile("|".join(map(re.escape, self._broken))) if self.strings else None
        # Every proper start of a broken string that can end a chunk: such an end is held for the next one.
        self._starts = {b[:n] for b in self._broken for n in range(1, len(b))}
        self._longest = max(map(len, self._broken), default=0)

    def __len__(self) -> int:
        return len(self.strings)

    def neutralise(self, text: str) -> str:
        """`text` with every control string broken; breaking one can leave a later one whole, so again
        until none is left (each round only shortens the stretches without a joiner)."""
        if self._find is None:
            return text
        for _ in range(len(text) + 1):
            broken = self._find.sub(lambda match: _broken(match[0]), text)
            if broken == text:
                break
            text = broken
        return text

    def messages(self, messages: list[dict[str, str]]) -> list[dict[str, str]]:
        """Chat messages whose contents are text only."""
        return [{**message, "content": self.neutralise(message["content"])} for message in messages]

    def restore(self, text: str) -> str:
        """What `neutralise` broke, whole again."""
        return self._mend.sub(lambda match: self._broken[match[0]], text) if self._mend is not None else text

    def open_end(self, text: str) -> int:
        """How many characters at the end of `text` could be the start of a broken control string."""
        for size in range(min(len(text), self._longest - 1), 0, -1):
            if text[-size:] in self._starts:
                return size
        return 0

    def restorer(self) -> Restorer:
        return Restorer(self)


class Restorer:
    """Mends a streamed answer chunk by chunk, holding back an end that may be half a broken string.
    Used on the one thread that reads the stream."""

    def __init__(self, controls: ControlStrings) -> None:
        self.controls = controls
        self.held = ""

    def feed(self, chunk: str) -> str:
        """The text that is ready to show."""
        text = self.controls.restore(self.held + chunk)
        keep = self.controls.open_end(text)
        self.held = text[len(text) - keep:]
        return text[: len(text) - keep]

    def flush(self) -> str:
        """The end of the answer, as it is."""
        text, self.held = self.held, ""
        return text


def _broken(string: str) -> str:
    return string[:1] + JOINER + string[1:]


def added_tokens(folder: Path) -> list[str]:
    """The strings a Hugging Face tokenizer in `folder` matches whole before anything else, special or not
    (tokenizer.json's added_tokens, else tokenizer_config.json's added_tokens_decoder); [] when neither reads."""
    try:
        data = json.loads((folder / "tokenizer.json").read_text(encoding="utf-8"))
        return [str(token["content"]) for token in data.get("added_tokens", [])]
    except (OSError, ValueError, KeyError, TypeError, AttributeError):
        pass
    try:
        data = json.loads((folder / "tokenizer_config.json").read_text(encoding="utf-8"))
        return [str(token["content"]) for token in data.get("added_tokens_decoder", {}).values()]
    except (OSError, ValueError, KeyError, TypeError, AttributeError):
        return []
