"""The Windows installer ships what the agent imports: its lock (packaging/windows/requirements.txt, the
wheels build.py stages into pkgs\\) holds every project dependency Windows needs, and the local endpoint's
HTTP stack with everything it requires. An installer built from a lock without uvicorn gave an agent whose
endpoint could not start. Read on Linux, with Windows' markers; nothing is built."""

from __future__ import annotations

import ast
import importlib.metadata
import sys
import tomllib
from pathlib import Path

from packaging.requirements import Requirement
from packaging.utils import canonicalize_name

REPO = Path(__file__).resolve().parent.parent
LOCK = REPO / "packaging" / "windows" / "requirements.txt"
WINDOWS = {"sys_platform": "win32", "platform_system": "Windows", "os_name": "nt", "python_version": "3.11",
           "python_full_version": "3.11.0", "platform_machine": "AMD64", "implementation_name": "cpython",
           "platform_python_implementation": "CPython", "extra": ""}


def locked() -> dict[str, str]:
    """The lock's packages and their versions."""
    pins = (line.split()[0].split("==") for line in LOCK.read_text().splitlines() if line and not line.startswith("#"))
    return {canonicalize_name(name): version for name, version in pins}


def on_windows(requirement: Requirement) -> bool:
    return requirement.marker is None or requirement.marker.evaluate(WINDOWS)


def project_dependencies() -> list[Requirement]:
    project = tomllib.loads((REPO / "pyproject.toml").read_text())["project"]
    return [requirement for spelled in project["dependencies"] if on_windows(requirement := Requirement(spelled))]


def with_their_requirements(names: set[str]) -> set[str]:
    """`names` and what each requires on Windows (no extras), read from the metadata installed here where
    that is the locked version (another version may require other things); a package installed here in
    another version, or not at all (Windows-only), is counted without its own requirements."""
    pins = locked()
    needed: set[str] = set()
    waiting = [canonicalize_name(name) for name in names]
    while waiting:
        name = waiting.pop()
        if name in needed:
            continue
        needed.add(name)
        try:
            if importlib.metadata.version(name) != pins.get(name):
                continue
            requires = importlib.metadata.requires(name) or []
        except importlib.metadata.PackageNotFoundError:
            continue
        waiting += [canonicalize_name(r.name) for r in map(Requirement, requires) if on_windows(r)]
    return needed


def endpoint_imports() -> set[str]:
    """The distributions agent/serve/ imports, at any depth (its HTTP stack is imported inside functions)."""
    modules = set()
    for path in (REPO / "agent" / "serve").glob("*.py"):
        for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
            if isinstance(node, ast.Import):
                modules |= {alias.name.split(".")[0] for alias in node.names}
            elif isinstance(node, ast.ImportFrom) and node.level == 0 and node.module:
                modules.add(node.module.split(".")[0])
    third_party = modules - set(sys.stdlib_module_names) - {"phitray", "__future__"}
    distributions = importlib.metadata.packages_distributions()
    return {distributions[module][0] for module in third_party}


def test_the_endpoints_http_stack_and_what_it_needs_are_in_the_windows_lock() -> None:
    stack = endpoint_imports()
    assert "uvicorn" in stack  # the test reads the imports it means to
    assert with_their_requirements(stack) - set(locked()) == set()


def test_every_project_dependency_windows_needs_is_in_the_windows_lock() -> None:
    wanted: set[str] = {canonicalize_name(requirement.name) for requirement in project_dependencies()}
    assert {"uvicorn", "openvino-genai", "pystray"} <= wanted and "python-xlib" not in wanted
    assert with_their_requirements(wanted) - set(locked()) == set()


def test_the_check_finds_a_lock_without_uvicorn() -> None:
    without = set(locked()) - {"uvicorn"}
    assert with_their_requirements(endpoint_imports()) - without == {"uvicorn"}
