"""Where an answer goes: one pure function of the action's output, the failed checks, the review
setting and whether the window came back to the front.

A flagged answer is never pasted or copied unseen; an edit under review opens
in the popup; Ctrl+V goes only to the window the selection came from.
"""

from __future__ import annotations

from dataclasses import dataclass

from phitray.actions.checks import CheckResult
from phitray.actions.model import Output

REVIEW = "Review the changes: Enter replaces, Esc closes."
WINDOW_GONE = "The window you were in is no longer in front; here is the result."


@dataclass(frozen=True)
class Route:
    output: Output
    reason: str = ""  # why the answer went elsewhere than the action asked, or what to check; "" when as asked


def route(output: Output, failed: tuple[CheckResult, ...], review: bool, window_back: bool) -> Route:
    """`review`: the settings want edits reviewed and this action is an edit. `window_back`: the
    selection's window is in front again (only asked when the answer would be pasted)."""
    reasons = " ".join(check.reason for check in failed)
    if failed and output == "replace":
        return Route("popup", f"Not replaced: {reasons}")
    if failed and output == "clipboard":
        return Route("popup", f"Not copied: {reasons}")
    if failed:
        return Route("popup", f"Check this answer: {reasons}")
    if output == "replace" and review:
        return Route("popup", REVIEW)
    if output == "replace" and not window_back:
        return Route("popup", WINDOW_GONE)
    return Route(output)
