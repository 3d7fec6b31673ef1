"""No hotkey or tray callback waits for the Tk thread (structural, at the daemon's own seams).

The daemon runs for real on a private X display — its Tk root, UI queue, job
engine, host controller and hotkey table — with a scripted desktop and a
stand-in tray that records what it is shown. The Tk thread is kept busy (as a
slow clipboard read would keep it) until every hotkey callback and every tray
command has returned on another thread; a callback that waited for Tk would
never return, and the busy Tk thread gives up after a minute. Both ways of
waking Tk are covered: the POSIX pipe and the waker thread Windows uses.

The same daemon shows that `Daemon.apply`, the one writer of the agent's
settings and actions, does only what changed: the scripted desktop's hotkeys
record each binding, and the host controller's `switch` is recorded instead
of starting model hosts.
"""

from __future__ import annotations

import multiprocessing
import threading
import tkinter
from collections.abc import Iterator
from dataclasses import replace
from pathlib import Path

import pytest

from phitray.actions.library import ActionSet
from phitray.app.bindings import hotkey_callbacks, hotkey_table
from phitray.app.daemon import Daemon
from phitray.backends.chain import ChainOptions
from phitray.desktop.instance import InstanceLock, instance_address
from phitray.errors import ConfigError
from phitray.host.standby import NAME as STANDBY
from phitray.paths import Paths
from phitray.settings import LoadedSettings, Settings

from helpers.desktop import DesktopSession
from helpers.daemon import RecordingTray, private_paths, running_daemon
from helpers.scripted import ScriptedDesktop

TRAY_COMMANDS = [
    ("run_on_clipboard", ("proofread",)), ("open_picker", ()), ("cancel", ()), ("undo", ()),
    ("choose_backend", ("onnx-cpu",)), ("choose_model", ("tiny-phi3",)), ("toggle_pause", ()),
    ("toggle_autostart", ()), ("reload_actions", ()), ("quit", ()),
]


@pytest.mark.parametrize("wake", ["pipe", "waker"])
def test_hotkey_and_tray_callbacks_return_while_the_tk_thread_is_busy(
    tk_display: DesktopSession, shared_paths: Paths, tmp_path: Path, monkeypatch: pytest.MonkeyPatch, wake: str
) -> None:
    paths = private_paths(shared_paths, tmp_path, monkeypatch, tk_display)  # start on login is toggled for real
    settings = Settings(chain=("openvino-cpu",), model_id="starter", allow_pull=False,
                        action_hotkeys={"proofread": "ctrl+alt+p"})
    lock = InstanceLock(instance_address(paths))
    assert lock.acquire()
    root = tkinter.Tk()
    root.withdraw()
    tray = RecordingTray()
    daemon = Daemon(paths, LoadedSettings(settings, ()), lock, root, tray, ScriptedDesktop().desktop(),  # type: ignore[arg-type]
                    wake=wake)  # type: ignore[arg-type]
    assert daemon.ui.wake == wake
    daemon.start()
    assert daemon.jobs is not None
    returned: list[str] = []
    all_returned = threading.Event()
    while_busy: list[bool] = []

    def press_everything() -> None:
        """The hotkey listener's and the tray's part, on a thread of their own."""
        bindings, problems = hotkey_table(settings, daemon.actions)
        assert not problems and len(bindings) == 3
        for combo, callback in hotkey_callbacks(bindings, daemon.jobs).items():  # type: ignore[arg-type]
            callback()
            returned.append(str(combo))
        for name, args in TRAY_COMMANDS:
            getattr(daemon.commands, name)(*args)
            returned.append(name)
        all_returned.set()

    def busy() -> None:
        """The Tk thread, busy until every callback has returned (or a minute has passed)."""
        threading.Thread(target=press_everything, name="hotkeys-and-tray", daemon=True).start()
        while_busy.append(all_returned.wait(60))

    root.after(0, busy)
    root.mainloop()  # ends when the queued quit runs, once the Tk thread is free again
    root.destroy()
    assert while_busy == [True], f"a callback waited for the busy Tk thread; returned before it: {returned}"
    # What was queued ran afterwards, in order, on the Tk thread: the last view is paused on the new model.
    assert tray.views[-1].paused and tray.views[-1].model_id == "tiny-phi3"
    assert not [p for p in multiprocessing.active_children() if p.name in ("phitray-model-host", STANDBY)]


