"""The settings window's tabs built in a child process, for tests that read what a tab shows.

Tk keeps its connection to an X display until the process ends, and a test
desktop's X server stops with its test module: a Tk root in the pytest process
would end that process once a later test runs a Tk loop. So each of these runs
in a spawned child, and returns what the tab shows as plain data.
"""

from __future__ import annotations

import multiprocessing
import os
import time
import tkinter
from collections.abc import Callable
from typing import Any, TypeVar

from phitray.actions.model import Action
from phitray.cli.settings import FileOnly
from phitray.jobs.apps import SeenApp
from phitray.paths import Paths
from phitray.settings import Settings
from phitray.ui.settings_hotkeys import HotkeysSection, Slot
from phitray.ui.settings_model import ModelSection
from phitray.ui.settings_window import SettingsHost, SettingsWindow
from phitray.ui.uiqueue import UiQueue

T = TypeVar("T")


def in_child(function: Callable[..., T], *args: Any, timeout: float = 120) -> T:
    """`function(*args)` in a spawned process (not a pool's daemonic worker: the tab starts processes of its
    own); its result, or its exception raised here."""
    context = multiprocessing.get_context("spawn")
    ours, theirs = context.Pipe(duplex=False)
    child = context.Process(target=_run_and_send, args=(theirs, function, args))
    child.start()
    theirs.close()
    try:
        if not ours.poll(timeout):
            raise TimeoutError(f"{function.__name__} gave no answer within {timeout} s")
        failed, value = ours.recv()
    finally:
        child.join(10)
        if child.is_alive():
            child.kill()
    if failed:
        raise value
    return value  # type: ignore[no-any-return]


def _run_and_send(connection: Any, function: Callable[..., Any], args: tuple[Any, ...]) -> None:
    """The child's side of in_child."""
    try:
        connection.send((False, function(*args)))
    except BaseException as error:  # noqa: BLE001 - handed to the test to raise
        connection.send((True, error))


def _window(display: str, paths: Paths, host: SettingsHost) -> tuple[tkinter.Tk, SettingsWindow]:
    os.environ["DISPLAY"] = display
    root = tkinter.Tk()
    root.withdraw()
    return root, SettingsWindow(root, paths, host, UiQueue(root))


def model_tab(display: str, paths: Paths, hub: str) -> dict[str, Any]:
    """The Model tab's rows once the device survey and the download sizes are in."""
    os.environ["HF_ENDPOINT"] = hub
    root, window = _window(display, paths, FileOnly(paths.models_dir))
    tab = window.sections[1]
    assert isinstance(tab, ModelSection)
    deadline = time.monotonic() + 90
    while not (tab.decisions and tab.sizes):
        assert time.monotonic() < deadline, "the Model tab did not fill in"
        root.update()
        time.sleep(0.02)
    return {
        "chain": list(tab.chain.get(0, "end")),
        "installed": {tab.installed.item(i, "text"): list(tab.installed.item(i, "values"))
                      for i in tab.installed.get_children()},
        "catalog": [(tab.catalog.item(i, "text"), *tab.catalog.item(i, "values")) for i in tab.catalog.get_children()],
    }


class RefusingAgent:
    """Stands for the running agent: binds what it is given, except combos another program holds."""

    def __init__(self, taken: dict[str, str]) -> None:
        self.taken = taken
        self.applied: list[Settings] = []

    @property
    def live(self) -> bool:
        return True

    def apply_settings(self, settings: Settings) -> list[str]:
        self.applied.append(settings)
        combos = [settings.picker_hotkey, settings.cancel_hotkey, *settings.action_hotkeys.values()]
        return [f"{combo} {self.taken[combo]}" for combo in combos if combo in self.taken]

    def hold_hotkeys(self, held: bool) -> None:
        pass

    def actions_changed(self) -> None:
        pass

    def try_action(self, action: Action, text: str, file_text: str) -> str:
        return ""

    def model_status(self) -> str:
        return "ready"

    def recent_apps(self) -> tuple[SeenApp, ...]:
        return ()

    def start_download(self, model_id: str, backend_id: str, on_bytes: Callable[[int, int | None], None],
                       on_end: Callable[[bool, str], None]) -> Callable[[], None]:
        raise AssertionError("no download in these tests")


