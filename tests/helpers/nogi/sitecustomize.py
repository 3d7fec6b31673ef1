"""Makes `import gi` fail as it does where PyGObject is not installed (`pip install phitray` without
the gtk extra), for the tray-backend test. A process with this folder on PYTHONPATH imports it at
start (site.py); the model host it spawns inherits the environment and so the same view."""

import importlib.abc
import sys


class _NoPyGObject(importlib.abc.MetaPathFinder):
    def find_spec(self, name, path=None, target=None):  # type: ignore[no-untyped-def]
        if name == "gi" or name.startswith("gi."):
            raise ModuleNotFoundError(f"No module named {name!r}", name=name)
        return None


sys.meta_path.insert(0, _NoPyGObject())
