"""The settings window's Apps tab in the running agent: the real daemon on the session's bare X display
(helpers/daemon.py) with the scripted desktop and model host. A job in an app puts it on the tab's list; a
button there writes its [[apps]] entry to settings.toml, the person's comments kept, and the agent applies it
at once: the next hotkey in that app sends it nothing, and a profile made with a first action puts that
action first in the picker there."""

from __future__ import annotations

import time
import tkinter
import tomllib
from collections.abc import Callable
from pathlib import Path

import pytest

from phitray.desktop import WindowTraits
from phitray.host.scripted import ScriptedHost
from phitray.jobs.types import ActionJob, CaptureJob
from phitray.paths import Paths
from phitray.settings import load_settings
from phitray.ui.settings_apps import AppsSection

from helpers.daemon import private_paths, running_daemon
from helpers.desktop import DesktopSession, missing_tools

pytestmark = pytest.mark.skipif(bool(missing_tools()), reason=f"missing {missing_tools()}")

SETTINGS = """\
# Written by hand.
[engine]
chain = ["openvino-cpu"]   # no NPU here
model = "starter"
allow_pull = false
"""
GEDIT = WindowTraits(program="gedit", classes=("gedit", "gedit"), title="plans for the surprise party.txt")


def pump_until(root: tkinter.Tk, done: Callable[[], object], seconds: float = 10) -> None:
    deadline = time.monotonic() + seconds
    while not done() and time.monotonic() < deadline:
        root.update()
        time.sleep(0.02)
    assert done(), "not reached in time"


def test_an_app_from_the_list_is_turned_off_and_given_a_first_action(
    tk_display: DesktopSession, shared_paths: Paths, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    paths = private_paths(shared_paths, tmp_path, monkeypatch, tk_display)
    paths.settings_file.parent.mkdir(parents=True, exist_ok=True)
    paths.settings_file.write_text(SETTINGS, encoding="utf-8")
    host = ScriptedHost(lambda request: "Fix this.")
    with running_daemon(paths, load_settings(paths.settings_file).settings, host) as running:
        daemon, desktop = running.daemon, running.desktop
        root, jobs = daemon.root, daemon.jobs
        assert jobs is not None
        desktop.traits_of_editor = GEDIT

        def run(job: ActionJob | CaptureJob) -> None:
            before = jobs.last_record
            desktop.text, desktop.selection = "Fix thsi.", (0, 9)
            daemon.submit(job)
            pump_until(root, lambda: jobs.last_record is not before and not jobs.busy)

        run(ActionJob("hotkey", "proofread"))
        assert desktop.text == "Fix this." and jobs.last_record is not None and jobs.last_record.profile == ""

        daemon.settings_window.open()
        window = daemon.settings_window.window
        assert window is not None
        tab = next(section for section in window.sections if isinstance(section, AppsSection))
        window.notebook.select(window.sections.index(tab))
        rows = [(tab.table.item(row, "text"), *tab.table.item(row, "values")) for row in tab.table.get_children()]
        assert rows == [("gedit", "gedit", "-")]
        assert "surprise" not in repr(rows) + repr(tab.seen)  # a window's title is never kept

        tab.off_button.invoke()
        text = paths.settings_file.read_text(encoding="utf-8")
        assert text.startswith(SETTINGS)  # the person's lines and comments as they were
        assert tomllib.loads(text)["apps"] == [{"name": "gedit", "program": "gedit", "class": "gedit",
                                                "enabled": False}]
        assert [profile.name for profile in daemon.settings.apps] == ["gedit"]  # applied at once
        assert tab.table.item("0", "values")[1] == "gedit: off"

        desktop.steps.clear()
        run(ActionJob("hotkey", "proofread"))
        assert jobs.last_record is not None and (jobs.last_record.outcome, jobs.last_record.profile) == \
            ("AppOff", "gedit")
        assert desktop.steps == [] and desktop.text == "Fix thsi."

        tab.refresh()
        tab.first.set("translate")
        tab.make_button.invoke()
        entries = tomllib.loads(paths.settings_file.read_text(encoding="utf-8"))["apps"]
        assert entries == [{"name": "gedit", "program": "gedit", "class": "gedit", "enabled": True,
                            "picker_default": "translate"}]  # the same entry, changed: never a second one
        run(CaptureJob("hotkey"))
        pump_until(root, lambda: daemon.windows.picker is not None)
        picker = daemon.windows.picker
        assert picker is not None and picker.shown[0][0] == "translate", picker.shown[:2]
        picker.close()
        window.close()
