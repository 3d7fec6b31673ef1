"""Actions: the raw TOML schema, its validation, and the validated `Action`.

An action file is data, never code. `parse_action` turns one file's raw table
into an `Action` or an `ActionFileError` that names the file, the field and
what is wrong. Templates use `string.Template` (`$text`, `$language`, …):
substitution only, and every placeholder must be `text` or declared under
`[placeholders]` with a default, so a typo fails when the file loads, not when
a person presses the hotkey.
"""

from __future__ import annotations

import re
import string
from dataclasses import dataclass, field
from typing import Any, Literal, cast, get_args

from phitray.actions.checks import Checks, check_placeholders, parse_checks
from phitray.errors import ActionFileError, ConfigError, HotkeyError
from phitray.hotkeys import parse_combo

Output = Literal["replace", "popup", "clipboard"]
OUTPUTS: tuple[Output, ...] = get_args(Output)
# "keep": a selection with formatting (HTML) is worked on as Markdown and pasted as HTML and text (markup.py).
Format = Literal["keep", "plain"]
FORMATS: tuple[Format, ...] = get_args(Format)
LONG_TEXT_MODES = ("map-reduce", "chunks")
# How the answer is decoded. "prompt-lookup" drafts the next tokens from n-grams of the prompt and has
# the model check them in one pass: several times faster where the answer copies the text (edits).
DECODINGS = ("plain", "prompt-lookup")
ID_PATTERN = re.compile(r"^[a-z0-9][a-z0-9_-]{0,39}$")
# The selected text sits between these tags in every prompt: data, not instructions.
TEXT_OPEN, TEXT_CLOSE = "<text>", "</text>"

# field -> (python type, required)
RAW_FIELDS: dict[str, tuple[type | tuple[type, ...], bool]] = {
    "id": (str, True),
    "title": (str, True),
    "prompt": (str, True),
    "system": (str, False),
    "output": (str, False),
    "hotkey": (str, False),
    "order": (int, False),
    "max_new_tokens": (int, False),
    "temperature": ((int, float), False),
    "long_text": (str, False),
    "decoding": (str, False),
    "reduce_prompt": (str, False),
    "placeholders": (dict, False),
    "checks": (dict, False),
    "format": (str, False),
}


@dataclass(frozen=True)
class Action:
    id: str
    title: str
    prompt: str
    system: str = ""
    output: Output = "popup"
    hotkey: str | None = None
    order: int = 100
    max_new_tokens: int = 512
    temperature: float = 0.0
    long_text: str = "chunks"
    decoding: str = "plain"
    reduce_prompt: str | None = None
    placeholders: dict[str, str] = field(default_factory=dict)
    checks: Checks = Checks()  # what its answer must pass before it may replace text
    format: Format = "plain"  # whether a selection's bold, links, lists… go through it (edits keep them)
    source: str = ""  # the file it came from

    def values(self, overrides: dict[str, str] | None = None) -> dict[str, str]:
        """Placeholder values: declared defaults, then the caller's; unknown names are an error."""
        overrides = overrides or {}
        unknown = sorted(set(overrides) - set(self.placeholders))
        if unknown:
            known = ", ".join(sorted(self.placeholders)) or "none"
            raise ConfigError(f"{self.id} has no placeholder {', '.join(unknown)} (it takes: {known}).")
        return {**self.placeholders, **overrides}

    def render(self, text: str, overrides: dict[str, str] | None = None, reduce: bool = False) -> tuple[str, str]:
        """(system, user prompt) with the text delimited as data."""
        values = {**self.values(overrides), "text": delimit(text)}
        template = self.reduce_prompt if reduce and self.reduce_prompt else self.prompt
        return (string.Template(self.system).substitute(values), string.Template(template).substitute(values))


def delimit(text: str) -> str:
    """The text between the tags; a closing tag inside it is broken so the text cannot end the data early."""
    inner = text.replace(TEXT_CLOSE, "</ text>").replace(TEXT_OPEN, "< text>")
    return f"{TEXT_OPEN}\n{inner}\n{TEXT_CLOSE}"


def placeholders_in(template: str) -> set[str]:
    names = set()
    for match in string.Template.pattern.finditer(template):
        if match.group("invalid") is not None:
            raise ValueError(f"a lone '$' at position {match.start()} (write $$ for a dollar sign)")
        name = match.group("named") or match.group("braced")
        if name:
            names.add(name)
    return names


