"""Hotkey combos and what each one is bound to: pure logic, the same on every platform.

A combo is written `ctrl+alt+space`: modifiers then one key, any order, any case,
with the usual aliases (`control`, `win`, `cmd`, `return`, `escape`). Parsing
gives one canonical spelling, so `Alt+Ctrl+P` and `ctrl+alt+p` are the same
combo and collide. The platform engines (`desktop.x11`, `desktop.windows`)
only translate canonical names into their library's key names.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Literal

from phitray.errors import ConfigError, HotkeyError

MODIFIERS = ("ctrl", "alt", "shift", "super")
_MODIFIER_ALIASES = {
    "ctrl": "ctrl", "control": "ctrl", "ctl": "ctrl",
    "alt": "alt", "option": "alt", "opt": "alt", "altgr": "alt",
    "shift": "shift",
    "super": "super", "win": "super", "windows": "super", "cmd": "super", "command": "super", "meta": "super",
}
NAMED_KEYS = (
    "space", "enter", "tab", "esc", "backspace", "delete", "insert", "home", "end", "page_up", "page_down",
    "up", "down", "left", "right", "pause", *(f"f{n}" for n in range(1, 25)),
)
_KEY_ALIASES = {
    "return": "enter", "escape": "esc", "del": "delete", "ins": "insert", "pgup": "page_up",
    "pageup": "page_up", "pgdn": "page_down", "pagedown": "page_down", "spacebar": "space",
}
# Printable keys a combo may end in: a US layout's unshifted characters.
PRINTABLE_KEYS = frozenset("abcdefghijklmnopqrstuvwxyz0123456789`-=[]\\;',./")
# Combos every application uses for itself: binding them would break copy/paste/undo.
RESERVED = frozenset({"ctrl+c", "ctrl+v", "ctrl+x", "ctrl+z", "ctrl+a", "ctrl+y", "ctrl+s", "ctrl+insert", "shift+insert"})


@dataclass(frozen=True, order=True)
class Combo:
    modifiers: tuple[str, ...]  # in MODIFIERS order
    key: str

    def __str__(self) -> str:
        return "+".join((*self.modifiers, self.key))


def parse_combo(spelling: str) -> Combo:
    parts = [part.strip().lower() for part in spelling.replace(" ", "").split("+")]
    if spelling.strip().endswith("++"):  # `ctrl++`: the plus key itself
        parts = [*parts[:-2], "="]
    if not spelling.strip() or any(not part for part in parts):
        raise HotkeyError(f"{spelling!r} is not a hotkey (write it like ctrl+alt+space).")
    *modifier_words, key_word = parts
    modifiers = set()
    for word in modifier_words:
        if word not in _MODIFIER_ALIASES:
            raise HotkeyError(f"{spelling!r}: {word!r} is not a modifier (use {', '.join(MODIFIERS)}).")
        modifiers.add(_MODIFIER_ALIASES[word])
    if key_word in _MODIFIER_ALIASES:
        raise HotkeyError(f"{spelling!r} has only modifiers; end it with a key, like ctrl+alt+space.")
    key = _KEY_ALIASES.get(key_word, key_word)
    if key not in NAMED_KEYS and key not in PRINTABLE_KEYS:
        raise HotkeyError(f"{spelling!r}: {key_word!r} is not a key this agent can bind.")
    if not modifiers and not (key.startswith("f") and len(key) > 1):
        raise HotkeyError(f"{spelling!r} has no modifier: it would fire while you type. Add ctrl, alt or super.")
    if modifiers == {"shift"} and not (key.startswith("f") and len(key) > 1):
        raise HotkeyError(f"{spelling!r} would fire while you type capitals. Add ctrl, alt or super.")
    combo = Combo(tuple(m for m in MODIFIERS if m in modifiers), key)
    if str(combo) in RESERVED:
        raise HotkeyError(f"{combo} belongs to every application (copy, paste, undo…); pick another.")
    return combo


BindingKind = Literal["picker", "cancel", "action"]


@dataclass(frozen=True)
class Binding:
    """What a combo does: open the picker, cancel the running job, or run one action."""

    kind: BindingKind
    action_id: str = ""
    source: str = ""  # where the combo was set, for conflict messages

    def describe(self) -> str:
        return f"action {self.action_id}" if self.kind == "action" else f"the {self.kind} hotkey"


def bind_all(
    fixed: dict[BindingKind, tuple[str, str]], action_hotkeys: dict[str, tuple[str, str]]
) -> tuple[dict[Combo, Binding], list[ConfigError]]:
    """Every combo and its binding; a bad or taken combo is a problem, never a crash.

    `fixed` is {"picker": (combo, source), "cancel": (combo, source)}; `action_hotkeys`
    is {action_id: (combo, source)}. Earlier entries win a collision, so the picker
    and cancel keys can never be taken by an action file.
    """
    bindings: dict[Combo, Binding] = {}
    problems: list[ConfigError] = []
    wanted = [(Binding(kind, source=source), spelling) for kind, (spelling, source) in fixed.items()]
    wanted += [(Binding("action", action_id, source), spelling) for action_id, (spelling, source) in sorted(action_hotkeys.items())]
    for binding, spelling in wanted:
        if not spelling:
            continue
        try:
            combo = parse_combo(spelling)
        except HotkeyError as error:
            problems.append(ConfigError(f"{binding.source}: hotkey for {binding.describe()}: {error}"))
            continue
        if combo in bindings:
            first = bindings[combo]
            problems.append(ConfigError(
                f"{binding.source}: {combo} is already {first.describe()} ({first.source}); "
                f"{binding.describe()} gets no hotkey."
            ))
            continue
        bindings[combo] = binding
    return bindings, problems
