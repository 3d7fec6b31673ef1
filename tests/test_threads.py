"""No hotkey or tray callback waits for the Tk thread (structural, at the daemon's own seams).

The daemon runs for real on a private X display — its Tk root, UI queue, job
engine, host controller and hotkey table — with a scripted desktop and a
stand-in tray that records what it is shown. The Tk thread is kept busy (as a
slow clipboard read would keep it) until every hotkey callback and every tray
command has returned on another thread; a callback that waited for Tk would
never return, and the busy Tk thread gives up after a minute. Both ways of
waking Tk are covered: the POSIX pipe and the waker thread Windows uses.
"""

from __future__ import annotations

import multiprocessing
import threading
import tkinter
from collections.abc import Iterator
from dataclasses import replace
from pathlib import Path

import pytest

from phitray.app.bindings import hotkey_callbacks, hotkey_table
from phitray.app.daemon import Daemon
from phitray.desktop.instance import InstanceLock, instance_address
from phitray.paths import Paths
from phitray.settings import LoadedSettings, Settings
from phitray.ui.tray import TrayView

from helpers.desktop import DesktopSession, start_session
from helpers.scripted import ScriptedDesktop

TRAY_COMMANDS = [
    ("run_on_clipboard", ("proofread",)), ("open_picker", ()), ("cancel", ()), ("undo", ()),
    ("choose_backend", ("onnx-cpu",)), ("choose_model", ("tiny-phi3",)), ("toggle_pause", ()),
    ("toggle_autostart", ()), ("reload_actions", ()), ("quit", ()),
]


class RecordingTray:
    """Stands in for `ui.tray.Tray` (our own class; pystray is covered end to end in test_desktop)."""

    def __init__(self) -> None:
        self.visible = threading.Event()
        self.shown_at = 0.0
        self.views: list[TrayView] = []
        self.notices: list[str] = []

    def attach(self, commands: object, view: TrayView, call_soon: object = None, root: object = None) -> None:
        self.views.append(view)

    def show(self, view: TrayView) -> None:
        self.views.append(view)

    def notify(self, message: str, title: str = "Phi Tray") -> None:
        self.notices.append(message)

    def stop(self) -> None:
        pass


@pytest.fixture(scope="module")
def display(tmp_path_factory: pytest.TempPathFactory) -> Iterator[DesktopSession]:
    session = start_session(tmp_path_factory.mktemp("display"), tray=False)
    yield session
    session.stop()


@pytest.mark.parametrize("wake", ["pipe", "waker"])
def test_hotkey_and_tray_callbacks_return_while_the_tk_thread_is_busy(
    display: DesktopSession, shared_paths: Paths, tmp_path: Path, monkeypatch: pytest.MonkeyPatch, wake: str
) -> None:
    for name in ("DISPLAY", "DBUS_SESSION_BUS_ADDRESS"):
        monkeypatch.setenv(name, display.env[name])
    monkeypatch.setenv("XDG_CONFIG_HOME", str(tmp_path / "xdg"))  # start on login is toggled for real
    monkeypatch.setenv("XDG_RUNTIME_DIR", str(tmp_path / "runtime"))
    (tmp_path / "runtime").mkdir(mode=0o700)
    paths = replace(shared_paths, config_dir=tmp_path / "config", log_dir=tmp_path / "log", cache_dir=tmp_path / "cache")
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
            getattr(daemon, name)(*args)
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
    assert not [p for p in multiprocessing.active_children() if p.name == "phitray-model-host"]
