"""The settings file: its raw TOML schema, and the validated `Settings` the agent runs on.

`settings.toml` lives in the user config dir. Every field is optional. A field
with a wrong type or value is reported (file, field, problem) and that one
field keeps its default; a file that is not TOML at all is reported once and
every default applies. Loading never raises: a typo must not stop the tray.
`[[apps]]` entries, per-app profiles, are read by `app_profiles.py`.

    [hotkeys]
    picker = "ctrl+alt+space"      # the list of actions
    cancel = "ctrl+alt+esc"        # stops the running action
    [hotkeys.actions]              # per action; "" removes an action file's own hotkey
    proofread = "ctrl+alt+p"

    [engine]
    chain = ["openvino-npu", "directml", "openvino-gpu", "openvino-cpu"]
    model = "phi-3-mini-4k-instruct"
    allow_pull = true
    max_characters = 200000
    prompt_lookup = true           # edits draft tokens from their own text (CPU/GPU); false: plain
    draft_model = ""               # "phi-3-mini-fastdraft": Phi-3's draft model, where installed

    [output.actions]               # replace | popup | clipboard, per action
    summarize = "popup"

    [translate]
    language = "English"

    [capture]
    timeout_ms = 600               # wait this long for Ctrl+C to change the clipboard
    release_timeout_ms = 2000      # wait this long for the hotkey's keys to be let go
    paste_timeout_ms = 1500        # restore the clipboard after this if the paste is not seen
    use_primary = false            # X11: read the PRIMARY selection instead of sending Ctrl+C

    [review]
    before_replace = false         # edits open with their changes marked instead of replacing at once

    [desktop]
    terminals = ["myterm"]         # more terminals (X11 WM_CLASS, Windows window class): never sent Ctrl+C

    [log]
    level = "info"                 # debug | info | warning
    include_text = false           # write selected text and answers to the log (debugging only)

    [server]                       # the local endpoint other apps can use (OpenAI and Ollama routes)
    enabled = false
    port = 11435                   # on 127.0.0.1 and ::1 only
    ollama_without_token = false   # true: Ollama routes answer clients that send no token
    allowed_origins = []           # web pages (scheme://host[:port]) whose scripts may call it

    [history]                      # the last 50 results, for the tray's Recent and `phitray history`
    keep_on_disk = false           # true: kept in the data folder across restarts; false: in memory only
"""

from __future__ import annotations

import tomllib
import urllib.parse
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, cast

from phitray.actions.model import ID_PATTERN, OUTPUTS, Output
from phitray.app_profiles import AppProfile, parse_apps
from phitray.backends.catalog import DEFAULT_MODEL
from phitray.backends.registry import DEFAULT_CHAIN, parse_chain
from phitray.errors import ConfigError
from phitray.hotkeys import parse_combo

Check = Callable[[Any], Any]  # returns the validated value or raises ValueError with the problem
MAX_CLASS_CHARACTERS = 256  # X11's WM_CLASS and Windows' class names are short; longer is a mistake


def _text(value: Any) -> str:
    if not isinstance(value, str):
        raise ValueError(f"must be a string, not {type(value).__name__}")
    return value


def _combo_or_empty(value: Any) -> str:
    spelling = _text(value).strip()
    if not spelling:
        return ""
    try:
        return str(parse_combo(spelling))
    except ConfigError as error:
        raise ValueError(str(error)) from None


def _bool(value: Any) -> bool:
    if not isinstance(value, bool):
        raise ValueError(f"must be true or false, not {value!r}")
    return value


def _milliseconds(low: int, high: int) -> Check:
    def check(value: Any) -> int:
        if isinstance(value, bool) or not isinstance(value, int):
            raise ValueError(f"must be a whole number of milliseconds, not {value!r}")
        if not low <= value <= high:
            raise ValueError(f"{value} is not between {low} and {high}")
        return value
    return check


def _positive(value: Any) -> int:
    if isinstance(value, bool) or not isinstance(value, int) or value < 1:
        raise ValueError(f"must be a positive whole number, not {value!r}")
    return value


def _chain(value: Any) -> tuple[str, ...]:
    if isinstance(value, str):
        value = [value]
    if not isinstance(value, list) or not all(isinstance(item, str) for item in value) or not value:
        raise ValueError("must be a list of backend names")
    try:
        return parse_chain(",".join(value))
    except ConfigError as error:
        raise ValueError(str(error)) from None


def _model(value: Any) -> str:
    text = _text(value).strip()
    if not text:
        raise ValueError("is empty")
    return text


