"""The tray's menu drawn by Tk for the agent's state, each entry's label with its width on screen; made in a
spawned child (helpers/tray_menus.py says why) and returned as plain data."""

from __future__ import annotations

import tkinter
import tkinter.font
from typing import Any

from helpers.tray_menus import _bold, _root, entries


def menu_widths(display: str, notes: tuple[str, ...]) -> list[tuple[str, int]]:
    """Every top-level entry's label and its width in pixels in the menu's font, for a ready agent with `notes`."""
    from phitray.app.view import AgentState, tray_view
    from phitray.ui.tray import Tray
    from phitray.ui.tray_menu import fill

    class Commands:
        def __getattr__(self, name: str) -> Any:
            return lambda *args: None

    root = _root(display)
    view = tray_view(AgentState(host="ready", host_status="openvino-cpu · CPU · starter", notes=notes,
                                actions=(("proofread", "Proofread"),)))
    tray = Tray(Commands(), view)  # type: ignore[arg-type]
    tk_menu = tkinter.Menu(root, tearoff=False)
    keep: list[object] = []
    fill(tk_menu, tray._icon.menu, type(tray._icon.menu).SEPARATOR, lambda item: None, keep, _bold(root))
    font = tkinter.font.nametofont("TkMenuFont", root=root)
    shown = [(entry["label"], font.measure(entry["label"])) for entry in entries(root, tk_menu) if "label" in entry]
    tray.stop()
    root.destroy()
    return shown
