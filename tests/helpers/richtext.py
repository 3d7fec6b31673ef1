"""A small rich-text editor (Tk) for the formatting tests: `python richtext.py CONTENT_FILE TITLE MODE`.

It shows bold, italics and links as a rich editor does (Text tags) and speaks HTML on the X selections
as browsers and word processors do: its selection offers `text/html` beside its text on PRIMARY and,
after Ctrl+C, on the CLIPBOARD. On Ctrl+V it asks the CLIPBOARD for `text/html` in MODE "rich" (the
text when there is none) and only for text in MODE "plain". MODE "copy" is "rich" with no PRIMARY
selection (the agent must copy). After every change it writes its text to CONTENT_FILE, its content as
HTML to CONTENT_FILE.html, and after a paste the target it read to CONTENT_FILE.pasted.

A test loads an HTML fragment, all of it selected and focused, with one JSON line to the FIFO
CONTENT_FILE.ctl: {"seq": N, "html": "..."}; the editor writes N to CONTENT_FILE.ack when it holds it.
"""

import html
import json
import sys
import tkinter
from html.parser import HTMLParser
from pathlib import Path

TAGS = {"b": "bold", "strong": "bold", "i": "italic", "em": "italic"}
BLOCKS = ("p", "div", "li", "h1", "h2", "h3", "h4", "h5", "h6", "ul", "ol")


class Runs(HTMLParser):
    """An HTML fragment as (text, tags) runs: what a rich editor keeps of it."""

    def __init__(self) -> None:
        super().__init__(convert_charrefs=True)
        self.runs: list[tuple[str, tuple[str, ...]]] = []
        self.open: list[str] = []
        self.hidden = 0

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        if tag in ("script", "style", "head", "title"):
            self.hidden += 1
        elif tag in TAGS:
            self.open.append(TAGS[tag])
        elif tag == "a":
            self.open.append("href " + (dict(attrs).get("href") or ""))
        elif tag == "br":
            self.runs.append(("\n", ()))
        elif tag in BLOCKS and self.runs and not self.runs[-1][0].endswith("\n"):
            self.runs.append(("\n", ()))

    def handle_endtag(self, tag: str) -> None:
        if tag in ("script", "style", "head", "title"):
            self.hidden -= 1
        elif tag in TAGS or tag == "a":
            for index in range(len(self.open) - 1, -1, -1):
                if self.open[index] == TAGS.get(tag) or tag == "a" and self.open[index].startswith("href "):
                    del self.open[index]
                    break

    def handle_data(self, data: str) -> None:
        if not self.hidden and data.strip("\n"):
            self.runs.append((data, tuple(self.open)))


def runs_of(fragment: str) -> list[tuple[str, tuple[str, ...]]]:
    parser = Runs()
    parser.feed(fragment)
    parser.close()
    runs = parser.runs
    while runs and runs[-1][0] == "\n":
        runs.pop()
    return runs


def main() -> None:
    content_file, title, mode = Path(sys.argv[1]), sys.argv[2], sys.argv[3]
    root = tkinter.Tk(className=title)
    root.title(title)
    root.geometry("600x300+60+100")
    text = tkinter.Text(root, font=("DejaVu Sans", 12), exportselection=mode != "copy")
    text.pack(fill="both", expand=True)
    text.tag_configure("bold", font=("DejaVu Sans", 12, "bold"))
    text.tag_configure("italic", font=("DejaVu Sans", 12, "italic"))

    def as_html(start: str, end: str) -> str:
        parts, active = [], []
        for key, value, _index in text.dump(start, end, text=True, tag=True):
            if key == "tagon" and value != "sel":
                active.append(value)
            elif key == "tagoff" and value in active:
                active.remove(value)
            elif key == "text":
                piece = html.escape(value).replace("\n", "<br>")
                for tag in active:
                    if tag == "bold":
                        piece = f"<b>{piece}</b>"
                    elif tag == "italic":
                        piece = f"<i>{piece}</i>"
                    elif tag.startswith("href "):
                        piece = f'<a href="{html.escape(tag[5:])}">{piece}</a>'
                parts.append(piece)
        return f"<p>{''.join(parts)}</p>"

    def selected_html() -> str:
        return as_html("sel.first", "sel.last") if text.tag_ranges("sel") else ""

    def write(path: Path, data: str) -> None:
        temporary = path.with_name(path.name + ".tmp")
        temporary.write_bytes(data.encode("utf-8"))
        temporary.replace(path)

    def save() -> None:
        write(content_file.with_name(content_file.name + ".html"), as_html("1.0", "end-1c"))
        write(content_file, text.get("1.0", "end-1c"))

    def serve_html(offset: str, max_bytes: str) -> str:
        fragment = selected_html()
        return fragment[int(offset):int(offset) + int(max_bytes)]

    if mode != "copy":
        text.tk.call("selection", "handle", "-selection", "PRIMARY", "-type", "text/html", "-format", "UTF8_STRING",
                     text, root.register(serve_html))

    def copy(_event: object) -> str:
        if text.tag_ranges("sel"):
            root.clipboard_clear()
            root.clipboard_append(text.get("sel.first", "sel.last"))
            text.tk.call("clipboard", "append", "-type", "text/html", "-format", "UTF8_STRING", "--", selected_html())
        return "break"

    def clipboard(target: str) -> str | None:
        try:
            got = str(text.tk.call("selection", "get", "-selection", "CLIPBOARD", "-type", target))
        except tkinter.TclError:
            return None
        words = got.split()
        if words and all(word.startswith("0x") for word in words):  # a type Tk does not know comes as bytes
            return bytes(int(word, 16) for word in words).decode("utf-8")
        return got

    def paste(_event: object) -> str:
        fragment = clipboard("text/html") if mode != "plain" else None
        target = "text/html" if fragment is not None else "UTF8_STRING"
        runs = runs_of(fragment) if fragment is not None else [(clipboard("UTF8_STRING") or "", ())]
        if text.tag_ranges("sel"):
            text.delete("sel.first", "sel.last")
        for piece, tags in runs:
            text.insert("insert", piece, tags)
        save()
        write(content_file.with_name(content_file.name + ".pasted"), json.dumps({"target": target}))
        return "break"

    def load(command: dict) -> None:
        text.delete("1.0", "end")
        for piece, tags in runs_of(command["html"]):
            text.insert("end-1c", piece, tags)
        text.tag_add("sel", "1.0", "end-1c")
        text.mark_set("insert", "end-1c")
        text.focus_force()

    from textwidget import serve_control  # a sibling script: this one runs from its folder

    serve_control(root, content_file, load, save)
    text.bind("<<Copy>>", copy)
    text.bind("<<Paste>>", paste)
    text.focus_set()
    save()
    root.mainloop()


if __name__ == "__main__":
    main()
