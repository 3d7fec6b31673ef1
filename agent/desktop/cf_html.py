"""Windows' "HTML Format" (CF_HTML) as bytes: a fragment wrapped for the clipboard, and read back.

The documented contract (learn.microsoft.com, "HTML Clipboard Format"): UTF-8, a header of
`Key:Value` lines (Version, StartHTML, EndHTML, StartFragment, EndFragment) whose numbers are byte
offsets from the start of the data, then the document with the fragment between
`<!--StartFragment-->` and `<!--EndFragment-->`. Offsets here are written with ten digits, so the
header's length does not depend on them. Pure code: `windows_offer` and `windows_clipboard` use it,
and it is tested on any platform.
"""

from __future__ import annotations

import re

START, END = "<!--StartFragment-->", "<!--EndFragment-->"
HEADER = "Version:0.9\r\nStartHTML:{:010d}\r\nEndHTML:{:010d}\r\nStartFragment:{:010d}\r\nEndFragment:{:010d}\r\n"
HEADER_BYTES = 1024  # a header is never longer: past this the data is not CF_HTML
_OFFSET = re.compile(rb"^(StartHTML|EndHTML|StartFragment|EndFragment):(-?\d+)\s*$", re.MULTILINE)


def encode(fragment: str) -> bytes:
    """`fragment` as HTML Format data, ending with a NUL as readers that treat it as a string expect."""
    before = f"<html><body>\r\n{START}".encode()
    body = fragment.encode("utf-8", errors="replace")
    after = f"{END}\r\n</body>\r\n</html>".encode()
    header_length = len(HEADER.format(0, 0, 0, 0).encode())
    start_fragment = header_length + len(before)
    end_fragment = start_fragment + len(body)
    end_html = end_fragment + len(after)
    header = HEADER.format(header_length, end_html, start_fragment, end_fragment).encode()
    return header + before + body + after + b"\0"


def fragment(data: bytes) -> str | None:
    """The fragment of HTML Format data; None when the data is not HTML Format. Offsets out of range fall
    back to the fragment's comments, then to the document."""
    data = data.split(b"\0", 1)[0]
    offsets = {key.decode(): int(value) for key, value in _OFFSET.findall(data[:HEADER_BYTES])}
    start, end = offsets.get("StartFragment", -1), offsets.get("EndFragment", -1)
    if 0 < start <= end <= len(data):
        return data[start:end].decode("utf-8", errors="replace")
    marked = re.search(re.escape(START.encode()) + rb"(.*?)" + re.escape(END.encode()), data, re.DOTALL)
    if marked:
        return marked.group(1).decode("utf-8", errors="replace")
    start, end = offsets.get("StartHTML", -1), offsets.get("EndHTML", -1)
    if 0 < start <= end <= len(data):
        return data[start:end].decode("utf-8", errors="replace")
    return None
