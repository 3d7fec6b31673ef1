"""The agent's log: a rotating file under the user log dir (and stderr when it is a terminal).

Selected text and answers are written only when the person asks for it
(`[log] include_text = true` or `phitray run --log-text`), and then at debug level.
"""

from __future__ import annotations

import json
import logging
import logging.handlers
import sys
import time
from dataclasses import dataclass, replace

from phitray.paths import Paths
from phitray.settings import Settings

MAX_BYTES = 1_000_000
BACKUPS = 3
# Structured lines the tests and the bench wait on; written at every log level, never with the person's text.
MILESTONES = logging.getLogger("phitray.milestone")
MILESTONES.setLevel(logging.INFO)
Field = str | int | float | bool | None


def milestone(name: str, **fields: Field) -> None:
    """One JSON line: `phitray.milestone: {"milestone": name, …fields, "at": wall-clock seconds}`. Any thread."""
    MILESTONES.info("%s", json.dumps({"milestone": name, **fields, "at": round(time.time(), 3)}, ensure_ascii=False))


@dataclass(frozen=True)
class LogFlags:
    """`phitray run --log-text` and `--debug`: what they add to the settings' [log] table, at the start and
    after each change the settings window applies (a change made in the window must not undo a flag)."""

    log_text: bool = False
    debug: bool = False

    def settings(self, settings: Settings) -> Settings:
        if self.log_text or settings.log_text:
            # The texts are written at debug level: asking for them means asking for that level.
            return replace(settings, log_text=True, log_level="debug")
        return settings

    def level(self, settings: Settings) -> str:
        return "debug" if self.debug else self.settings(settings).log_level


# Lines that can quote the person's text (notices, check reasons, a failed job's traceback) go to this
# logger, which writes only while text logging is on.
TEXT = logging.getLogger("phitray.text")
TEXT.disabled = True


def set_level(level: str, log_text: bool = False) -> None:
    logging.getLogger().setLevel(getattr(logging, level.upper(), logging.INFO))
    TEXT.disabled = not log_text


def setup_logging(paths: Paths, level: str, log_text: bool = False) -> logging.Handler:
    paths.log_dir.mkdir(parents=True, exist_ok=True)
    handler = logging.handlers.RotatingFileHandler(paths.log_file, maxBytes=MAX_BYTES, backupCount=BACKUPS, encoding="utf-8")
    handler.setFormatter(logging.Formatter("%(asctime)s %(levelname)s %(threadName)s %(name)s: %(message)s"))
    set_level(level, log_text)
    root = logging.getLogger()
    root.addHandler(handler)
    if sys.stderr is not None and sys.stderr.isatty():
        console = logging.StreamHandler()
        console.setLevel(logging.WARNING)
        root.addHandler(console)
    for noisy in ("PIL", "httpx", "huggingface_hub"):
        logging.getLogger(noisy).setLevel(logging.WARNING)
    return handler
