"""Environment for `phitray` subprocesses under test."""

from __future__ import annotations

import os

from phitray.paths import Paths

# Nothing in the tests may reach the real model hub: a closed local port answers at once.
UNREACHABLE_HUB = "http://127.0.0.1:9"


def environment_for(paths: Paths, **extra: str) -> dict[str, str]:
    """The current environment pointed at these locations and no hub."""
    return {
        **os.environ,
        "PHITRAY_CONFIG_DIR": str(paths.config_dir),
        "PHITRAY_DATA_DIR": str(paths.data_dir),
        "PHITRAY_CACHE_DIR": str(paths.cache_dir),
        "PHITRAY_LOG_DIR": str(paths.log_dir),
        "HF_ENDPOINT": UNREACHABLE_HUB,
        **extra,
    }
