"""The shape of the package: a layer imports only the layers below it, and the tray's view is a pure
function of the agent's state (tested here without a desktop)."""

from __future__ import annotations

import ast
import re
from pathlib import Path

import pytest

from phitray.app.view import AgentState, tray_view

REPO = Path(__file__).resolve().parent.parent
AGENT = REPO / "agent"
# Top to bottom (ARCHITECTURE.md): a unit imports only the units after it. The layers are folders of
# agent/; then agent/'s root modules, each in its place; actions and backends sit among them.
ORDER = ["cli", "app", "ui", "serve", "jobs", "host", "desktop",
         "downloads", "children", "settings_file", "logs", "settings", "app_profiles", "actions", "backends", "files",
         "hotkeys", "paths", "errors"]
# Platform modules may name their platform for the type checker; everything else asks the selector.
PLATFORM_MODULE = re.compile(r"^(windows|linux|x11|xdg|macos|launchd)(_\w+)?\.py$")
# Each desktop concern picks its platform module once, at import: the adapters, system calls, the instance
# channel, start on login.
PLATFORM_SELECTORS = {"desktop/__init__.py", "desktop/system.py", "desktop/instance.py", "desktop/autostart.py"}


def unit_files(unit: str) -> list[Path]:
    if unit in ("actions", "backends"):
        return sorted((REPO / unit).glob("*.py"))
    folder = AGENT / unit
    return sorted(folder.glob("*.py")) if folder.is_dir() else [AGENT / f"{unit}.py"]


def imported_units(path: Path) -> set[str]:
    """The units a module imports, at any depth (imports inside functions count too)."""
    found = set()
    for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
        if isinstance(node, ast.Import):
            names = [alias.name for alias in node.names]
        elif isinstance(node, ast.ImportFrom):
            module = node.module or ""
            names = [f"{module}.{alias.name}" for alias in node.names] if module == "phitray" else [module]
        else:
            continue
        for name in names:
            parts = name.split(".")
            if parts[0] == "phitray" and len(parts) > 1 and parts[1] in ORDER:
                found.add(parts[1])
    return found


def test_every_root_module_has_its_place_in_the_order() -> None:
    roots = {path.stem for path in AGENT.glob("*.py")} - {"__init__", "__main__"}
    folders = {path.name for path in AGENT.iterdir() if (path / "__init__.py").exists()}
    assert roots | folders == set(ORDER) - {"actions", "backends"}


@pytest.mark.parametrize("unit", ORDER)
def test_a_unit_imports_only_the_units_below_it(unit: str) -> None:
    above = set(ORDER[: ORDER.index(unit) + 1]) - {unit}
    wrong = {str(path.relative_to(REPO)): sorted(imported_units(path) & above) for path in unit_files(unit)}
    assert not {module: units for module, units in wrong.items() if units}


def agent_modules() -> list[Path]:
    return sorted(AGENT.rglob("*.py"))


OWNED = {"settings", "actions", "problems"}


def mentions_daemon(node: ast.AST) -> bool:
    return any(isinstance(n, ast.Name) and "daemon" in n.id.lower() or isinstance(n, ast.Attribute) and
               "daemon" in n.attr.lower() for n in ast.walk(node))


def writes_to_the_agents_state(tree: ast.AST) -> list[int]:
    """Lines that assign or mutate the daemon's settings, actions or problems, or choose its host."""
    lines = []
    for node in ast.walk(tree):
        targets: list[ast.expr] = []
        if isinstance(node, ast.Assign):
            targets = node.targets
        elif isinstance(node, (ast.AugAssign, ast.AnnAssign)):
            targets = [node.target]
        elif isinstance(node, ast.Delete):
            targets = node.targets
        elif isinstance(node, ast.Call) and isinstance(node.func, ast.Attribute):
            owner = node.func.value
            if node.func.attr in ("append", "extend", "clear", "pop") and isinstance(owner, ast.Attribute) \
                    and owner.attr in OWNED and mentions_daemon(owner):
                lines.append(node.lineno)
            if node.func.attr == "update_state" and {k.arg for k in node.keywords} & {"model_id", "backend_choice"}:
                lines.append(node.lineno)
            if node.func.attr == "switch" and isinstance(owner, ast.Attribute) and owner.attr == "controller":
                lines.append(node.lineno)
        for target in targets:
            base = target.value if isinstance(target, ast.Subscript) else target
            if isinstance(base, ast.Attribute) and base.attr in OWNED and mentions_daemon(base):
                lines.append(node.lineno)
    return lines


