"""Lists that never cut a value short: each Treeview column as wide as its widest value or heading.

A ttk.Treeview cuts a cell at its column's width with no sign of it, and the settings window's
columns held fixed widths; a model id, a backend list or a file name longer than that lost its end.
Columns now size to their values, and a table wider than the window scrolls across.
Every function runs on the Tk thread.
"""

from __future__ import annotations

import tkinter.font
from tkinter import ttk

CELL_PADDING = 16  # ttk's cell padding on both sides, and a little air
TREE_INDENT = 24  # column #0 also holds the (empty) indicator and indent before the text


def scrolling_table(parent: tkinter.Misc, **options: object) -> tuple[ttk.Frame, ttk.Treeview]:
    """A Treeview with a scroll bar across under it, in a frame for the caller to place: columns sized to
    their values can add up to more than the screen (the window is kept to it), and the rest scrolls."""
    frame = ttk.Frame(parent)
    table = ttk.Treeview(frame, **options)  # type: ignore[arg-type]
    across = ttk.Scrollbar(frame, orient="horizontal", command=table.xview)
    table.configure(xscrollcommand=across.set)
    table.pack(fill="both", expand=True)
    across.pack(fill="x")
    return frame, table


def _font(table: ttk.Treeview, style: str, fallback: str) -> tkinter.font.Font:
    name = ttk.Style(table).lookup(style, "font") or fallback
    try:
        return tkinter.font.nametofont(name, root=table)
    except tkinter.TclError:  # a font description, not a named font
        return tkinter.font.Font(root=table, font=name)


def column_texts(table: ttk.Treeview, column: str) -> list[str]:
    """What `column` shows in every row ("#0": each row's text)."""
    texts = []
    for item in table.get_children():
        if column == "#0":
            texts.append(str(table.item(item, "text")))
        else:
            texts.append(str(table.set(item, column)))
    return texts


def fit_columns(table: ttk.Treeview) -> None:
    """Make each column at least as wide as its heading and every value in it, so nothing is cut; a
    column may still grow with the window (its `stretch` is kept). Call it after filling the table."""
    body, heading = _font(table, "Treeview", "TkDefaultFont"), _font(table, "Treeview.Heading", "TkHeadingFont")
    for column in ("#0", *table["columns"]):
        widest = max([heading.measure(str(table.heading(column, "text"))),
                      *(body.measure(text) for text in column_texts(table, column))])
        width = widest + CELL_PADDING + (TREE_INDENT if column == "#0" else 0)
        table.column(column, width=max(width, int(table.column(column, "width"))), minwidth=width)


def cut_columns(table: ttk.Treeview) -> list[str]:
    """The columns whose width cuts a value or heading short (none, once `fit_columns` has run); for tests."""
    body, heading = _font(table, "Treeview", "TkDefaultFont"), _font(table, "Treeview.Heading", "TkHeadingFont")
    cut = []
    for column in ("#0", *table["columns"]):
        room = int(table.column(column, "width")) - (TREE_INDENT if column == "#0" else 0)
        needed = max([heading.measure(str(table.heading(column, "text"))),
                      *(body.measure(text) for text in column_texts(table, column))])
        if needed > room:
            cut.append(column)
    return cut
