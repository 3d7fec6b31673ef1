"""Tk renderings of pystray menus (ui/tray_menu.py), made in a spawned child and returned as plain data.

Tk keeps its X connection until the process ends, and a test desktop's X server
stops with its module: a Tk root in the pytest process would end it at a later
Tk loop (helpers/settings_tabs.py, whose `in_child` runs these).
"""

from __future__ import annotations

import os
import tkinter
import tkinter.font
from typing import Any


def _root(display: str) -> tkinter.Tk:
    os.environ["DISPLAY"] = display
    os.environ["PYSTRAY_BACKEND"] = "xorg"  # pystray picks a backend (and opens the display) on import
    root = tkinter.Tk()
    root.withdraw()
    return root


def _bold(root: tkinter.Misc) -> tkinter.font.Font:
    bold = tkinter.font.nametofont("TkMenuFont", root=root).copy()
    bold.configure(weight="bold")
    return bold


def entries(root: tkinter.Misc, menu: tkinter.Menu) -> list[dict[str, Any]]:
    """What a person sees of each entry, submenus inline."""
    shown: list[dict[str, Any]] = []
    last = menu.index("end")
    for index in range(int(last) + 1 if last is not None else 0):
        kind = menu.type(index)
        if kind == "separator":
            shown.append({"type": kind})
            continue
        entry: dict[str, Any] = {"type": kind, "label": str(menu.entrycget(index, "label")),
                                 "state": str(menu.entrycget(index, "state")),
                                 "bold": "bold" in str(menu.tk.call("font", "actual", menu.entrycget(index, "font") or "TkMenuFont"))}
        if kind in ("checkbutton", "radiobutton"):
            on_value = str(menu.entrycget(index, "onvalue" if kind == "checkbutton" else "value"))
            entry["on"] = str(root.getvar(str(menu.entrycget(index, "variable")))) in (on_value, "1", "True")
        if kind == "cascade":
            entry["submenu"] = entries(root, root.nametowidget(str(menu.entrycget(index, "menu"))))
        shown.append(entry)
    return shown


def sample_menu(display: str) -> dict[str, Any]:
    """A menu with every pystray feature the tray uses; then the radio entry "c" chosen as Tk chooses it."""
    root = _root(display)
    import pystray

    from phitray.ui.tray_menu import fill

    Item, Menu = pystray.MenuItem, pystray.Menu
    called: list[tuple[str, str]] = []

    def record(icon: Any, item: Any) -> None:
        called.append((str(icon), str(item)))

    menu = Menu(
        Item(lambda item: "Status 7", None, enabled=False),
        Menu.SEPARATOR,
        Menu.SEPARATOR,  # pystray folds the two into one
        Item("Default", record, default=True),
        Item("Toggle", record, checked=lambda item: True),
        Item("Mode", Menu(*(Item(mode, record, checked=lambda item, m=mode: m == "b", radio=True)
                            for mode in ("a", "b", "c")))),
        Item("Hidden", record, visible=False),
        Menu.SEPARATOR,
    )
    tk_menu = tkinter.Menu(root, tearoff=False)
    keep: list[object] = []
    chosen: list[Any] = []
    fill(tk_menu, menu, Menu.SEPARATOR, chosen.append, keep, _bold(root))
    shown = entries(root, tk_menu)
    root.nametowidget(str(tk_menu.entrycget(4, "menu"))).invoke(2)
    for item in chosen:
        item("the icon")  # as pystray calls an item: its action gets (icon, item)
    root.destroy()
    return {"entries": shown, "called": called}


def tray_menu(display: str) -> list[dict[str, Any]]:
    """The tray's own menu for a view with a backend chosen and start on login on."""
    from phitray.ui.tray import Tray, TrayView
    from phitray.ui.tray_menu import fill

    class Commands:
        def __getattr__(self, name: str) -> Any:
            return lambda *args: None

    root = _root(display)
    view = TrayView("ready", "Ready", actions=(("proofread", "Proofread"),), autostart=True,
                    backend_choice="openvino-cpu", backends=("openvino-gpu", "openvino-cpu"), models=("starter",),
                    model_id="starter")
    tray = Tray(Commands(), view)  # type: ignore[arg-type]
    tk_menu = tkinter.Menu(root, tearoff=False)
    keep: list[object] = []
    fill(tk_menu, tray._icon.menu, type(tray._icon.menu).SEPARATOR, lambda item: None, keep, _bold(root))
    shown = entries(root, tk_menu)
    tray.stop()
    root.destroy()
    return shown


def recent_menu(display: str) -> dict[str, Any]:
    """The tray's menu for a view with two recent results; then the newest one's "Put the original back"
    chosen as Tk chooses it. Returns what the menu shows and the commands the choice called."""
    from phitray.ui.tray import Tray, TrayView
    from phitray.ui.tray_menu import fill

    called: list[tuple[str, tuple[Any, ...]]] = []

    class Commands:
        def __getattr__(self, name: str) -> Any:
            return lambda *args: called.append((name, args))

    root = _root(display)
    view = TrayView("ready", "Ready", recent=((7, "Proofread: i has went to the shop"), (6, "Translate: Hallo")))
    tray = Tray(Commands(), view)  # type: ignore[arg-type]
    tk_menu = tkinter.Menu(root, tearoff=False)
    keep: list[object] = []
    chosen: list[Any] = []
    fill(tk_menu, tray._icon.menu, type(tray._icon.menu).SEPARATOR, chosen.append, keep, _bold(root))
    shown = entries(root, tk_menu)
    recent = root.nametowidget(str(tk_menu.entrycget(tk_menu.index("Recent"), "menu")))
    newest = root.nametowidget(str(recent.entrycget(0, "menu")))
    newest.invoke(newest.index("Put the original back"))
    for item in chosen:
        item("the icon")
    tray.stop()
    root.destroy()
    return {"entries": shown, "called": called}