def test_only_the_daemon_writes_the_agents_settings_actions_problems_and_host_choice() -> None:
    writers = {str(path.relative_to(AGENT)): lines for path in agent_modules()
               if path != AGENT / "app" / "daemon.py"
               and (lines := writes_to_the_agents_state(ast.parse(path.read_text(encoding="utf-8"))))}
    assert not writers


def test_the_owner_test_finds_a_second_writer() -> None:
    second = "def f(daemon):\n    daemon.settings = 1\n    daemon.problems.extend([])\n    del daemon.problems[3:]\n" \
             "    daemon.update_state(model_id='x')\n    daemon.controller.switch(None)\n    self.settings = 2\n"
    assert sorted(writes_to_the_agents_state(ast.parse(second))) == [2, 3, 4, 5, 6]


def test_only_the_platform_selectors_and_platform_modules_name_the_platform() -> None:
    naming = {str(path.relative_to(AGENT)) for path in agent_modules() if "sys.platform" in path.read_text(encoding="utf-8")}
    assert not {module for module in naming
                if module not in PLATFORM_SELECTORS and not PLATFORM_MODULE.match(Path(module).name)}


def test_the_map_names_only_folders_and_modules_that_exist() -> None:
    text = (REPO / "ARCHITECTURE.md").read_text(encoding="utf-8")
    named = set(re.findall(r"`((?:agent|actions|backends|assets|tests|bench|packaging|scripts|\.ci)/[\w./-]*)`", text))
    assert named, "the map names no folder"
    assert not {path for path in named if not (REPO / path).exists()}
    for unit in ORDER:
        assert f"`{unit}`" in text or f"{unit}/" in text or f"{unit}.py" in text, f"the map does not place {unit}"


def test_every_module_stays_small() -> None:
    """The agent's modules, and the tests', the benches' and the build's too."""
    sizes = {str(path.relative_to(AGENT.parent)): len(path.read_text(encoding="utf-8").splitlines())
             for folder in ("agent", "actions", "backends", "tests", "bench", "packaging", "scripts", ".ci")
             for path in (AGENT.parent / folder).rglob("*.py")}
    assert not {module: lines for module, lines in sizes.items() if lines > 400}


READY = AgentState(host="ready", host_status="openvino-cpu · CPU · starter", model_id="starter")


def test_the_tray_shows_busy_over_paused_and_both_only_over_a_ready_model() -> None:
    assert tray_view(READY).state == "ready"
    assert tray_view(AgentState(host="loading", busy=True)).state == "loading"
    view = tray_view(AgentState(**{**READY.__dict__, "busy": True, "paused": True, "can_undo": True}))
    assert (view.state, view.status) == ("busy", "Working… · openvino-cpu · CPU · starter")
    assert not view.can_undo, "Undo is offered while a job runs"
    paused = tray_view(AgentState(**{**READY.__dict__, "paused": True}))
    assert paused.state == "paused" and paused.paused
    error = tray_view(AgentState(host="error", host_status="No model: …", paused=True, busy=True))
    assert (error.state, error.status) == ("error", "No model: …")


def test_the_tray_lists_backends_the_agent_passed_over() -> None:
    skipped = ("openvino-npu: skipped, the model host crashed 3 times in a row while loading it",)
    view = tray_view(AgentState(**{**READY.__dict__, "notes": skipped}))
    assert " ".join(line.strip() for line in view.notes) == skipped[0]  # wrapped onto short lines (app/view.py)
