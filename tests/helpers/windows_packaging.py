"""The Windows installer's build scripts (packaging/windows), loaded as modules for the tests of their rules."""

from __future__ import annotations

import importlib.util
import sys
from pathlib import Path
from types import ModuleType

HERE = Path(__file__).resolve().parent.parent.parent / "packaging" / "windows"


def load(name: str) -> ModuleType:
    """packaging/windows/<name>.py as a fresh module (build.py imports sign and windows_python beside it)."""
    sys.path.insert(0, str(HERE))
    try:
        spec = importlib.util.spec_from_file_location(f"phitray_packaging_{name}", HERE / f"{name}.py")
        assert spec is not None and spec.loader is not None
        module = importlib.util.module_from_spec(spec)
        spec.loader.exec_module(module)
        return module
    finally:
        sys.path.remove(str(HERE))
