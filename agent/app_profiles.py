"""Per-app profiles: the `[[apps]]` entries of settings.toml, the built-in ones, and which one a window gets.

    [[apps]]
    name = "Slack"                 # how notices and job records name it (default: its first pattern)
    program = "slack"              # the program's file name, a glob ("slack" also matches slack.exe)
    class = "slack"                # the window class (X11: either part of WM_CLASS), a glob
    title = "* - Outlook"          # the window title, a glob; every pattern given must match
    enabled = true                 # false: Phi Tray sends this app no key and says it is off there
    picker_default = "friendly"    # the picker's first action here
    [apps.actions.proofread]       # per action: tone, output (replace | popup | clipboard), format
    output = "popup"
    tone = "casual"
    [apps.actions.translate]       # any other key is a placeholder's value
    language = "German"

Patterns compare without regard to case, and a key may hold a list of them
(any one matches); an app known by either of two keys takes two entries. The
person's entries come first, in file order, then the built-in ones (each
known by its program or its window class): password managers and the agent's own windows are off, and a
person's entry for the same app wins. Parsing never raises: a bad entry is
one problem naming it, and the others are kept.
"""

from __future__ import annotations

import fnmatch
import re
from dataclasses import dataclass, field
from typing import Any, cast

from phitray.actions.model import ID_PATTERN, OUTPUTS, Output
from phitray.errors import ConfigError

MATCH_KEYS = ("program", "class", "title")
ENTRY_KEYS = ("name", *MATCH_KEYS, "enabled", "picker_default", "actions")
OVERRIDE_KEYS = ("tone", "output", "format")  # every other key of an action's table is a placeholder value
FORMATS = ("keep", "plain")
PLACEHOLDER = re.compile(r"^[A-Za-z_][A-Za-z0-9_]{0,39}$")
MAX_PATTERN, MAX_VALUE, MAX_TONE = 256, 200, 60


@dataclass(frozen=True)
class ActionOverride:
    """What one action does differently in an app; "" and empty leave the action's own way."""

    tone: str = ""  # "casual", "formal": said to the model beside the action's own instruction
    output: Output | None = None
    format: str = ""  # "keep" | "plain": whether formatting is kept, where actions support it
    values: tuple[tuple[str, str], ...] = ()  # placeholder values (translate's language)


@dataclass(frozen=True)
class AppProfile:
    """One app's profile: which windows it takes, and what the agent does in them."""

    name: str
    programs: tuple[str, ...] = ()  # globs, lower case
    classes: tuple[str, ...] = ()
    titles: tuple[str, ...] = ()
    enabled: bool = True
    picker_default: str = ""
    actions: dict[str, ActionOverride] = field(default_factory=dict)
    built_in: bool = False

    def matches(self, program: str, classes: tuple[str, ...], title: str) -> bool:
        """Whether a window of `program`, with window classes `classes` and `title`, is this app's."""
        program = program.lower()
        names = (program, program.removesuffix(".exe"))
        return _any(self.programs, names) and _any(self.classes, tuple(c.lower() for c in classes)) \
            and _any(self.titles, (title.lower(),))

    def override(self, action_id: str) -> ActionOverride:
        return self.actions.get(action_id, NO_OVERRIDE)


NO_OVERRIDE = ActionOverride()


def _any(patterns: tuple[str, ...], values: tuple[str, ...]) -> bool:
    """True when no pattern is given, or one matches one of the values."""
    return not patterns or any(fnmatch.fnmatchcase(value, pattern) for pattern in patterns for value in values if value)


def _off(name: str, programs: tuple[str, ...] = (), classes: tuple[str, ...] = ()) -> tuple[AppProfile, ...]:
    """An app that is off, known by its program or by its window class (either one: two profiles)."""
    by_program = (AppProfile(name, programs=programs, enabled=False, built_in=True),) if programs else ()
    by_class = (AppProfile(name, classes=classes, enabled=False, built_in=True),) if classes else ()
    return by_program + by_class


# Off unless the person says otherwise: a password manager's fields hold secrets, and a key sent into the
# agent's own windows would only confuse them. Program file names (Windows' without .exe) and X11 WM_CLASS.
BUILT_IN: tuple[AppProfile, ...] = sum((
    _off("KeePassXC", ("keepassxc",), ("keepassxc", "org.keepassxc.keepassxc")),
    _off("KeePass", ("keepass", "keepass2"), ("keepass2", "keepass")),
    _off("KeeWeb", ("keeweb",), ("keeweb",)),
    _off("1Password", ("1password",), ("1password",)),
    _off("Bitwarden", ("bitwarden",), ("bitwarden",)),
    _off("LastPass", ("lastpass",), ("lastpass",)),
    _off("Dashlane", ("dashlane", "dashlane*"), ("dashlane",)),
    _off("Enpass", ("enpass",), ("enpass",)),
    _off("NordPass", ("nordpass",), ("nordpass",)),
    _off("Proton Pass", ("proton pass", "protonpass"), ("proton pass", "protonpass")),
    _off("RoboForm", ("roboform", "robotaskbaricon"), ("roboform",)),
    _off("Keeper", ("keeperpasswordmanager", "keeper password manager"), ("keeper password manager",)),
    _off("Passwords and Keys", ("seahorse",), ("seahorse", "org.gnome.seahorse.application")),
    _off("KWallet", ("kwalletmanager5", "kwalletmanager"), ("kwalletmanager5", "kwalletmanager")),
), ())
# The agent's own windows, known by their process (WindowTraits.own): Tk gives only the root its class.
OWN_WINDOWS = AppProfile("Phi Tray", classes=("phitray",), enabled=False, built_in=True)


