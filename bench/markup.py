"""Formatting kept: how long the conversions take on a selection's HTML of growing size (actions/markup.py),
so MAX_HTML_CHARS stays where a job does not wait on them.

    .venv/bin/python bench/markup.py
"""

from __future__ import annotations

import time

from phitray.actions import markup

PARAGRAPH = ('<p style="margin:0">Some <b>bold</b> words, <i>italics</i> and <a href="https://example.com/x">a '
             'link</a> in a paragraph that goes on.</p>\n<ul><li>one</li><li>two</li></ul>\n')


def main() -> None:
    print(f"{'HTML chars':>12} {'→ Markdown s':>13} {'→ HTML s':>9} {'→ plain s':>10} {'Markdown chars':>15}")
    for size in (10_000, 100_000, 500_000, markup.MAX_HTML_CHARS):
        html = PARAGRAPH * (size // len(PARAGRAPH))
        started = time.perf_counter()
        markdown = markup.html_to_markdown(html) or ""
        converted = time.perf_counter()
        markup.markdown_to_html(markdown)
        rendered = time.perf_counter()
        markup.markdown_to_plain(markdown)
        done = time.perf_counter()
        print(f"{len(html):>12,} {converted - started:>13.2f} {rendered - converted:>9.2f} {done - rendered:>10.2f} "
              f"{len(markdown):>15,}")


if __name__ == "__main__":
    main()
