"""Load the built-in actions and a person's own; a bad file never stops the others.

Built-ins are the package's `*.toml` files. A person's live in the user config
dir's `actions/` folder; one with the id of a built-in replaces it.
"""

from __future__ import annotations

import tomllib
from dataclasses import dataclass
from importlib import resources
from pathlib import Path

from phitray.actions.model import Action, parse_action
from phitray.errors import ActionFileError, ConfigError


@dataclass(frozen=True)
class ActionSet:
    actions: dict[str, Action]
    problems: tuple[ConfigError, ...]

    def ordered(self) -> list[Action]:
        return sorted(self.actions.values(), key=lambda action: (action.order, action.title.lower()))

    def get(self, action_id: str) -> Action:
        try:
            return self.actions[action_id]
        except KeyError:
            raise ConfigError(
                f"There is no action {action_id!r}; known actions: {', '.join(a.id for a in self.ordered())}."
            ) from None


def builtin_files() -> list[tuple[str, str]]:
    """(name, TOML text) of every shipped action."""
    folder = resources.files("phitray.actions")
    return sorted((entry.name, entry.read_text(encoding="utf-8")) for entry in folder.iterdir() if entry.name.endswith(".toml"))


def read_action(text: str, source: str) -> Action:
    try:
        raw = tomllib.loads(text)
    except tomllib.TOMLDecodeError as error:
        raise ActionFileError(source, "file", f"not valid TOML ({error})") from None
    return parse_action(raw, source)


def load_actions(user_dir: Path | None) -> ActionSet:
    actions: dict[str, Action] = {}
    problems: list[ConfigError] = []
    for name, text in builtin_files():
        try:
            action = read_action(text, f"built-in {name}")
        except ConfigError as error:
            problems.append(error)
            continue
        actions[action.id] = action
    user_ids: dict[str, str] = {}
    for path in sorted(user_dir.glob("*.toml")) if user_dir and user_dir.is_dir() else []:
        try:
            action = read_action(path.read_text(encoding="utf-8-sig"), str(path))  # past a byte-order mark
        except UnicodeDecodeError:
            problems.append(ActionFileError(str(path), "file", "is not UTF-8 text"))
            continue
        except OSError as error:
            problems.append(ActionFileError(str(path), "file", f"cannot be read ({error.strerror})"))
            continue
        except ConfigError as error:
            problems.append(error)
            continue
        if action.id in user_ids:
            problems.append(ActionFileError(str(path), "id", f"{action.id!r} is also the id of {user_ids[action.id]}; this file is ignored"))
            continue
        user_ids[action.id] = str(path)
        actions[action.id] = action
    return ActionSet(_drop_hotkey_conflicts(actions, problems), tuple(problems))


def _drop_hotkey_conflicts(actions: dict[str, Action], problems: list[ConfigError]) -> dict[str, Action]:
    """Two actions on one combo: the first (by menu order) keeps it, the message names both."""
    owners: dict[str, Action] = {}
    result = {}
    for action in sorted(actions.values(), key=lambda a: (a.order, a.id)):
        if action.hotkey and action.hotkey in owners:
            first = owners[action.hotkey]
            problems.append(ActionFileError(
                action.source, "hotkey",
                f"{action.hotkey} is already the hotkey of {first.id} ({first.source}); {action.id} gets none",
            ))
            action = Action(**{**action.__dict__, "hotkey": None})
        elif action.hotkey:
            owners[action.hotkey] = action
        result[action.id] = action
    return result
