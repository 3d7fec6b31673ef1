"""Changes to `settings.toml` as the person wrote it: their comments, order and spacing stay.

`settings.py` reads the file and says what it means; this module only writes
it. Each change is one read-change-write of the file as it is on disk now (an
edit the person made in a text editor meanwhile is kept), checked first with
the same check `settings.py` applies when it loads the value. A file that is
not TOML (or not a table where a setting goes) is never written: the change
raises `SettingsFileError`, which says why, and the file keeps every byte.
The write is `files.write_file`'s, whole or not at all: a disk that refuses it
raises OSError and leaves the file as it was. A byte-order mark the file
starts with is read past and written back.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import tomlkit
from tomlkit.exceptions import TOMLKitError
from tomlkit.items import AoT, Table
from tomlkit.toml_document import TOMLDocument

from phitray.app_profiles import parse_app
from phitray.errors import ConfigError
from phitray.files import decode_text, write_text
from phitray.settings import RAW_SETTINGS, LoadedSettings, Settings, load_settings, parse_settings

# The per-action tables, whose keys are action ids.
PER_ACTION = ("hotkeys.actions", "output.actions")


class SettingsFileError(ConfigError):
    """The file cannot be changed without losing what is in it (it is not TOML, not UTF-8, unreadable)."""


def read_document(path: Path) -> TOMLDocument:
    """The file as a style-keeping document; an empty one when there is no file yet."""
    return _read(path)[0]


def _read(path: Path) -> tuple[TOMLDocument, bool]:
    """The document, and whether the file starts with a byte-order mark."""
    try:
        text, bom = decode_text(path.read_bytes())
    except FileNotFoundError:
        return tomlkit.document(), False
    except UnicodeDecodeError:
        raise SettingsFileError(f"{path} is not UTF-8 text, so the settings window changes nothing in it.") from None
    except OSError as error:
        raise SettingsFileError(f"{path} cannot be read ({error.strerror}); the settings window changes nothing.") from None
    try:
        return tomlkit.parse(text), bom
    except TOMLKitError as error:
        raise SettingsFileError(
            f"{path} is not valid TOML ({error}), so the settings window changes nothing in it. "
            "Fix or remove the file, then open Settings again.") from None


def check_file(path: Path) -> str:
    """Why the window may not write `path`, or "" when it may."""
    try:
        read_document(path)
    except SettingsFileError as error:
        return str(error)
    return ""


def validated(name: str, value: Any, action_id: str = "") -> Any:
    """`value` as settings.py's check for `name` accepts it; ConfigError naming the problem otherwise.
    For the per-action tables, `action_id` names the entry."""
    if name not in RAW_SETTINGS:
        raise ConfigError(f"{name} is not a setting.")
    _, check = RAW_SETTINGS[name]
    value = _as_toml(value)
    try:
        if name in PER_ACTION:
            return check({action_id: value})[action_id]
        return check(value)
    except ValueError as error:
        where = f"{name}.{action_id}" if name in PER_ACTION and not str(error).startswith(f"{action_id}:") else name
        raise ConfigError(f"{where}: {str(error).rstrip('.')}.") from None


def change_setting(path: Path, name: str, value: Any, action_id: str = "") -> LoadedSettings:
    """Write one setting ("section.key", or a per-action table and `action_id`); None removes it, so its
    default applies. Returns the file's settings after the change. Raises ConfigError for a value the
    agent would refuse, SettingsFileError for a file it must not touch, and OSError when the disk refuses
    the write; each way the file is as it was."""
    if value is not None:
        value = _as_toml(validated(name, value, action_id))
    document, bom = _read(path)
    section, key = name.split(".", 1)
    keys = [section, *key.split("."), *([action_id] if name in PER_ACTION else [])]
    table = _table_for(document, keys[:-1], create=value is not None, path=path)
    if table is not None:
        if value is None:
            if keys[-1] in table:
                del table[keys[-1]]
        else:
            table[keys[-1]] = value
    write_text(path, tomlkit.dumps(document), bom)
    return parse_settings(document.unwrap(), str(path))


def change_app(path: Path, match: dict[str, str], changes: dict[str, Any]) -> LoadedSettings:
    """Set `changes` ("enabled", "picker_default" …) in the person's [[apps]] entry whose patterns are exactly
    `match` ({"program": …, "class": …}), or in a new entry for it (named by its "name" change) at the end.
    Checked as settings.py reads an entry; raises as change_setting does, the file kept as it was."""
    document, bom = _read(path)
    entries = document.get("apps")
    if entries is None:
        entries = document["apps"] = tomlkit.aot()
    if not isinstance(entries, AoT):
        raise SettingsFileError(f"{path}: apps is not a list of [[apps]] tables, so the settings window changes "
                                "nothing in the file. Fix it in a text editor.")
    keys = ("program", "class", "title")
    entry = next((table for table in entries if {key: table.get(key) for key in keys if key in table} == match), None)
    made = entry is None
    if entry is None:
        entry = tomlkit.table()
        for key, value in ({"name": changes.get("name", "")} | match).items():
            if value:
                entry[key] = value
        entries.append(entry)
    for key, value in changes.items():
        if key != "name":
            entry[key] = value
    if made:
        entry.add(tomlkit.nl())  # a blank line before whatever follows it
    try:
        parse_app(entry.unwrap())
    except ValueError as error:
        raise ConfigError(f"apps: {str(error).rstrip('.')}.") from None
    write_text(path, tomlkit.dumps(document), bom)
    return parse_settings(document.unwrap(), str(path))


def current_settings(path: Path) -> Settings:
    """What the file says now (problems aside): the window's starting values."""
    return load_settings(path).settings


def _as_toml(value: Any) -> Any:
    return list(value) if isinstance(value, tuple) else value


def _table_for(document: TOMLDocument, keys: list[str], create: bool, path: Path) -> Any:
    """The table at `keys` (made when `create`), or None when it is absent and not wanted."""
    table: Any = document
    for depth, key in enumerate(keys):
        if key not in table:
            if not create:
                return None
            table[key] = tomlkit.table()
        table = table[key]
        if not isinstance(table, (Table, dict)):
            raise SettingsFileError(f"{path}: {'.'.join(keys[:depth + 1])} is not a table, so the settings "
                                    "window changes nothing in the file. Fix it in a text editor.")
    return table
