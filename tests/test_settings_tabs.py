"""What the settings window's tabs show and decide, in a real Tk on the test desktop (in a child
process: helpers/settings_tabs.py says why).

The Model tab lists the chain with what `devices` finds for each backend, the installed models with
their sizes, and the catalog's models with the download size the hub lists. The Hotkeys tab names a
combo the desktop refuses (another program holds it; on Windows, one that types a character on the
layout) and puts the old combo back, in the file and in the agent. A person cannot press such a combo
into the window (the program holding it takes the key first), so the tab is handed the combo the
recorder would have spelt."""

from __future__ import annotations

from dataclasses import replace
from pathlib import Path

import pytest

from phitray.backends.catalog import CATALOG, DEFAULT_MODEL, HubSource
from phitray.paths import Paths
from phitray.settings import load_settings

from helpers.desktop import DesktopSession
from helpers.fake_hub import FakeHub, repo_of_folder
from helpers.settings_tabs import choose_in_tabs, download_in_model_tab, in_child, model_tab, record_hotkeys

PHI3_CPU = CATALOG[DEFAULT_MODEL].sources["openvino-cpu"]
HOTKEYS = '# mine\n[hotkeys]\npicker = "ctrl+alt+space"  # the default, written out\n'


def test_the_model_tab_shows_the_chain_the_installed_models_and_what_can_be_downloaded(
    session: DesktopSession, shared_paths: Paths, tmp_path: Path
) -> None:
    paths = replace(shared_paths, config_dir=tmp_path / "config")
    paths.config_dir.mkdir()
    paths.settings_file.write_text('[engine]\nchain = ["openvino-cpu", "openvino-gpu"]\nmodel = "starter"\n')
    assert isinstance(PHI3_CPU, HubSource)
    with FakeHub({PHI3_CPU.repo_id: {"openvino_model.bin": b"w" * 3_000_000, "config.json": b"{}"}}) as hub:
        shown = in_child(model_tab, session.display, paths, hub.url)
    chain = shown["chain"]
    assert chain[0].startswith("1. openvino-cpu — chosen:") and "starter installed" in chain[0], chain
    assert chain[1].startswith("2. openvino-gpu — "), chain
    assert all(row.startswith("not used:") for row in chain[2:]) and len(chain) == 6, chain
    backends, size = shown["installed"]["starter (in use)"]
    assert "openvino-cpu" in backends and size.endswith(" MB"), shown["installed"]
    sizes = {(title, backend): size for title, backend, size in shown["catalog"]}
    phi3 = CATALOG[DEFAULT_MODEL].title
    assert sizes[(phi3, "openvino-cpu")] == "3.0 MB", sizes  # the hub's sizes of the repository's files
    assert sizes[(phi3, "directml")] == "size unknown", sizes  # a repository this hub does not have
    assert {backend for title, backend in sizes if title == phi3} == set(CATALOG[DEFAULT_MODEL].sources)


def test_a_download_from_the_model_tab_shows_its_progress_and_a_cancelled_one_leaves_nothing(
    session: DesktopSession, tiny_phi3: Path, tmp_path: Path
) -> None:
    paths = Paths(config_dir=tmp_path / "config", data_dir=tmp_path / "data", cache_dir=tmp_path / "cache",
                  log_dir=tmp_path / "log")
    paths.config_dir.mkdir()
    assert isinstance(PHI3_CPU, HubSource)
    repo = repo_of_folder(tiny_phi3 / "openvino-int4", extra={"padding.bin": bytes(4_000_000)})
    row = f"{DEFAULT_MODEL} openvino-cpu"
    with FakeHub({PHI3_CPU.repo_id: repo}) as hub:
        hub.bytes_per_second = 2_000_000
        cancelled = in_child(download_in_model_tab, session.display, paths, hub.url, row, 0.3)
        assert "cancel" in cancelled["outcome"].lower(), cancelled["outcome"]
        assert cancelled["installed"] == [] and cancelled["download_enabled"]
        assert not (paths.models_dir / DEFAULT_MODEL).exists() or not any(
            (paths.models_dir / DEFAULT_MODEL).rglob("*.xml")), "a cancelled download left files"
        done = in_child(download_in_model_tab, session.display, paths, hub.url, row, None)
    assert done["outcome"] == f"{DEFAULT_MODEL} for openvino-cpu is installed.", done
    assert done["installed"] == [DEFAULT_MODEL]
    moving = sorted(set(done["values"]))
    assert len(moving) >= 3 and moving[-1] == 1000, done["values"]  # the bar moved, then filled
    assert any(line.endswith("MB/s") and " of " in line for line in done["lines"]), done["lines"]


@pytest.fixture
def paths(tmp_path: Path) -> Paths:
    paths = Paths(config_dir=tmp_path / "config", data_dir=tmp_path / "data", cache_dir=tmp_path / "cache",
                  log_dir=tmp_path / "log")
    paths.config_dir.mkdir()
    paths.settings_file.write_text(HOTKEYS, encoding="utf-8")
    return paths


def test_a_combo_the_desktop_refuses_is_named_and_the_old_one_kept(session: DesktopSession, paths: Paths) -> None:
    taken = {"ctrl+alt+h": "is already taken by another program",
             "ctrl+alt+z": "types 'ż' on this keyboard layout (AltGr)"}
    picker = ("hotkeys.picker", "", "the picker")
    seen = in_child(record_hotkeys, session.display, paths, taken,
                    [(*picker, "ctrl+alt+h"), (*picker, "ctrl+alt+z"), (*picker, "ctrl+alt+j")])
    for step, reason in zip(seen, ("taken by another program", "on this keyboard layout")):
        assert reason in step["message"] and "Kept ctrl+alt+space" in step["message"], step["message"]
        assert step["agent_picker"] == "ctrl+alt+space", "the agent was left on the refused combo"
        assert step["file"] == HOTKEYS and step["shown"] == "ctrl+alt+space"
    assert (seen[2]["message"], seen[2]["shown"]) == ("Works now.", "ctrl+alt+j")
    assert load_settings(paths.settings_file).settings.picker_hotkey == "ctrl+alt+j"
    assert "# the default, written out" in paths.settings_file.read_text(encoding="utf-8")


def test_an_actions_hotkey_set_then_cleared_leaves_no_entry(session: DesktopSession, paths: Paths) -> None:
    proofread = ("hotkeys.actions", "proofread", "Proofread")
    seen = in_child(record_hotkeys, session.display, paths, {}, [(*proofread, "ctrl+alt+q"), (*proofread, "")])
    assert seen[0]["shown"] == "ctrl+alt+q" and 'proofread = "ctrl+alt+q"' in seen[0]["file"]
    assert (seen[1]["message"], seen[1]["shown"]) == ("No hotkey.", "")
    assert load_settings(paths.settings_file).settings.action_hotkeys == {}


def test_an_actions_output_and_the_translate_language_chosen_in_their_tabs_are_written(
    session: DesktopSession, paths: Paths
) -> None:
    shown = in_child(choose_in_tabs, session.display, paths, "summarize", "clipboard", "Deutsch")
    assert shown["row"][0] == "clipboard", shown["row"]
    assert shown["note"] == "Saved.", shown["note"]
    settings = load_settings(paths.settings_file).settings
    assert (settings.action_outputs, settings.translate_language) == ({"summarize": "clipboard"}, "Deutsch")
    assert shown["file"].startswith(HOTKEYS), "the hand-written part changed"