def record_hotkeys(display: str, paths: Paths, taken: dict[str, str],
                   steps: list[tuple[str, str, str, str]]) -> list[dict[str, str]]:
    """Each step (setting, action id, label, combo) as the Hotkeys tab's recorder hands it over; after
    each, what the slot says, the picker hotkey the agent was last given, and the file's text."""
    agent = RefusingAgent(taken)
    _, window = _window(display, paths, agent)
    tab = window.sections[0]
    assert isinstance(tab, HotkeysSection)
    seen = []
    for setting, action_id, label, combo in steps:
        slot = Slot(setting, action_id, label)
        tab.recorded(slot, combo)
        seen.append({"message": str(tab.messages[slot].cget("text")), "shown": tab.recorders[slot].combo,
                     "agent_picker": agent.applied[-1].picker_hotkey if agent.applied else "",
                     "file": paths.settings_file.read_text(encoding="utf-8")})
    return seen


def download_in_model_tab(display: str, paths: Paths, hub: str, row: str, cancel_at: float | None,
                          host: SettingsHost | None = None) -> dict[str, Any]:
    """Download the catalog row `row` ("model-id backend-id") with the tab's Download button; with
    `cancel_at` (a fraction), press Cancel download once the bar passes it. What the bar and its line
    showed, and the tab's last line."""
    os.environ["HF_ENDPOINT"] = hub
    root, window = _window(display, paths, host or FileOnly(paths.models_dir))
    tab = window.sections[1]
    assert isinstance(tab, ModelSection)
    tab.catalog.selection_set(row)
    tab.download_button.invoke()
    values: list[float] = []
    lines: list[str] = []
    deadline = time.monotonic() + 90
    while tab.download is not None:
        assert time.monotonic() < deadline, "the download did not end"
        root.update()
        value, line = float(tab.progress.cget("value")), str(tab.progress_text.cget("text"))
        if not values or (value, line) != (values[-1], lines[-1]):
            values.append(value)
            lines.append(line)
        if cancel_at is not None and value >= 1000 * cancel_at and str(tab.cancel_button.cget("state")) == "normal":
            tab.cancel_button.invoke()
            cancel_at = None
        time.sleep(0.02)
    root.update()
    return {"values": values, "lines": lines, "outcome": str(tab.progress_text.cget("text")),
            "installed": list(tab.installed.get_children()),
            "download_enabled": str(tab.download_button.cget("state")) == "normal"}


def choose_in_tabs(display: str, paths: Paths, action_id: str, output: str, language: str) -> dict[str, Any]:
    """The Actions tab's output for `action_id` and the General tab's translate language, chosen as the
    person does (the action chosen in the list, the output picked, the language typed and saved as Enter saves it)."""
    from phitray.ui.settings_actions import ActionsSection
    from phitray.ui.settings_general import GeneralSection

    root, window = _window(display, paths, FileOnly(paths.models_dir))
    actions, general = window.sections[2], window.sections[3]
    assert isinstance(actions, ActionsSection) and isinstance(general, GeneralSection)
    actions.table.selection_set(action_id)
    root.update()
    actions.output.set(output)
    actions.output.event_generate("<<ComboboxSelected>>")
    window.notebook.select(3)
    root.update()
    general.language.delete(0, "end")
    general.language.insert(0, language)
    # What Enter in the field runs; the focus is the window's own (a key sent here would go to it).
    general.save_language()
    root.update()
    return {"row": list(actions.table.item(action_id, "values")), "note": str(general.language_note.cget("text")),
            "file": paths.settings_file.read_text(encoding="utf-8")}


def keep_history_in_general_tab(display: str, paths: Paths) -> dict[str, Any]:
    """The General tab's "Keep recent results…" box, ticked as a click ticks it; then what the file says."""
    from phitray.ui.settings_general import GeneralSection

    root, window = _window(display, paths, FileOnly(paths.models_dir))
    general = window.sections[3]
    assert isinstance(general, GeneralSection)
    window.notebook.select(3)
    root.update()
    before = bool(general.history_button.instate(["selected"]))
    general.history_button.invoke()
    root.update()
    return {"before": before, "label": str(general.history_button.cget("text")),
            "file": paths.settings_file.read_text(encoding="utf-8")}
