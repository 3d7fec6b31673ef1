"""The agent's log: a rotating file under the user log dir (and stderr when it is a terminal).

Selected text and answers are written only when the person asks for it
(`[log] include_text = true` or `phitray run --log-text`), and then at debug level.
"""

from __future__ import annotations

import logging
import logging.handlers
import sys

from phitray.paths import Paths

MAX_BYTES = 1_000_000
BACKUPS = 3


def setup_logging(paths: Paths, level: str) -> logging.Handler:
    paths.log_dir.mkdir(parents=True, exist_ok=True)
    handler = logging.handlers.RotatingFileHandler(paths.log_file, maxBytes=MAX_BYTES, backupCount=BACKUPS, encoding="utf-8")
    handler.setFormatter(logging.Formatter("%(asctime)s %(levelname)s %(threadName)s %(name)s: %(message)s"))
    root = logging.getLogger()
    root.setLevel(getattr(logging, level.upper(), logging.INFO))
    root.addHandler(handler)
    if sys.stderr is not None and sys.stderr.isatty():
        console = logging.StreamHandler()
        console.setLevel(logging.WARNING)
        root.addHandler(console)
    for noisy in ("PIL", "httpx", "huggingface_hub"):
        logging.getLogger(noisy).setLevel(logging.WARNING)
    return handler
