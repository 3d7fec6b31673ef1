"""The Tk rendering of a pystray menu (ui/tray_menu.py), on a real X server: each pystray feature the
tray's menu uses becomes the Tk entry a person sees, and choosing it calls the pystray item. Tk runs in
a spawned child (helpers/tray_menus.py says why)."""

from __future__ import annotations

from collections.abc import Iterator

import pytest

from helpers.desktop import DesktopSession, start_session
from helpers.settings_tabs import in_child
from helpers.tray_menus import recent_menu, sample_menu, tray_menu


@pytest.fixture(scope="module")
def display(tmp_path_factory: pytest.TempPathFactory) -> Iterator[DesktopSession]:
    session = start_session(tmp_path_factory.mktemp("display"), tray=False)
    yield session
    session.stop()


def test_each_pystray_feature_becomes_its_tk_entry_and_choosing_calls_the_item(display: DesktopSession) -> None:
    shown = in_child(sample_menu, display.display)
    assert shown["entries"] == [
        {"type": "command", "label": "Status 7", "state": "disabled", "bold": False},
        {"type": "separator"},
        {"type": "command", "label": "Default", "state": "normal", "bold": True},
        {"type": "checkbutton", "label": "Toggle", "state": "normal", "bold": False, "on": True},
        {"type": "cascade", "label": "Mode", "state": "normal", "bold": False, "submenu": [
            {"type": "radiobutton", "label": mode, "state": "normal", "bold": False, "on": mode == "b"}
            for mode in ("a", "b", "c")]},
    ]
    assert shown["called"] == [("the icon", "c")]


def test_the_tray_menu_shows_the_backend_choice_and_start_on_login(display: DesktopSession) -> None:
    """The tray's own menu definition: radio and check entries follow the view."""
    shown = {entry.get("label"): entry for entry in in_child(tray_menu, display.display)}
    assert shown["Pick an action…"]["bold"]
    assert shown["Start on login"]["type"] == "checkbutton" and shown["Start on login"]["on"]
    assert shown["Pause hotkeys"]["type"] == "checkbutton" and not shown["Pause hotkeys"]["on"]
    backends = {entry["label"]: entry["on"] for entry in shown["Backend"]["submenu"]}
    assert backends == {"Automatic (best available)": False, "openvino-gpu": False, "openvino-cpu": True}
    assert [entry["label"] for entry in shown["Run on clipboard text"]["submenu"]] == ["Proofread"]


def test_recent_lists_the_last_results_each_with_its_four_choices(display: DesktopSession) -> None:
    shown = in_child(recent_menu, display.display)
    recent = {entry.get("label"): entry for entry in shown["entries"]}["Recent"]
    assert recent["state"] == "normal"
    assert [entry["label"] for entry in recent["submenu"]] == ["Proofread: i has went to the shop", "Translate: Hallo"]
    assert [entry["label"] for entry in recent["submenu"][0]["submenu"]] == \
        ["Copy the answer", "Copy the original", "Put the original back", "Another version"]
    assert [call for call in shown["called"] if call[0] == "use_recent"] == [("use_recent", (7, "put-back"))]
