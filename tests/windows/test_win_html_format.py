"""Formatting kept, on the Windows clipboard under Wine: the paste offer carries "HTML Format" beside
CF_UNICODETEXT, both rendered only for a read after Ctrl+V, and the capture reads a rich editor's HTML
Format back to its fragment. The reader is another process (helpers/clipboard_peer.py formats)."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

from phitray.desktop import cf_html

PEER = Path(__file__).parent.parent / "helpers" / "clipboard_peer.py"
OWN = "the person's own clipboard ✓"
FRAGMENT = '<p>This is <b>bold</b> and <a href="https://example.com/a?b=1">a link</a> ✓</p>'


def read_formats() -> dict[str, object]:
    """What another program's paste gets: the formats listed, and the text and HTML Format it reads."""
    done = subprocess.run([sys.executable, str(PEER), "formats"], capture_output=True, text=True, timeout=60)
    return dict(json.loads(done.stdout.strip().splitlines()[-1]))


def test_the_paste_offer_carries_html_format_beside_the_text(desktop: object) -> None:
    clipboard = desktop.clipboard  # type: ignore[attr-defined]
    clipboard.keep_text(OWN)
    snapshot = clipboard.snapshot()
    offer = clipboard.offer_text("This is bold and a link ✓", FRAGMENT)
    try:
        before = read_formats()  # a clipboard manager's read before Ctrl+V: listed, never rendered
        assert before == {"text": True, "html": True, "text_data": None, "html_data": None}, before
        assert not offer.taken.is_set()
        offer.expect_paste(None)  # Ctrl+V goes now; with no window known, any read is the paste
        after = read_formats()
        assert after["text"] and after["html"] and after["text_data"] == "This is bold and a link ✓", after
        html = str(after["html_data"]).rstrip("\0")
        assert html.startswith("Version:0.9\r\nStartHTML:"), html
        assert cf_html.fragment(html.encode("utf-8")) == FRAGMENT
        # The offsets are bytes of UTF-8 (✓ is three): the fragment stands exactly where the header says.
        data = html.encode("utf-8")
        offsets = dict(line.split(":", 1) for line in html.split("\r\n")[1:5])
        assert data[int(offsets["StartFragment"]):int(offsets["EndFragment"])].decode("utf-8") == FRAGMENT
        assert data[int(offsets["StartHTML"]):].startswith(b"<html>") and int(offsets["EndHTML"]) == len(data)
        assert offer.wait_taken(5)
    finally:
        clipboard.restore(snapshot)
    assert clipboard.read_text() == OWN


def word_like(fragment: str) -> bytes:
    """HTML Format as Word and browsers write it: a SourceURL line, a whole document around the fragment."""
    head = ("Version:0.9\r\nStartHTML:{:010d}\r\nEndHTML:{:010d}\r\nStartFragment:{:010d}\r\nEndFragment:{:010d}\r\n"
            "SourceURL:https://example.com/page\r\n")
    before = b"<html><head><style>p{color:red}</style></head><body>\r\n<!--StartFragment-->"
    body, after = fragment.encode("utf-8"), b"<!--EndFragment-->\r\n</body></html>"
    size = len(head.format(0, 0, 0, 0).encode())
    offsets = (size, size + len(before) + len(body) + len(after), size + len(before), size + len(before) + len(body))
    return head.format(*offsets).encode() + before + body + after


def test_a_rich_editors_html_format_is_read_back_to_its_fragment(desktop: object) -> None:
    """As Word or a browser copies: HTML Format beside the text."""
    clipboard = desktop.clipboard  # type: ignore[attr-defined]
    text = ("This is bold and a link ✓" + "\0").encode("utf-16-le")
    clipboard._call(lambda: clipboard._write([("HTML Format", 0, word_like(FRAGMENT)), ("", 13, text)]))
    try:
        assert clipboard.read_text() == "This is bold and a link ✓"
        assert clipboard.read_html() == FRAGMENT
        assert clipboard.read_html(max_bytes=100) is None  # past the limit the action works on the text
    finally:
        clipboard.keep_text(OWN)