def _model_or_empty(value: Any) -> str:
    return _text(value).strip()


def _level(value: Any) -> str:
    text = _text(value).lower()
    if text not in ("debug", "info", "warning"):
        raise ValueError(f"{value!r} is not one of debug, info, warning")
    return text


def _window_classes(value: Any) -> tuple[str, ...]:
    if isinstance(value, str):
        value = [value]
    if not isinstance(value, list):
        raise ValueError(f"must be a list of window class names, not {type(value).__name__}")
    names = []
    for item in value:
        name = item.strip() if isinstance(item, str) else ""
        if not name or len(name) > MAX_CLASS_CHARACTERS or not name.isprintable():
            raise ValueError(f"{str(item)[:40]!r} is not a window class name")
        names.append(name)
    return tuple(dict.fromkeys(names))


def _port(value: Any) -> int:
    if isinstance(value, bool) or not isinstance(value, int) or not 1024 <= value <= 65535:
        raise ValueError(f"must be a port number from 1024 to 65535, not {value!r}")
    return value


def _origins(value: Any) -> tuple[str, ...]:
    if isinstance(value, str):
        value = [value]
    if not isinstance(value, list):
        raise ValueError(f"must be a list of origins like \"http://localhost:3000\", not {type(value).__name__}")
    origins = []
    for item in value:
        text = item.strip().rstrip("/").lower() if isinstance(item, str) else ""
        parts = urllib.parse.urlsplit(text)
        if parts.scheme not in ("http", "https") or not parts.hostname or parts.path or parts.query \
                or len(text) > 200 or not text.isprintable():
            raise ValueError(f"{str(item)[:60]!r} is not an origin (scheme://host[:port])")
        origins.append(text)
    return tuple(dict.fromkeys(origins))


def _per_action(check: Check) -> Check:
    def table(value: Any) -> dict[str, Any]:
        if not isinstance(value, dict):
            raise ValueError(f"must be a table of action = value, not {type(value).__name__}")
        result = {}
        for action_id, item in value.items():
            if not ID_PATTERN.match(action_id):
                raise ValueError(f"{action_id!r} is not an action id")
            try:
                result[action_id] = check(item)
            except ValueError as error:
                raise ValueError(f"{action_id}: {error}") from None
        return result
    return table


def _output(value: Any) -> Output:
    text = _text(value)
    if text not in OUTPUTS:
        raise ValueError(f"{value!r} is not one of {', '.join(OUTPUTS)}")
    return cast(Output, text)


@dataclass(frozen=True)
class ServerSettings:
    """The `[server]` table: the local endpoint."""

    enabled: bool = False
    port: int = 11435  # Ollama's is 11434: both can run
    ollama_without_token: bool = False
    allowed_origins: tuple[str, ...] = ()


@dataclass(frozen=True)
class Settings:
    """The validated settings; every default is written here and only here."""

    picker_hotkey: str = "ctrl+alt+space"
    # Neither default types a character on any layout: Windows reads Ctrl+Alt as AltGr, and Ctrl+Alt+X
    # is ź on a Polish keyboard, which a bound hotkey would take from the person.
    cancel_hotkey: str = "ctrl+alt+esc"
    action_hotkeys: dict[str, str] = field(default_factory=dict)
    chain: tuple[str, ...] = DEFAULT_CHAIN
    model_id: str = DEFAULT_MODEL
    allow_pull: bool = True
    max_characters: int = 200_000
    prompt_lookup: bool = True
    draft_model: str = ""
    action_outputs: dict[str, Output] = field(default_factory=dict)
    translate_language: str = "English"
    capture_timeout_ms: int = 600
    release_timeout_ms: int = 2000
    paste_timeout_ms: int = 1500
    use_primary: bool = False
    review_before_replace: bool = False
    terminals: tuple[str, ...] = ()  # window classes treated as terminals besides the ones the agent knows
    log_level: str = "info"
    log_text: bool = False
    server_enabled: bool = False
    server_port: int = ServerSettings.port
    server_ollama_without_token: bool = False
    server_allowed_origins: tuple[str, ...] = ()
    history_on_disk: bool = False  # the results' history survives a restart (a private file in the data folder)
    apps: tuple[AppProfile, ...] = ()  # the person's [[apps]] profiles, in file order (app_profiles.py)
    source: str = "defaults"

    @property
    def server(self) -> ServerSettings:
        return ServerSettings(self.server_enabled, self.server_port, self.server_ollama_without_token,
                              self.server_allowed_origins)


