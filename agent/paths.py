"""Every location Phi Tray reads or writes, in one place.

All come from platformdirs with the app name ``phitray`` (on Linux that honours
XDG_CONFIG_HOME and friends). Each can be overridden by an environment
variable, which is how tests and portable installs point the agent elsewhere:

    PHITRAY_CONFIG_DIR   settings.toml, actions/, first-run.json, server-token
    PHITRAY_DATA_DIR     models/, history.json (only with [history] keep_on_disk)
    PHITRAY_CACHE_DIR    compiled-model cache (NPU/GPU compile takes minutes)
    PHITRAY_LOG_DIR      phitray.log
"""

from __future__ import annotations

import os
from dataclasses import dataclass
from pathlib import Path

import platformdirs

APP_NAME = "phitray"


@dataclass(frozen=True)
class Paths:
    config_dir: Path
    data_dir: Path
    cache_dir: Path
    log_dir: Path

    @classmethod
    def from_environment(cls, environ: dict[str, str] | None = None) -> "Paths":
        env = os.environ if environ is None else environ
        dirs = platformdirs.PlatformDirs(APP_NAME, appauthor=False)

        def pick(variable: str, default: str) -> Path:
            return Path(env.get(variable) or default).expanduser()

        return cls(
            config_dir=pick("PHITRAY_CONFIG_DIR", dirs.user_config_dir),
            data_dir=pick("PHITRAY_DATA_DIR", dirs.user_data_dir),
            cache_dir=pick("PHITRAY_CACHE_DIR", dirs.user_cache_dir),
            log_dir=pick("PHITRAY_LOG_DIR", dirs.user_log_dir),
        )

    @property
    def models_dir(self) -> Path:
        return self.data_dir / "models"

    @property
    def history_file(self) -> Path:
        """The last results, written only when the person keeps their history on disk; theirs alone."""
        return self.data_dir / "history.json"

    @property
    def compile_cache_dir(self) -> Path:
        return self.cache_dir / "compiled"

    @property
    def settings_file(self) -> Path:
        return self.config_dir / "settings.toml"

    @property
    def user_actions_dir(self) -> Path:
        return self.config_dir / "actions"

    @property
    def first_run_file(self) -> Path:
        """What the first run has said already (the welcome, an unreachable hub), so it is said once."""
        return self.config_dir / "first-run.json"

    @property
    def server_token_file(self) -> Path:
        """The local endpoint's bearer token, readable by the person alone."""
        return self.config_dir / "server-token"

    @property
    def bench_dir(self) -> Path:
        """`phitray bench`'s results: the last one as last.json and last.png, for "About this PC"."""
        return self.cache_dir / "bench"

    @property
    def log_file(self) -> Path:
        return self.log_dir / "phitray.log"