# --- Daemon.apply ---------------------------------------------------------------------

SETTINGS = Settings(chain=("openvino-cpu",), model_id="starter", allow_pull=False)


@pytest.fixture
def agent(tk_display: DesktopSession, shared_paths: Paths, tmp_path: Path,
          monkeypatch: pytest.MonkeyPatch) -> Iterator[tuple[Daemon, ScriptedDesktop, RecordingTray, list[ChainOptions]]]:
    with running_daemon(private_paths(shared_paths, tmp_path, monkeypatch, tk_display), SETTINGS) as running:
        yield running.daemon, running.desktop, running.tray, running.switches


def test_a_change_that_touches_no_hotkey_and_no_model_binds_nothing_and_switches_nothing(agent) -> None:  # type: ignore[no-untyped-def]
    daemon, desktop, tray, switches = agent
    assert len(desktop.hotkey_starts) == 1 and len(switches) == 1  # the start's own
    assert daemon.apply(new_settings=SETTINGS) == []
    daemon.apply(new_settings=replace(SETTINGS, translate_language="German", review_before_replace=True))
    assert len(desktop.hotkey_starts) == 1 and len(switches) == 1
    assert daemon.jobs is not None and daemon.jobs.config.review_before_replace
    assert daemon.jobs.config.placeholder_defaults["translate"]["language"] == "German"


def test_a_changed_combo_binds_the_hotkeys_again_and_redraws_the_tray(agent) -> None:  # type: ignore[no-untyped-def]
    daemon, desktop, tray, switches = agent
    daemon.apply(new_settings=replace(SETTINGS, picker_hotkey="ctrl+alt+j"))
    assert len(desktop.hotkey_starts) == 2, desktop.hotkey_starts
    assert desktop.hotkey_starts[-1] != desktop.hotkey_starts[0] and any("j" in c for c in desktop.hotkey_starts[-1])
    assert tray.views[-1].picker_hotkey == "ctrl+alt+j"
    assert len(switches) == 1


@pytest.mark.parametrize("change", [{"prompt_lookup": False}, {"model_id": "tiny-phi3"},
                                    {"chain": ("onnx-cpu",)}, {"draft_model": "starter"}])
def test_a_changed_backend_model_or_decoding_switches_the_host_once(agent, change: dict[str, object]) -> None:  # type: ignore[no-untyped-def]
    daemon, desktop, tray, switches = agent
    daemon.apply(new_settings=replace(SETTINGS, **change))  # type: ignore[arg-type]
    assert len(switches) == 2 and len(desktop.hotkey_starts) == 1
    daemon.apply(new_settings=replace(SETTINGS, **change))  # type: ignore[arg-type]
    assert len(switches) == 2, "the same settings again switched the host again"


def test_new_actions_bind_a_new_hotkey_and_keep_their_problems_only_when_asked(agent) -> None:  # type: ignore[no-untyped-def]
    daemon, desktop, tray, switches = agent
    actions = daemon.actions
    proofread = replace(actions.get("proofread"), hotkey="ctrl+alt+p")
    problem = ConfigError("bad.toml: title: is empty")
    daemon.problems.clear()
    daemon.apply(new_actions=ActionSet({**actions.actions, "proofread": proofread}, (problem,)), report=False)
    assert len(desktop.hotkey_starts) == 2 and daemon.problems == []
    daemon.apply(new_actions=ActionSet({**actions.actions, "proofread": proofread}, (problem,)))
    assert len(desktop.hotkey_starts) == 2 and daemon.problems == [problem]
    assert len(switches) == 1