def parse_action(raw: dict[str, Any], source: str) -> Action:
    """Validate one file's raw table; raises ActionFileError on the first problem."""
    for name in raw:
        if name not in RAW_FIELDS:
            raise ActionFileError(source, name, f"unknown field (known: {', '.join(RAW_FIELDS)})")
    for name, (kind, required) in RAW_FIELDS.items():
        if name not in raw:
            if required:
                raise ActionFileError(source, name, "missing")
            continue
        value = raw[name]
        if isinstance(value, bool) or not isinstance(value, kind):
            expected = kind.__name__ if isinstance(kind, type) else "number"
            expected = "table" if expected == "dict" else expected
            raise ActionFileError(source, name, f"must be a {expected}, not {type(value).__name__}")
    if not ID_PATTERN.match(raw["id"]):
        raise ActionFileError(source, "id", f"{raw['id']!r} must be lowercase letters, digits, '-' or '_' (at most 40)")
    if not raw["title"].strip():
        raise ActionFileError(source, "title", "is empty")
    output = raw.get("output", "popup")
    if output not in OUTPUTS:
        raise ActionFileError(source, "output", f"{output!r} is not one of {', '.join(OUTPUTS)}")
    output = cast(Output, output)
    long_text = raw.get("long_text", "chunks")
    if long_text not in LONG_TEXT_MODES:
        raise ActionFileError(source, "long_text", f"{long_text!r} is not one of {', '.join(LONG_TEXT_MODES)}")
    decoding = raw.get("decoding", "plain")
    if decoding not in DECODINGS:
        raise ActionFileError(source, "decoding", f"{decoding!r} is not one of {', '.join(DECODINGS)}")
    max_new_tokens = raw.get("max_new_tokens", 512)
    if not 1 <= max_new_tokens <= 4096:
        raise ActionFileError(source, "max_new_tokens", f"{max_new_tokens} is not between 1 and 4096")
    temperature = float(raw.get("temperature", 0.0))
    if not 0.0 <= temperature <= 2.0:
        raise ActionFileError(source, "temperature", f"{temperature} is not between 0 and 2")
    declared = raw.get("placeholders", {})
    for name, default in declared.items():
        if name == "text":
            raise ActionFileError(source, "placeholders", "'text' is always the selected text; do not declare it")
        if not isinstance(default, str):
            raise ActionFileError(source, f"placeholders.{name}", f"default must be a string, not {type(default).__name__}")
    for name in ("prompt", "system", "reduce_prompt"):
        if name not in raw:
            continue
        try:
            used = placeholders_in(raw[name])
        except ValueError as error:
            raise ActionFileError(source, name, str(error)) from None
        unknown = sorted(used - set(declared) - {"text"})
        if unknown:
            raise ActionFileError(
                source, name, f"unknown placeholder ${unknown[0]} (declare it under [placeholders] with a default)"
            )
        if name in ("prompt", "reduce_prompt") and "text" not in used:
            raise ActionFileError(source, name, "must contain $text, where the selected text goes")
    checks = parse_checks(raw.get("checks", {}), source)
    text_format = raw.get("format", "keep" if checks.is_edit else "plain")
    if text_format not in FORMATS:
        raise ActionFileError(source, "format", f"{text_format!r} is not one of {', '.join(FORMATS)}")
    check_placeholders(checks, dict(declared), source)
    hotkey = raw.get("hotkey", "").strip()
    if hotkey:
        try:
            hotkey = str(parse_combo(hotkey))
        except HotkeyError as error:
            raise ActionFileError(source, "hotkey", str(error)) from None
    return Action(
        id=raw["id"],
        title=raw["title"].strip(),
        prompt=raw["prompt"],
        system=raw.get("system", ""),
        output=output,
        hotkey=hotkey or None,
        order=raw.get("order", 100),
        max_new_tokens=max_new_tokens,
        temperature=temperature,
        long_text=long_text,
        decoding=decoding,
        reduce_prompt=raw.get("reduce_prompt"),
        placeholders=dict(declared),
        checks=checks,
        format=cast(Format, text_format),
        source=source,
    )