# The raw file's schema: "section.key" -> (the Settings attribute it sets, its check)
RAW_SETTINGS: dict[str, tuple[str, Check]] = {
    "hotkeys.picker": ("picker_hotkey", _combo_or_empty),
    "hotkeys.cancel": ("cancel_hotkey", _combo_or_empty),
    "hotkeys.actions": ("action_hotkeys", _per_action(_combo_or_empty)),
    "engine.chain": ("chain", _chain),
    "engine.model": ("model_id", _model),
    "engine.allow_pull": ("allow_pull", _bool),
    "engine.max_characters": ("max_characters", _positive),
    "engine.prompt_lookup": ("prompt_lookup", _bool),
    "engine.draft_model": ("draft_model", _model_or_empty),
    "output.actions": ("action_outputs", _per_action(_output)),
    "translate.language": ("translate_language", _model),
    "capture.timeout_ms": ("capture_timeout_ms", _milliseconds(50, 10_000)),
    "capture.release_timeout_ms": ("release_timeout_ms", _milliseconds(0, 30_000)),
    "capture.paste_timeout_ms": ("paste_timeout_ms", _milliseconds(50, 30_000)),
    "capture.use_primary": ("use_primary", _bool),
    "review.before_replace": ("review_before_replace", _bool),
    "desktop.terminals": ("terminals", _window_classes),
    "log.level": ("log_level", _level),
    "log.include_text": ("log_text", _bool),
    "server.enabled": ("server_enabled", _bool),
    "server.port": ("server_port", _port),
    "server.ollama_without_token": ("server_ollama_without_token", _bool),
    "server.allowed_origins": ("server_allowed_origins", _origins),
    "history.keep_on_disk": ("history_on_disk", _bool),
}
DEFAULTS = Settings()


@dataclass(frozen=True)
class LoadedSettings:
    settings: Settings
    problems: tuple[ConfigError, ...]


def parse_settings(raw: dict[str, Any], source: str) -> LoadedSettings:
    """Validate a raw TOML table field by field; a bad field keeps its default."""
    values: dict[str, Any] = {}
    problems: list[ConfigError] = []
    sections = sorted({name.split(".")[0] for name in RAW_SETTINGS} | {"apps"})
    for section, content in raw.items():
        if section == "apps":  # [[apps]]: an array of tables, each entry kept or skipped on its own
            values["apps"], more = parse_apps(content, source)
            problems.extend(more)
            continue
        if section not in sections:
            problems.append(ConfigError(f"{source}: [{section}]: unknown section (known: {', '.join(sections)}); ignored"))
            continue
        if not isinstance(content, dict):
            problems.append(ConfigError(f"{source}: {section}: must be a [{section}] table; ignored"))
            continue
        for key, value in content.items():
            name = f"{section}.{key}"
            if name not in RAW_SETTINGS:
                known = ", ".join(k for k in RAW_SETTINGS if k.startswith(f"{section}."))
                problems.append(ConfigError(f"{source}: {name}: unknown setting (known: {known}); ignored"))
                continue
            attribute, check = RAW_SETTINGS[name]
            try:
                values[attribute] = check(value)
            except ValueError as error:
                reason = str(error).rstrip(".")
                default = _show(getattr(DEFAULTS, attribute))
                problems.append(ConfigError(f"{source}: {name}: {reason}; using the default {default}"))
    return LoadedSettings(Settings(**values, source=source), tuple(problems))


def load_settings(path: Path) -> LoadedSettings:
    """The settings in `path`; a missing file is all defaults with no problem."""
    try:
        text = path.read_text(encoding="utf-8-sig")  # a byte-order mark (Notepad's) is no part of the TOML
    except FileNotFoundError:
        return LoadedSettings(Settings(), ())
    except (OSError, UnicodeDecodeError) as error:
        reason = error.strerror if isinstance(error, OSError) else "it is not UTF-8 text"
        return LoadedSettings(Settings(), (ConfigError(f"{path}: cannot be read ({reason}); using the defaults"),))
    try:
        raw = tomllib.loads(text)
    except tomllib.TOMLDecodeError as error:
        return LoadedSettings(Settings(), (ConfigError(f"{path}: not valid TOML ({error}); using the defaults"),))
    return parse_settings(raw, str(path))


def _show(value: Any) -> str:
    if isinstance(value, tuple):
        return ",".join(value) or "(none)"
    return repr(value) if isinstance(value, str) else str(value).lower() if isinstance(value, bool) else str(value)
