"""The OpenVINO IR of a GGUF file, made once and kept in the compile cache.

LLMPipeline reads a GGUF file directly, but converts it to an OpenVINO graph
on every load: on a 2-core CPU that is about 3 of the starter's 6.5 s, paid at
every launch and every model-host restart. The first load asks LLMPipeline to
save what it converted (`enable_save_ov_model`, which writes the IR beside the
file it was given: a link to the GGUF in a staging folder of the cache); later
loads read the IR. A folder is used only once its marker is written, and a
kept IR that fails to load is dropped and made again. Where no link can be
made (Windows without symlink rights, across volumes) the GGUF loads as before.
"""

from __future__ import annotations

import json
import os
import shutil
from collections.abc import Callable
from pathlib import Path
from typing import Any, TypeVar

MARKER = "phitray-converted.json"
Loaded = TypeVar("Loaded")


def load_gguf(gguf: Path, cache_root: Path, load: Callable[[Path, dict[str, Any]], Loaded],
              progress: Callable[[str], None]) -> Loaded:
    """`load(path, extra_properties)` from the kept IR of `gguf` if there is one, else from `gguf`, keeping its IR."""
    source = gguf.stat()
    kept = cache_root / "gguf-ir" / f"{gguf.stem}-{source.st_size}-{int(source.st_mtime)}"
    if (kept / MARKER).is_file():
        try:
            return load(kept, {})
        except Exception:
            shutil.rmtree(kept, ignore_errors=True)  # damaged or from another OpenVINO: make it again
    staging = _staging(gguf, kept)
    if staging is None:
        return load(gguf, {})
    progress("converting the GGUF file once (later starts read the converted model)")
    try:
        loaded = load(staging / gguf.name, {"enable_save_ov_model": True})
    except Exception:
        # Converting beside a link may fail where loading the file itself works: load it as before.
        shutil.rmtree(staging, ignore_errors=True)
        return load(gguf, {})
    _keep(staging, kept, gguf)
    return loaded


def _staging(gguf: Path, kept: Path) -> Path | None:
    """A fresh folder beside `kept` holding a link to `gguf`; None if the cache cannot hold one."""
    staging = kept.with_name(f"{kept.name}.partial-{os.getpid()}")
    try:
        shutil.rmtree(staging, ignore_errors=True)
        staging.mkdir(parents=True)
        try:
            (staging / gguf.name).symlink_to(gguf.resolve())
        except OSError:
            os.link(gguf, staging / gguf.name)  # Windows without symlink rights: a hard link, same volume only
        return staging
    except OSError:
        shutil.rmtree(staging, ignore_errors=True)
        return None


def _keep(staging: Path, kept: Path, gguf: Path) -> None:
    """Make the staged IR the kept one (marker last), and drop IRs of earlier versions of the same file."""
    try:
        (staging / gguf.name).unlink()
        if not (staging / "openvino_model.xml").is_file():
            raise OSError("LLMPipeline saved no openvino_model.xml")
        (staging / MARKER).write_text(json.dumps({"source": str(gguf)}), encoding="utf-8")
        for earlier in kept.parent.glob(f"{gguf.stem}-*"):
            if earlier != staging and ".partial-" not in earlier.name:
                shutil.rmtree(earlier, ignore_errors=True)
        staging.rename(kept)
    except OSError:
        shutil.rmtree(staging, ignore_errors=True)
