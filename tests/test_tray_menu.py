"""The Tk rendering of a pystray menu (ui/tray_menu.py), on a real X server: each pystray feature the
tray's menu uses becomes the Tk entry a person sees, and choosing it calls the pystray item."""

from __future__ import annotations

import gc
import tkinter
from collections.abc import Iterator
from typing import Any

import pytest

from phitray.ui.tray_menu import fill

from helpers.desktop import DesktopSession, start_session


@pytest.fixture(scope="module")
def display(tmp_path_factory: pytest.TempPathFactory) -> Iterator[DesktopSession]:
    session = start_session(tmp_path_factory.mktemp("display"), tray=False)
    yield session
    gc.collect()  # a pystray icon closes its X connection when collected: before its X server goes
    session.stop()


@pytest.fixture
def root(display: DesktopSession, monkeypatch: pytest.MonkeyPatch) -> Iterator[tkinter.Tk]:
    monkeypatch.setenv("DISPLAY", display.display)
    monkeypatch.setenv("PYSTRAY_BACKEND", "xorg")  # pystray picks a backend (and opens the display) on import
    window = tkinter.Tk(screenName=display.display)
    window.withdraw()
    yield window
    window.destroy()


def test_each_pystray_feature_becomes_its_tk_entry_and_choosing_calls_the_item(root: tkinter.Tk) -> None:
    import pystray

    Item, Menu = pystray.MenuItem, pystray.Menu
    state = {"mode": "b", "on": True, "count": 0}
    called: list[tuple[Any, str]] = []

    def record(icon: Any, item: Any) -> None:
        called.append((icon, str(item)))

    menu = Menu(
        Item(lambda item: f"Status {state['count']}", None, enabled=False),
        Menu.SEPARATOR,
        Menu.SEPARATOR,  # pystray folds the two into one
        Item("Default", record, default=True),
        Item("Toggle", record, checked=lambda item: bool(state["on"])),
        Item("Mode", Menu(*(Item(mode, record, checked=lambda item, m=mode: state["mode"] == m, radio=True)
                            for mode in ("a", "b", "c")))),
        Item("Hidden", record, visible=False),
        Menu.SEPARATOR,
    )
    tk_menu = tkinter.Menu(root, tearoff=False)
    keep: list[object] = []
    chosen: list[Any] = []
    bold = tkinter.font.Font(root=root, weight="bold")
    fill(tk_menu, menu, Menu.SEPARATOR, chosen.append, keep, bold)

    entries = [(tk_menu.type(i), tk_menu.entrycget(i, "label") if tk_menu.type(i) != "separator" else "")
               for i in range(int(tk_menu.index("end")) + 1)]
    assert entries == [("command", "Status 0"), ("separator", ""), ("command", "Default"),
                       ("checkbutton", "Toggle"), ("cascade", "Mode")]
    assert str(tk_menu.entrycget(0, "state")) == "disabled"
    assert str(tk_menu.entrycget(2, "state")) == "normal"
    assert str(tk_menu.entrycget(2, "font")) == str(bold)
    assert root.getvar(str(tk_menu.entrycget(3, "variable"))) in (True, 1)

    submenu = root.nametowidget(str(tk_menu.entrycget(4, "menu")))
    assert [submenu.type(i) for i in range(3)] == ["radiobutton"] * 3
    selected = [root.getvar(str(submenu.entrycget(i, "variable"))) == str(submenu.entrycget(i, "value"))
                for i in range(3)]
    assert selected == [False, True, False]

    # Choosing an entry hands over the pystray item; called as pystray calls it, its action gets (icon, item).
    submenu.invoke(2)
    assert len(chosen) == 1 and chosen[0].text == "c"
    chosen[0]("the icon")
    assert called == [("the icon", "c")]


def test_the_tray_menu_shows_the_backend_choice_and_start_on_login(root: tkinter.Tk, display: DesktopSession) -> None:
    """The tray's own menu definition: radio and check entries follow the view."""
    from phitray.ui.tray import Tray, TrayView

    class Commands:
        def __getattr__(self, name: str) -> Any:
            return lambda *args: None

    view = TrayView("ready", "Ready", actions=(("proofread", "Proofread"),), autostart=True,
                    backend_choice="openvino-cpu", backends=("openvino-gpu", "openvino-cpu"), models=("starter",),
                    model_id="starter")
    tray = Tray(Commands(), view)  # type: ignore[arg-type]
    try:
        tk_menu = tkinter.Menu(root, tearoff=False)
        keep: list[object] = []
        fill(tk_menu, tray._icon.menu, type(tray._icon.menu).SEPARATOR, lambda item: None, keep)
        labels = {str(tk_menu.entrycget(i, "label")): i for i in range(int(tk_menu.index("end")) + 1)
                  if tk_menu.type(i) != "separator"}
        login = labels["Start on login"]
        assert tk_menu.type(login) == "checkbutton"
        assert root.getvar(str(tk_menu.entrycget(login, "variable"))) in (True, 1)
        backends = root.nametowidget(str(tk_menu.entrycget(labels["Backend"], "menu")))
        on = [str(backends.entrycget(i, "label")) for i in range(int(backends.index("end")) + 1)
              if root.getvar(str(backends.entrycget(i, "variable"))) == str(backends.entrycget(i, "value"))]
        assert on == ["openvino-cpu"]
    finally:
        tray.stop()
