"""Shared fixtures: the real models the tests run on, and isolated locations.

Models are built or fetched once into a cache folder (PHITRAY_TEST_CACHE, by
default .cache/test under the repository) and reused across runs: see
tests/fixtures/models.py. tests/windows/ runs only inside Wine (.ci/windows/run.sh).
"""

from __future__ import annotations

import gc
import sys
import tkinter
import weakref
from collections.abc import Iterator
from dataclasses import replace
from pathlib import Path

import pytest

from phitray.backends.chain import ChainOptions
from phitray.backends.pins import PINS_VARIABLE
from phitray.paths import Paths
from phitray.host.client import ModelHost

from fixtures import models
from helpers.desktop import DesktopSession, TextWidget, missing_tools, open_text_widget, start_session
from helpers.env import UNREACHABLE_HUB
from helpers.fake_hub import catalog_pins
from helpers.x11_holders import end_holders

CACHE = models.CACHE
collect_ignore = [] if sys.platform == "win32" else ["windows"]


# A Tk interpreter freed on another thread aborts the process (Tcl_AsyncDelete): a destroyed root usually
# sits in reference cycles, and the next collection may run on a later test's jobs or HTTP thread. Destroyed
# roots are collected on the main thread around every test, until they are gone.
_destroyed_roots: "weakref.WeakSet[tkinter.Tk]" = weakref.WeakSet()
_tk_destroy = tkinter.Tk.destroy


def _noting_destroy(self: tkinter.Tk) -> None:
    _tk_destroy(self)
    _destroyed_roots.add(self)


tkinter.Tk.destroy = _noting_destroy  # type: ignore[method-assign]


def _free_destroyed_roots() -> None:
    if len(_destroyed_roots):
        gc.collect()


@pytest.hookimpl(tryfirst=True)
def pytest_runtest_setup(item: pytest.Item) -> None:
    _free_destroyed_roots()


@pytest.hookimpl(hookwrapper=True)
def pytest_runtest_teardown(item: pytest.Item, nextitem: pytest.Item | None) -> Iterator[None]:
    yield  # the fixtures' teardown: module fixtures destroy their roots here
    _free_destroyed_roots()


@pytest.fixture(scope="session", autouse=True)
def unreachable_pins(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Path]:
    """Pins for every hub repository of the catalog, so a pull gets as far as the (unreachable) hub; for the
    whole session, so agents a module starts have them too."""
    with pytest.MonkeyPatch.context() as patch:
        pins = catalog_pins(tmp_path_factory.mktemp("pins"))
        patch.setenv(PINS_VARIABLE, str(pins))
        yield pins


@pytest.fixture(autouse=True)
def no_real_hub(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("HF_ENDPOINT", UNREACHABLE_HUB)
    monkeypatch.setenv("HF_HUB_DISABLE_TELEMETRY", "1")


@pytest.fixture(scope="session")
def tiny_phi3() -> Path:
    """Folder with hf/, openvino-int4/ and onnx-int4/ of the tiny Phi-3."""
    return models.tiny_phi3(CACHE)


@pytest.fixture(scope="session")
def shared_paths(tmp_path_factory: pytest.TempPathFactory) -> Paths:
    """Locations whose store holds the starter model and the tiny Phi-3 in both formats. Read-only."""
    data = models.store_with_test_models(CACHE)
    scratch = tmp_path_factory.mktemp("shared")
    return Paths(config_dir=scratch / "config", data_dir=data, cache_dir=scratch / "cache", log_dir=scratch / "log")


@pytest.fixture(scope="module")
def starter_host(shared_paths: Paths) -> Iterator[ModelHost]:
    """The starter model resident on openvino-cpu, one per test module; a test may kill it (it restarts)."""
    options = ChainOptions(chain=("openvino-cpu",), model_id="starter", cache_dir=shared_paths.cache_dir, allow_pull=False)
    with ModelHost(options, shared_paths, max_restarts=3) as host:
        host.start()
        yield host


@pytest.fixture
def paths(tmp_path: Path) -> Paths:
    """Empty, private locations for a test that writes."""
    return Paths(config_dir=tmp_path / "config", data_dir=tmp_path / "data",
                 cache_dir=tmp_path / "cache", log_dir=tmp_path / "log")


@pytest.fixture(scope="session")
def tk_display(tmp_path_factory: pytest.TempPathFactory) -> Iterator[DesktopSession]:
    """One bare X display for every Tk root a test makes in the test process itself. Tk keeps its
    connection to a display for the life of the process and exits when that display goes away, so a
    display per module would end the run at the next module's Tk."""
    display = start_session(tmp_path_factory.mktemp("tk-display"), tray=False)
    yield display
    display.stop()


@pytest.fixture(scope="module")
def session(tmp_path_factory: pytest.TempPathFactory) -> Iterator[DesktopSession]:
    """A private X desktop (Xvfb, session bus, dunst, trayer) for one test module."""
    missing = missing_tools()
    if missing:
        pytest.fail(f"missing desktop tools {missing}: run scripts/desktop-deps.sh (scripts/test.sh does)")
    desktop = start_session(tmp_path_factory.mktemp("desktop"))
    yield desktop
    desktop.stop()


@pytest.fixture
def x11(session: DesktopSession, monkeypatch: pytest.MonkeyPatch) -> Iterator[object]:
    """The agent's X11 desktop adapters on the module's display; what their close handed the clipboard to is
    ended after, so the next test starts from a clean desktop."""
    monkeypatch.setenv("DISPLAY", session.display)
    from phitray.desktop.x11 import open_desktop

    desktop = open_desktop()
    yield desktop
    desktop.close()
    end_holders(session)


@pytest.fixture(scope="module")
def agent_paths(shared_paths: Paths, tmp_path_factory: pytest.TempPathFactory) -> Paths:
    """The shared model store with a module's own config, cache and log folders, for `phitray run`."""
    folder = tmp_path_factory.mktemp("agent")
    return replace(shared_paths, config_dir=folder / "config", cache_dir=folder / "cache", log_dir=folder / "log")


@pytest.fixture(scope="module")
def widget(session: DesktopSession, agent: object) -> Iterator[TextWidget]:
    """The Tk editor, opened once the module's own `agent` fixture runs."""
    editor = open_text_widget(session)
    yield editor
    editor.close()
