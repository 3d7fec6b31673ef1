"""The shape of the package: a layer imports only the layers below it, and the tray's view is a pure
function of the agent's state (tested here without a desktop)."""

from __future__ import annotations

import ast
from pathlib import Path

import pytest

from phitray.app.view import AgentState, tray_view

AGENT = Path(__file__).resolve().parent.parent / "agent"
# Top to bottom (DESIGN.md § The layout). The modules at agent/'s root and the actions and backends
# packages are below every layer.
LAYERS = ["cli", "app", "ui", "jobs", "host", "desktop"]


def imported_layers(path: Path) -> set[str]:
    """The agent layers a module imports, at any depth (imports inside functions count too)."""
    found = set()
    for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
        names = [alias.name for alias in node.names] if isinstance(node, ast.Import) else \
            [node.module or ""] if isinstance(node, ast.ImportFrom) else []
        for name in names:
            parts = name.split(".")
            if parts[0] == "phitray" and len(parts) > 1 and parts[1] in LAYERS:
                found.add(parts[1])
    return found


@pytest.mark.parametrize("layer", LAYERS)
def test_a_layer_imports_only_the_layers_below_it(layer: str) -> None:
    above = set(LAYERS[: LAYERS.index(layer)])
    wrong = {str(path.relative_to(AGENT)): sorted(imported_layers(path) & above)
             for path in sorted((AGENT / layer).glob("*.py"))}
    assert not {module: layers for module, layers in wrong.items() if layers}


def test_the_root_modules_and_the_other_packages_import_no_layer() -> None:
    roots = [*AGENT.glob("*.py"), *(AGENT.parent / "actions").glob("*.py"), *(AGENT.parent / "backends").glob("*.py")]
    wrong = {path.name: sorted(imported_layers(path)) for path in roots if path.name != "__main__.py"}
    assert not {module: layers for module, layers in wrong.items() if layers}


def test_every_module_stays_small() -> None:
    sizes = {str(path.relative_to(AGENT.parent)): len(path.read_text(encoding="utf-8").splitlines())
             for folder in ("agent", "actions", "backends") for path in (AGENT.parent / folder).rglob("*.py")}
    assert not {module: lines for module, lines in sizes.items() if lines > 420}


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
    assert view.notes == skipped
