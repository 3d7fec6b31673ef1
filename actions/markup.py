"""The selection's formatting: HTML ↔ Markdown ↔ plain text, through maintained libraries.

A rich editor's selection comes with HTML beside its text. An action that keeps formatting works
on its Markdown form (markdownify), a form small models read and write back reliably; the answer,
Markdown, goes back as HTML (markdown-it-py, CommonMark) for rich editors and as plain text for the
rest, the checks and the popup. Both libraries load only here, when a selection has HTML.

What comes from another program is not trusted: scripts, styles and other hidden content are
dropped, a link keeps only http, https and mailto targets, images become their alt text, and
HTML past `MAX_HTML_CHARS` is not converted at all (the action then works on the plain text).
The answer's HTML is rendered with raw HTML off, so a model cannot put markup of its own in it.
"""

from __future__ import annotations

import logging
import re
from collections import Counter
from typing import Any

log = logging.getLogger(__name__)

MAX_HTML_CHARS = 1_000_000  # past this the selection is worked on as plain text (converting 1 M takes ~2 s)
SAME_WORDS = 0.8  # the HTML's words that must be the text's, and the text's that must be the HTML's
HIDDEN_TAGS = ("script", "style", "head", "title", "template", "noscript", "iframe", "object", "embed", "svg",
               "canvas", "math", "form", "button", "select", "input", "textarea")
SAFE_SCHEMES = ("http://", "https://", "mailto:")
# The token types that make a Markdown text more than its plain form.
FORMATTING = re.compile(r"^(strong|em|s|link|heading|bullet_list|ordered_list|blockquote|table|code_inline|fence|"
                        r"code_block|hr)(_open)?$")
_SPACE = re.compile(r"\s+")
_WORD = re.compile(r"\W+")


def html_to_markdown(html: str) -> str | None:
    """The Markdown form of an HTML fragment; None when it is too large or cannot be read."""
    if len(html) > MAX_HTML_CHARS:
        log.info("the selection's HTML (%s characters) is over the limit; its plain text is used", f"{len(html):,}")
        return None
    try:
        return _converter().convert(html).strip("\n")
    except (RecursionError, ValueError, AssertionError):  # pathological nesting, broken markup
        log.info("the selection's HTML could not be converted; its plain text is used", exc_info=True)
        return None


def markdown_to_html(markdown: str) -> str:
    """The answer as an HTML fragment: CommonMark with tables and strikethrough, raw HTML escaped. One
    paragraph is given as its inline content, as an editor copies words from within a paragraph: pasted
    there, it adds no paragraph break."""
    parser = _parser()
    tokens = parser.parse(markdown)
    if [token.type for token in tokens] == ["paragraph_open", "inline", "paragraph_close"]:
        tokens = tokens[1:2]
    return str(parser.renderer.render(tokens, parser.options, {}))


def markdown_to_plain(markdown: str) -> str:
    """The answer as plain text: no Markdown symbols; lists keep "- " and "1. ", links their text."""
    lines: list[str] = []
    lists: list[list[Any]] = []  # per open list: [ordered, next number]
    marker = ""
    row: list[str] | None = None  # a table row's cells so far
    for token in _parser().parse(markdown):
        kind = token.type
        if kind == "tr_open":
            row = []
        elif kind == "tr_close" and row is not None:
            lines.append("\t".join(row))
            row = None
        elif kind == "inline" and row is not None:
            row.append(_inline_text(token))
        elif kind in ("bullet_list_open", "ordered_list_open"):
            lists.append([kind == "ordered_list_open", int(token.attrGet("start") or 1)])
        elif kind in ("bullet_list_close", "ordered_list_close"):
            lists.pop()
            if not lists:
                _blank(lines)
        elif kind == "list_item_open":
            ordered, number = lists[-1]
            marker = f"{number}. " if ordered else "- "
            lists[-1][1] = number + 1
        elif kind in ("inline", "fence", "code_block"):
            text = _inline_text(token) if kind == "inline" else token.content.rstrip("\n")
            indent = "  " * max(0, len(lists) - 1)
            for index, line in enumerate(text.split("\n")):
                lines.append(indent + (marker if index == 0 else " " * len(marker)) + line)
            marker = ""
        elif kind == "hr":
            lines.append("")
        if kind in ("paragraph_close", "heading_close", "fence", "code_block", "blockquote_close", "table_close") \
                and not token.hidden and not lists:
            _blank(lines)
    return "\n".join(lines).strip("\n")


def has_formatting(markdown: str) -> bool:
    """Whether a Markdown text holds any formatting (bold, a link, a list…), not only paragraphs."""
    for token in _parser().parse(markdown):
        children = token.children or []
        if FORMATTING.match(token.type) or any(FORMATTING.match(child.type) for child in children):
            return True
    return False


def selection_markdown(html: str | None, text: str) -> str | None:
    """The Markdown to work on for a selection with `html` beside its `text`: None when the HTML has no
    formatting worth keeping, cannot be converted, or does not say what the text says (a stale or
    unrelated clipboard format)."""
    if not html or not html.strip():
        return None
    markdown = html_to_markdown(html)
    if not markdown or not has_formatting(markdown):
        return None
    if not _same_words(markdown_to_plain(markdown), text):
        log.info("the selection's HTML says something else than its text; its plain text is used")
        return None
    return markdown


def _same_words(first: str, second: str) -> bool:
    """Nearly the same words, in any order: list numbers and bullets are written differently by each program."""
    words = [Counter(_WORD.split(text.casefold())) - Counter({"": 1 << 30}) for text in (first, second)]
    common, most = sum((words[0] & words[1]).values()), max(sum(counted.values()) for counted in words)
    return most > 0 and common >= SAME_WORDS * most


def _inline_text(token: Any) -> str:
    parts = []
    for child in token.children or []:
        if child.type in ("text", "code_inline", "html_inline"):
            parts.append(child.content)
        elif child.type in ("softbreak", "hardbreak"):
            parts.append("\n")
        elif child.type == "image":
            parts.append(child.content)
    return "".join(parts)


def _blank(lines: list[str]) -> None:
    if lines and lines[-1] != "":
        lines.append("")


def _parser() -> Any:
    from markdown_it import MarkdownIt

    # CommonMark; raw HTML off (shown as text); images off (a remote image in a mail is a tracker).
    return MarkdownIt("commonmark", {"html": False}).enable(["table", "strikethrough"]).disable("image")


def _converter() -> Any:
    from bs4 import Comment
    from markdownify import MarkdownConverter

    class Converter(MarkdownConverter):  # type: ignore[misc]  # where markdownify has no type hints
        def convert_soup(self, soup: Any) -> Any:
            for hidden in soup.find_all(HIDDEN_TAGS):
                hidden.decompose()
            for comment in soup.find_all(string=lambda node: isinstance(node, Comment)):
                comment.extract()  # CF_HTML's StartFragment marks, conditional comments
            return super().convert_soup(soup)

        def convert_a(self, el: Any, text: str, parent_tags: set[str]) -> Any:
            href = (el.get("href") or "").strip()
            if not href.lower().startswith(SAFE_SCHEMES) or _SPACE.search(href):
                el.attrs.pop("href", None)  # the link's text stays; javascript:, data:, relative targets go
            el.attrs.pop("title", None)
            return super().convert_a(el, text, parent_tags)  # type: ignore[misc]  # made by markdownify at import

        def convert_img(self, el: Any, text: str, parent_tags: set[str]) -> Any:
            return el.attrs.get("alt", "") or ""

    return Converter(heading_style="atx", bullets="-", strong_em_symbol="*", escape_misc=False)
