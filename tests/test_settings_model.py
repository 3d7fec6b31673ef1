"""The settings window's Model tab in a real Tk on the test desktop: the chain with what `devices`
finds for each backend, the installed models with their sizes, and the catalog's models with the
download size the hub lists."""

from __future__ import annotations

import time
import tkinter
from collections.abc import Callable
from dataclasses import replace
from pathlib import Path

import pytest

from phitray.backends.catalog import CATALOG, DEFAULT_MODEL, HubSource
from phitray.cli.settings import FileOnly
from phitray.paths import Paths
from phitray.ui.settings_model import ModelSection
from phitray.ui.settings_window import SettingsWindow
from phitray.ui.uiqueue import UiQueue

from helpers.desktop import DesktopSession
from helpers.fake_hub import FakeHub

PHI3_CPU = CATALOG[DEFAULT_MODEL].sources["openvino-cpu"]


def pump(root: tkinter.Tk, done: Callable[[], bool], timeout: float = 60) -> None:
    deadline = time.monotonic() + timeout
    while not done():
        assert time.monotonic() < deadline, "the Model tab did not fill in"
        root.update()
        time.sleep(0.02)


def test_the_model_tab_shows_the_chain_the_installed_models_and_what_can_be_downloaded(
    session: DesktopSession, shared_paths: Paths, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("DISPLAY", session.display)
    paths = replace(shared_paths, config_dir=tmp_path / "config")
    paths.config_dir.mkdir()
    paths.settings_file.write_text('[engine]\nchain = ["openvino-cpu", "openvino-gpu"]\nmodel = "starter"\n')
    assert isinstance(PHI3_CPU, HubSource)
    with FakeHub({PHI3_CPU.repo_id: {"openvino_model.bin": b"w" * 3_000_000, "config.json": b"{}"}}) as hub:
        monkeypatch.setenv("HF_ENDPOINT", hub.url)
        root = tkinter.Tk()
        root.withdraw()
        ui = UiQueue(root)
        try:
            window = SettingsWindow(root, paths, FileOnly(), ui)
            tab = window.sections[1]
            assert isinstance(tab, ModelSection)
            pump(root, lambda: bool(tab.decisions) and bool(tab.sizes))
            chain = tab.chain.get(0, "end")
            assert chain[0].startswith("1. openvino-cpu — chosen:") and "starter installed" in chain[0], chain
            assert chain[1].startswith("2. openvino-gpu — "), chain
            assert all(row.startswith("not used:") for row in chain[2:]) and len(chain) == 6, chain
            installed = {tab.installed.item(i, "text"): tab.installed.item(i, "values")
                         for i in tab.installed.get_children()}
            assert "starter (in use)" in installed, installed
            backends, size = installed["starter (in use)"]
            assert "openvino-cpu" in backends and size.endswith(" MB"), installed
            rows = {(tab.catalog.item(i, "text"), tab.catalog.item(i, "values")[0]): tab.catalog.item(i, "values")[1]
                    for i in tab.catalog.get_children()}
            phi3 = CATALOG[DEFAULT_MODEL].title
            assert rows[(phi3, "openvino-cpu")] == "3.0 MB", rows  # the hub's sizes of the repository's files
            assert rows[(phi3, "directml")] == "size unknown", rows  # a repository this hub does not have
            assert {backend for title, backend in rows if title == phi3} == set(CATALOG[DEFAULT_MODEL].sources)
            window.close()
        finally:
            ui.close()
            root.destroy()
