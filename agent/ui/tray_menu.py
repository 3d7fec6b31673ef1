"""The tray's menu drawn by Tk, from the same pystray `Menu` that pystray draws on Windows.

On Linux the tray icon is pystray's xorg backend, which has no menu; a click on
it posts this one at the pointer. There is one menu definition (`Tray._items`):
the entries are read from pystray's items when the menu is posted — callable
text, enabled, checked and radio, submenus, separators, the default item in
bold — and choosing an entry calls the pystray item as pystray would, so its
action gets (icon, item).

Everything here runs on the Tk thread.
"""

from __future__ import annotations

import logging
import tkinter
import tkinter.font
from collections.abc import Callable, Iterable
from typing import Any, Literal

from phitray.desktop import Focus

log = logging.getLogger(__name__)

Invoke = Callable[[Any], None]  # called with the chosen pystray MenuItem
RecentChoice = Literal["copy-answer", "copy-original", "put-back", "another"]
RECENT_CHOICES: tuple[tuple[RecentChoice, str], ...] = (
    ("copy-answer", "Copy the answer"), ("copy-original", "Copy the original"),
    ("put-back", "Put the original back"), ("another", "Another version"))


def recent_menu(item: Any, menu: Any, recent: tuple[tuple[int, str], ...],
                command: Callable[[int, RecentChoice], Any]) -> Any:
    """The tray's "Recent" submenu (pystray's `item` and `menu` classes): one submenu per result, newest
    first, each with RECENT_CHOICES; `command(number, choice)` makes an entry's action. A pure function of
    the view, whichever thread draws it."""
    return menu(*(item(label, menu(*(item(title, command(number, choice)) for choice, title in RECENT_CHOICES)))
                  for number, label in recent))


def fill(tk_menu: tkinter.Menu, items: Iterable[Any], separator: Any, invoke: Invoke,
         keep: list[object], bold: tkinter.font.Font | None = None, place: str = "tray") -> None:
    """Add one Tk entry per visible pystray item to `tk_menu`, submenus as cascades.

    `items`: a pystray Menu (iterating it gives its visible items, separators folded as pystray does);
    `separator`: pystray's Menu.SEPARATOR; `keep`: holds the submenus, which must live as long as the
    menu. Check marks live in plain Tcl variables named by their `place` in the menu (the same names
    at every post, so nothing piles up), not tkinter Variables: a
    Variable unsets its Tcl variable from whichever thread collects it, and a collection on another
    thread while the Tk thread waits for that thread hangs both.
    """
    for position, item in enumerate(items):
        if item is separator:
            tk_menu.add_separator()
            continue
        options: dict[str, Any] = {"label": item.text, "state": "normal" if item.enabled else "disabled"}
        if item.default and bold is not None:
            options["font"] = bold
        if item.submenu is not None:
            child = tkinter.Menu(tk_menu, tearoff=False)
            keep.append(child)
            fill(child, item.submenu, separator, invoke, keep, bold, f"{place}_{position}")
            tk_menu.add_cascade(menu=child, **options)
            continue
        command = _chooser(invoke, item)
        checked = item.checked
        if checked is None:
            tk_menu.add_command(command=command, **options)
            continue
        variable = f"phitray_mark_{place}_{position}"
        # Menu.add with the entry's type: the add_* helpers are typed to take a Variable, Tk takes its name.
        if item.radio:
            tk_menu.setvar(variable, "on" if checked else "")
            tk_menu.add("radiobutton", command=command, variable=variable, value="on", **options)
        else:
            tk_menu.setvar(variable, "1" if checked else "0")
            tk_menu.add("checkbutton", command=command, variable=variable, onvalue="1", offvalue="0", **options)


def _chooser(invoke: Invoke, item: Any) -> Callable[[], None]:
    def choose() -> None:
        """Called by Tk on the Tk thread when the entry is chosen."""
        invoke(item)
    return choose


class TkTrayMenu:
    """Posts the pystray menu `source()` returns as a Tk popup menu. Tk thread only."""

    def __init__(self, root: tkinter.Misc, source: Callable[[], Any], invoke: Invoke, focus: Focus | None = None) -> None:
        """`source`: the pystray Menu to draw, read at each post (its items are callables of the view).
        `focus`: the desktop's keyboard focus, lent to the menu and given back (X11)."""
        self._root = root
        self._source = source
        self._invoke = invoke
        self._focus = focus
        self._menu: tkinter.Menu | None = None
        self._keep: list[object] = []
        self._bold: tkinter.font.Font | None = None
        self._lent_by: int | None = None  # the window that had the keyboard before the menu took it

    def post(self, x: int | None = None, y: int | None = None) -> None:
        """Build the menu afresh and pop it up at (x, y) on the screen, the pointer when not given.

        tk_popup grabs pointer and keyboard (a global grab on X11), so a click elsewhere closes the
        menu; but Tk drops key events unless one of its windows has the X focus, so the menu takes the
        focus too (as a GTK menu's grab does) and gives it back to the person's window when it closes,
        before an entry runs: "Pick an action…" copies from the window that has the focus.
        """
        self.close()
        if x is None or y is None:
            x, y = self._root.winfo_pointerxy()
        if self._bold is None:
            self._bold = tkinter.font.nametofont("TkMenuFont", root=self._root).copy()
            self._bold.configure(weight="bold")
        pystray_menu = self._source()
        menu = tkinter.Menu(self._root, tearoff=False)
        keep: list[object] = []
        fill(menu, pystray_menu, type(pystray_menu).SEPARATOR, self._chosen, keep, self._bold)
        self._menu, self._keep = menu, keep
        self._lent_by = self._focus.current() if self._focus is not None else None
        menu.bind("<Unmap>", lambda event: self._give_focus_back(), add="+")
        try:
            menu.tk_popup(x, y)  # on X11 returns at once, the menu posted and holding the grab
            menu.focus_force()
        except tkinter.TclError as error:  # "grab failed": another program holds the pointer
            log.warning("the tray menu could not take the pointer: %s", error)
            self.close()

    def _chosen(self, item: Any) -> None:
        """Tk thread: an entry was chosen (Tk has unposted the menu already)."""
        self._give_focus_back()
        self._invoke(item)

    def _give_focus_back(self) -> None:
        """Tk thread: the keyboard goes back to the window it was lent by, unless the person has moved
        it to another window meanwhile (a click elsewhere closes the menu and focuses that window)."""
        lent_by, self._lent_by = self._lent_by, None
        if lent_by is None or self._focus is None:
            return
        now = self._focus.current()
        if now is None or now == lent_by or now in self._menu_windows():
            if now != lent_by:
                self._focus.activate(lent_by)

    def _menu_windows(self) -> set[int]:
        """The X windows of the menu drawn last: Tk's own and the toplevel wrapper it puts around it."""
        windows: set[int] = set()
        if self._menu is not None:
            try:
                windows.add(self._menu.winfo_id())
                windows.add(int(self._menu.tk.call("wm", "frame", self._menu), 16))
            except (tkinter.TclError, ValueError):
                pass
        return windows

    def close(self) -> None:
        """Unpost and destroy the menu drawn last, if any."""
        if self._menu is not None:
            try:
                self._menu.unpost()
                self._menu.destroy()
            except tkinter.TclError:
                pass
        self._menu, self._keep = None, []
