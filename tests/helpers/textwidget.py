"""A plain Tk text editor for the end-to-end tests: `python textwidget.py CONTENT_FILE TITLE`.

It behaves like a modern editor: Tk's own Ctrl+C and Ctrl+Z, Ctrl+A selects
everything, and Ctrl+V replaces the selection as one undo step (Tk's X11
default inserts beside the selection). It writes its whole content to
CONTENT_FILE after every change, which is how a test reads what a paste did.

A test that needs text no keyboard can type (emoji, CR LF, RTL, combining
marks) writes one JSON line to the FIFO CONTENT_FILE.ctl:
{"seq": N, "before": "...", "selected": "...", "after": "..."}. The editor
then holds before + selected + after with `selected` selected and focused,
saves, and writes N to CONTENT_FILE.ack.
"""

import json
import os
import sys
import tkinter
from collections.abc import Callable
from pathlib import Path


def serve_control(root: tkinter.Tk, content_file: Path, load: Callable[[dict], None], save: Callable[[], None]) -> None:
    """Each JSON line written to the FIFO CONTENT_FILE.ctl: `load(command)`, `save()`, then its "seq" written to
    CONTENT_FILE.ack (shared with richtext.py, whose commands hold HTML)."""
    control_path = content_file.with_suffix(".ctl")
    os.mkfifo(control_path)
    control = os.open(control_path, os.O_RDWR | os.O_NONBLOCK)  # read-write: no EOF when a writer leaves
    pending = b""

    def on_control(_fd: object, _mask: object) -> None:
        nonlocal pending
        try:
            pending += os.read(control, 1 << 20)
        except BlockingIOError:
            return
        while b"\n" in pending:
            line, pending = pending.split(b"\n", 1)
            command = json.loads(line)
            load(command)
            save()
            ack = content_file.with_suffix(".ack")
            ack.with_suffix(".acktmp").write_text(str(command["seq"]))
            ack.with_suffix(".acktmp").replace(ack)

    root.tk.createfilehandler(control, tkinter.READABLE, on_control)


def main() -> None:
    content_file, title = Path(sys.argv[1]), sys.argv[2]
    root = tkinter.Tk(className=title)
    root.title(title)
    root.geometry("600x300+40+80")
    text = tkinter.Text(root, undo=True, autoseparators=True, font=("DejaVu Sans", 12))
    text.pack(fill="both", expand=True)

    def save(_event: object = None) -> None:
        temporary = content_file.with_suffix(".tmp")
        temporary.write_bytes(text.get("1.0", "end-1c").encode("utf-8"))
        temporary.replace(content_file)
        text.edit_modified(False)

    def select_all(_event: object) -> str:
        text.tag_add("sel", "1.0", "end-1c")
        return "break"

    def paste(_event: object) -> str:
        try:
            pasted = text.tk.call("::tk::GetSelection", text, "CLIPBOARD")
        except tkinter.TclError:
            return "break"
        text.configure(autoseparators=False)
        text.edit_separator()
        if text.tag_ranges("sel"):
            text.delete("sel.first", "sel.last")
        text.insert("insert", pasted)
        text.edit_separator()
        text.configure(autoseparators=True)
        return "break"

    def load(command: dict) -> None:
        text.delete("1.0", "end")
        text.insert("1.0", command["before"])
        start = text.index("end-1c")
        text.insert("end-1c", command["selected"])
        end = text.index("end-1c")
        text.insert("end-1c", command["after"])
        text.tag_remove("sel", "1.0", "end")
        text.tag_add("sel", start, end)
        text.mark_set("insert", end)
        text.edit_reset()
        text.focus_force()

    serve_control(root, content_file, load, save)
    text.bind("<<Modified>>", save)
    text.bind("<Control-a>", select_all)
    text.bind("<<Paste>>", paste)
    text.focus_set()
    save()
    root.mainloop()


if __name__ == "__main__":
    main()
