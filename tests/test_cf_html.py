"""Windows' HTML Format as bytes (agent/desktop/cf_html.py), on any platform: the header's byte offsets,
what Word and browsers write, and data that is not HTML Format."""

from __future__ import annotations

import re

from phitray.desktop import cf_html

FRAGMENT = '<p>Grüße, <b>bold</b> ✓ and <a href="https://example.com">a link</a></p>'


def offsets(data: bytes) -> dict[str, int]:
    return {key.decode(): int(value) for key, value in re.findall(rb"(\w+):(-?\d+)\r\n", data[:400])}


def test_the_header_points_at_the_fragment_and_the_document_in_utf8_bytes() -> None:
    data = cf_html.encode(FRAGMENT)
    assert data.startswith(b"Version:0.9\r\nStartHTML:") and data.endswith(b"\0")
    where = offsets(data)
    assert data[where["StartHTML"]:].startswith(b"<html>") and where["EndHTML"] == len(data) - 1
    assert data[where["StartFragment"]:where["EndFragment"]].decode("utf-8") == FRAGMENT
    assert data[:where["StartFragment"]].endswith(b"<!--StartFragment-->")
    assert data[where["EndFragment"]:].startswith(b"<!--EndFragment-->")
    assert cf_html.fragment(data) == FRAGMENT


def test_what_word_and_browsers_write_is_read() -> None:
    head = ("Version:1.0\r\nStartHTML:{:010d}\r\nEndHTML:{:010d}\r\nStartFragment:{:010d}\r\nEndFragment:{:010d}\r\n"
            "SourceURL:https://example.com/page\r\n")
    before, after = b"<html><body>\r\n<!--StartFragment-->", b"<!--EndFragment-->\r\n</body></html>"
    body = FRAGMENT.encode()
    size = len(head.format(0, 0, 0, 0).encode())
    data = head.format(size, size + len(before) + len(body) + len(after), size + len(before),
                       size + len(before) + len(body)).encode() + before + body + after
    assert cf_html.fragment(data) == FRAGMENT
    # StartHTML -1 (no context given, as the contract allows) changes nothing about the fragment.
    assert cf_html.fragment(data.replace(b"StartHTML:%010d" % size, b"StartHTML:-000000001")) == FRAGMENT


def test_offsets_that_are_wrong_fall_back_to_the_fragment_marks_and_other_data_is_none() -> None:
    data = cf_html.encode(FRAGMENT).replace(b"EndFragment:", b"EndFragment:9")  # past the end
    assert cf_html.fragment(data) == FRAGMENT
    assert cf_html.fragment(b"just some text") is None
    assert cf_html.fragment(b"") is None
