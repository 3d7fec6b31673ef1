"""Model paths a native library can open (backends/native_path.py): a folder the ANSI code page cannot spell
is lent as a path relative to it, made the working directory meanwhile, and given back after; one it can
spell is passed as it is. Here with cp1252, a Western Windows' code page; under Wine the openvino backend
loads the starter from such a folder (tests/windows/test_win_system.py)."""

from __future__ import annotations

import os
from pathlib import Path

import pytest

from phitray.backends.native_path import loadable, spelled

WESTERN = "cp1252"


def test_a_name_the_code_page_holds_is_passed_as_it_is(tmp_path: Path) -> None:
    folder = tmp_path / "Håkan"  # å is in cp1252
    folder.mkdir()
    before = os.getcwd()
    with loadable(folder, WESTERN) as spell:
        assert spell(folder / "model.gguf") == str(folder / "model.gguf")
        assert os.getcwd() == before


def test_a_name_it_cannot_spell_is_lent_relative_and_the_working_folder_comes_back(tmp_path: Path) -> None:
    person = tmp_path / "Håkan 張"
    model, cache = person / "data" / "models" / "starter", person / "cache" / "openvino-gpu"
    model.mkdir(parents=True)
    cache.mkdir(parents=True)
    assert not spelled(model, WESTERN) and spelled(model, "utf-8")
    before = os.getcwd()
    with loadable(model, WESTERN) as spell:
        assert Path(os.getcwd()) == model
        assert spell(model / "model.gguf") == "model.gguf"
        assert spell(model) == "."
        assert spell(cache) == os.path.join("..", "..", "..", "cache", "openvino-gpu")
        assert Path(spell(cache)).resolve() == cache.resolve()
    assert os.getcwd() == before


def test_the_working_folder_comes_back_when_the_load_fails(tmp_path: Path) -> None:
    folder = tmp_path / "張"
    folder.mkdir()
    before = os.getcwd()
    with pytest.raises(RuntimeError):
        with loadable(folder, WESTERN):
            raise RuntimeError("No Unicode translation.")
    assert os.getcwd() == before