def profile_for(profiles: tuple[AppProfile, ...], program: str, classes: tuple[str, ...], title: str,
                own: bool = False) -> AppProfile | None:
    """The first profile, the person's then the built-in ones, that takes this window; None: no profile. The
    agent's `own` windows are always off."""
    if own:
        return OWN_WINDOWS
    for profile in (*profiles, *BUILT_IN, OWN_WINDOWS):
        if profile.matches(program, classes, title):
            return profile
    return None


def parse_apps(value: Any, source: str) -> tuple[tuple[AppProfile, ...], list[ConfigError]]:
    """The `[[apps]]` array: every good entry, and one problem for each bad one (which is skipped)."""
    if not isinstance(value, list):
        return (), [ConfigError(f"{source}: apps: must be [[apps]] tables; ignored")]
    profiles, problems = [], []
    for index, entry in enumerate(value, 1):
        label = _label(entry, index)
        try:
            profiles.append(parse_app(entry))
        except ValueError as error:
            problems.append(ConfigError(f"{source}: [[apps]] {label}: {str(error).rstrip('.')}; this entry is skipped"))
    return tuple(profiles), problems


def _label(entry: Any, index: int) -> str:
    """How a problem names an entry: its name or first pattern, and its place in the file."""
    if isinstance(entry, dict):
        for key in ("name", *MATCH_KEYS):
            shown = entry.get(key)
            shown = shown[0] if isinstance(shown, list) and shown else shown
            if isinstance(shown, str) and shown.strip():
                return f"number {index} ({shown.strip()[:60]!r})"
    return f"number {index}"


def parse_app(entry: Any) -> AppProfile:
    """One `[[apps]]` table as a profile; ValueError with the first problem."""
    if not isinstance(entry, dict):
        raise ValueError(f"must be a table, not {type(entry).__name__}")
    unknown = sorted(set(entry) - set(ENTRY_KEYS))
    if unknown:
        raise ValueError(f"unknown key {unknown[0]!r} (known: {', '.join(ENTRY_KEYS)})")
    patterns = {key: _patterns(key, entry.get(key, [])) for key in MATCH_KEYS}
    if not any(patterns.values()):
        raise ValueError("needs a program, class or title to match")
    name = entry.get("name", "")
    if not isinstance(name, str) or len(name) > MAX_VALUE or not name.isprintable():
        raise ValueError("name must be a short line of text")
    enabled = entry.get("enabled", True)
    if not isinstance(enabled, bool):
        raise ValueError(f"enabled must be true or false, not {enabled!r}")
    default = entry.get("picker_default", "")
    if not isinstance(default, str) or (default and not ID_PATTERN.match(default)):
        raise ValueError(f"picker_default {default!r} is not an action id")
    actions = entry.get("actions", {})
    if not isinstance(actions, dict):
        raise ValueError("actions must be tables, as [apps.actions.proofread]")
    overrides = {}
    for action_id, table in actions.items():
        if not ID_PATTERN.match(action_id):
            raise ValueError(f"actions: {action_id!r} is not an action id")
        overrides[action_id] = _override(action_id, table)
    shown = name.strip() or next(pattern for key in MATCH_KEYS for pattern in _raw_list(entry.get(key, [])))
    return AppProfile(shown, patterns["program"], patterns["class"], patterns["title"], enabled, default, overrides)


def _raw_list(value: Any) -> list[str]:
    return [value] if isinstance(value, str) else list(value)


def _patterns(key: str, value: Any) -> tuple[str, ...]:
    if isinstance(value, str):
        value = [value]
    if not isinstance(value, list):
        raise ValueError(f"{key} must be a pattern or a list of them")
    found = []
    for item in value:
        pattern = item.strip().lower() if isinstance(item, str) else ""
        if not pattern or len(pattern) > MAX_PATTERN or not pattern.isprintable():
            raise ValueError(f"{key}: {str(item)[:40]!r} is not a pattern")
        found.append(pattern)
    return tuple(dict.fromkeys(found))


def _override(action_id: str, table: Any) -> ActionOverride:
    if not isinstance(table, dict):
        raise ValueError(f"actions.{action_id} must be a table")
    values = []
    for key, value in table.items():
        if not isinstance(value, str):
            raise ValueError(f"actions.{action_id}.{key} must be a string, not {type(value).__name__}")
        if key not in OVERRIDE_KEYS and (not PLACEHOLDER.match(key) or key == "text"):
            raise ValueError(f"actions.{action_id}: {key!r} is neither tone, output, format nor a placeholder")
        if len(value) > MAX_VALUE or not value.isprintable():
            raise ValueError(f"actions.{action_id}.{key} must be one short line of text")
        if key not in OVERRIDE_KEYS:
            values.append((key, value))
    output = table.get("output")
    if output is not None and output not in OUTPUTS:
        raise ValueError(f"actions.{action_id}.output {output!r} is not one of {', '.join(OUTPUTS)}")
    form = table.get("format", "")
    if form and form not in FORMATS:
        raise ValueError(f"actions.{action_id}.format {form!r} is not one of {', '.join(FORMATS)}")
    tone = table.get("tone", "").strip()
    if len(tone) > MAX_TONE:
        raise ValueError(f"actions.{action_id}.tone is longer than {MAX_TONE} characters")
    return ActionOverride(tone, cast(Output | None, output), form, tuple(values))
