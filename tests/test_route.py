"""Where an answer goes, as a table: every output × flagged × review × window back (jobs/route.py)."""

from __future__ import annotations

import itertools

import pytest

from phitray.actions.checks import CheckResult
from phitray.jobs.route import REVIEW, WINDOW_GONE, route

FLAG = (CheckResult("close_to_input", False, "It changes much more than an edit should."),)


def expected(output: str, flagged: bool, review: bool, window_back: bool) -> tuple[str, str]:
    """The rules, written out once more as the person meets them."""
    if flagged:
        verb = {"replace": "Not replaced: ", "clipboard": "Not copied: ", "popup": "Check this answer: "}[output]
        return "popup", verb + FLAG[0].reason
    if output == "replace" and review:
        return "popup", REVIEW
    if output == "replace" and not window_back:
        return "popup", WINDOW_GONE
    return output, ""


TABLE = list(itertools.product(("replace", "popup", "clipboard"), (False, True), (False, True), (False, True)))


@pytest.mark.parametrize(("output", "flagged", "review", "window_back"), TABLE)
def test_the_route_of_every_combination(output: str, flagged: bool, review: bool, window_back: bool) -> None:
    chosen = route(output, FLAG if flagged else (), review, window_back)  # type: ignore[arg-type]
    assert (chosen.output, chosen.reason) == expected(output, flagged, review, window_back)


def test_the_table_is_whole_and_a_flagged_answer_is_never_pasted_or_copied() -> None:
    assert len(TABLE) == 24
    for output, flagged, review, window_back in TABLE:
        chosen = route(output, FLAG if flagged else (), review, window_back)  # type: ignore[arg-type]
        if flagged:
            assert chosen.output == "popup"
        if chosen.output == "replace":
            assert window_back and not review and not flagged


def test_every_failed_checks_reason_is_named() -> None:
    two = FLAG + (CheckResult("same_language", False, "It is in French, not English."),)
    assert route("replace", two, False, True).reason == \
        "Not replaced: It changes much more than an edit should. It is in French, not English."
