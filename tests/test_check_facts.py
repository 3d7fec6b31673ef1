"""The fact rules: numbers as values, code kept as written, acronyms and names found without calling every
capitalised word a name, and a corrected typo of a fact counted as the fact."""

from __future__ import annotations

import pytest

from phitray.actions.check_facts import acronyms, facts_of, identifiers, lost_facts, names, number_values, numbers
from phitray.actions.checks import Checks, check_answer, failed

EDIT = Checks(close_to_input=0.5, keeps_facts=True, same_language=False)
SUMMARY = Checks(adds_no_numbers=True, same_language=False)
TRANSLATION = Checks(keeps_numbers=True, same_language=False)


def flagged(checks: Checks, text: str, answer: str) -> dict[str, str]:
    return {c.name: c.reason for c in failed(check_answer(checks, text, answer))}


@pytest.mark.parametrize(("written", "language", "value"), [
    ("1,200", "en", 1200.0), ("1.200", "de", 1200.0), ("1\u202f200", "fr", 1200.0), ("١٬٢٠٠", "ar", 1200.0),
    ("359.99", "en", 359.99), ("359,99", "de", 359.99), ("1.234,5", None, 1234.5), ("-5", None, -5.0),
    ("۲٫۵", "fa", 2.5), ("১,২০০", "bn", 1200.0),
])
def test_a_number_is_its_value_however_the_language_writes_it(written: str, language: str | None, value: float) -> None:
    (read,) = [values for _, values in numbers(f"about {written} items", language)]
    assert value in read


def test_a_number_changed_tenfold_or_losing_its_decimal_point_is_not_kept() -> None:
    text = "Send the 3 invoices by Friday; the total is 359.99 EUR."
    assert flagged(EDIT, text, text) == {}
    assert "keeps_facts" in flagged(EDIT, text, text.replace("3 invoices", "30 invoices"))
    assert "keeps_facts" in flagged(EDIT, text, text.replace("359.99", "35999"))
    assert "keeps_facts" in flagged(EDIT, "Choose 0 or 1.", "Choose 10 or 1.")
    assert flagged(EDIT, "It costs 1,200 EUR in total.", "It costs 1200 EUR in total.") == {}


def test_dates_and_times_are_their_parts() -> None:
    assert {v for _, vs in numbers("on 05.03.2024 at 12:30") for v in vs} == {5.0, 3.0, 2024.0, 12.0, 30.0}
    assert lost_facts("Due 2024-03-05.", "Due 5/3/2024.", "en") == []


def test_translations_and_summaries_keep_numbers_too() -> None:
    assert flagged(TRANSLATION, "The file is 1,200 bytes.", "Die Datei hat 1.200 Bytes.") == {}
    assert "keeps_numbers" in flagged(TRANSLATION, "The file is 3 MB.", "Die Datei hat 30 MB.")
    assert "keeps_numbers" in flagged(TRANSLATION, "Use %(name)s here.", "Verwenden Sie hier den Namen.")
    assert flagged(SUMMARY, "The 3 invoices, 1,200 EUR in all, go out on Friday after review.", "3 invoices go out.") == {}
    assert "adds_no_numbers" in flagged(SUMMARY, "The 3 invoices go out on Friday after the review.", "30 invoices go out.")


def test_german_nouns_are_not_names_and_a_fixed_typo_keeps_its_fact() -> None:
    text = "Einen Momnt bitte, die Seite wird geladen."
    assert names(text, "de") == set()
    assert flagged(EDIT, text, "Einen Moment bitte, die Seite wird geladen.") == {}
    assert names("Then Bob met Anna in Paris.", "en") == {"Bob", "Anna", "Paris"}
    assert flagged(EDIT, "We met Annna in Pariss.", "We met Anna in Paris.") == {}


def test_acronyms_and_identifiers_are_facts() -> None:
    assert acronyms("It is GNU software for the NSS service.") == {"GNU", "NSS"}
    assert acronyms("THIS IS ALL SHOUTED") == set(), "a text in capitals has no acronyms"
    lost = flagged(EDIT, "It is GNU software.", "It is software.")
    assert "GNU" in lost["keeps_facts"]
    assert identifiers("Run dpkg-reconfigure with --force on /etc/hosts for %(name)s and IPv6.") >= {
        "--force", "/etc/hosts", "%(name)s", "IPv6"}
    assert "%(name)s" in flagged(EDIT, "Hello %(name)s, welcome.", "Hello name, welcome.")["keeps_facts"]
    assert flagged(EDIT, "Between %1$s and %2$s.", "Between %s and %s.") == {}, "%1$s is %s put in its place"


def test_urls_and_emails_are_kept_as_written() -> None:
    assert facts_of("Mail anna@example.com or see https://example.com/help.") >= {
        "anna@example.com", "https://example.com/help."}
    assert "keeps_facts" in flagged(EDIT, "See https://popcon.debian.org/ for it.", "See https://popcon-debian.org/ for it.")


def test_a_number_may_be_read_either_way_only_where_the_language_is_unknown() -> None:
    assert number_values("1,200") == (frozenset({1.2, 1200.0}),)
    assert number_values("1,200", decimal_comma=False) == (frozenset({1200.0}),)
    assert number_values("1,200", decimal_comma=True) == (frozenset({1.2}),)
    assert "keeps_facts" in flagged(EDIT, "It has 15,000 rows in total.", "It has 15,0000 rows in total.")


def test_a_fact_is_kept_as_often_and_as_whole_as_the_text_has_it() -> None:
    text = "Type a few Latin letters, then switch to Latin mode."
    assert "Latin" in flagged(EDIT, text, "Type a few letters, then switch to Latin mode.")["keeps_facts"]
    fonts = "Use TerminusBold or TerminusBoldVGA for the console."
    assert "TerminusBold" in flagged(EDIT, fonts, "Use Bold or TerminusBoldVGA for the console.")["keeps_facts"]
    keyed = 'The default is XKBOPTIONS="${XKBOPTIONS}" here.'
    assert "XKBOPTIONS" in flagged(EDIT, keyed, 'The default is ="${XKBOPTIONS}" here.')["keeps_facts"]
    assert flagged(EDIT, "Per URI one wildcard; this URI has two.", "Per URI one wildcard; this URI has two.") == {}
