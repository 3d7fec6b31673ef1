"""Formatting kept: when an action works on a selection's Markdown, and what its answer becomes.

An action with `format = "keep"` whose answer replaces a selection that came with HTML works on
the selection's Markdown form (`actions/markup.py`); the model is told to keep the marks. Its
answer goes back as HTML for rich editors and as plain text for the rest: the plain text is what
the checks compare, the popup shows and plain editors get. Runs on the jobs thread.
"""

from __future__ import annotations

from dataclasses import replace

from phitray.actions import markup
from phitray.actions.model import Action, Output
from phitray.actions.runner import ActionResult

# Said after the action's own system prompt: small models drop marks they are not told about.
KEEP_MARKS = ("The text is Markdown: keep its formatting marks (**bold**, *italics*, [links](url), lists and "
              "headings) on the words they belong to, and add none.")


def selection_markdown(action: Action, output: Output, text: str, html: str | None, max_characters: int) -> str:
    """The Markdown to work on, or "" to work on the plain text: the action keeps formatting, its answer
    is pasted, and the HTML holds formatting that says what the text says, within the engine's limit."""
    if action.format != "keep" or output != "replace" or not html:
        return ""
    markdown = markup.selection_markdown(html, text)
    return markdown if markdown and len(markdown) <= max_characters else ""


def marked_up(action: Action) -> Action:
    """The action as run on Markdown."""
    return replace(action, system=f"{action.system}\n\n{KEEP_MARKS}" if action.system.strip() else KEEP_MARKS)


def answer_of(result: ActionResult, selection: str) -> ActionResult:
    """A Markdown answer as plain text (with the selection's own leading and trailing whitespace) and HTML."""
    lead, trail = selection[:len(selection) - len(selection.lstrip())], selection[len(selection.rstrip()):]
    plain = markup.markdown_to_plain(result.text)
    return replace(result, text=f"{lead}{plain}{trail}" if selection.strip() else plain,
                   html=markup.markdown_to_html(result.text))
