"""The language rules: a language asked for by its English name, its own name or its code; a name the checks
do not know is an error where the action is checked and a failed check where the answer is, never a pass."""

from __future__ import annotations

import argparse
from pathlib import Path

import pytest

from phitray.actions.check_language import detect_language, language_code, same_language, script
from phitray.actions.checks import Checks, check_answer, failed
from phitray.actions.library import load_actions
from phitray.actions.model import parse_action
from phitray.cli.actions import cmd_check
from phitray.errors import ActionFileError
from phitray.paths import Paths

TRANSLATE = load_actions(None).get("translate")


def translate_flags(text: str, answer: str, language: str) -> dict[str, str]:
    values = TRANSLATE.values({"language": language})
    return {c.name: c.reason for c in failed(check_answer(TRANSLATE.checks, text, answer, values))}


@pytest.mark.parametrize(("name", "code"), [
    ("German", "de"), ("Deutsch", "de"), ("de", "de"), ("Français", "fr"), ("日本語", "ja"), ("中文", "zh"),
    ("Simplified Chinese", "zh"), ("pt-BR", "pt"), ("Brazilian Portuguese", "pt"), ("한국어", "ko"), ("العربية", "ar"),
    ("עברית", "he"), ("فارسی", "fa"), ("Farsi", "fa"), ("हिन्दी", "hi"), ("বাংলা", "bn"), ("Bahasa Indonesia", "id"),
    ("Englisch", "en"), ("norsk bokmål", "no"), ("  english  ", "en"), ("Chinese (Simplified)", "zh"),
])
def test_a_language_is_known_by_its_english_name_its_own_name_and_its_code(name: str, code: str) -> None:
    assert language_code(name) == code


def test_an_untranslated_answer_fails_whatever_the_language_is_called() -> None:
    text = "Your old password was entered incorrectly. Please enter it again."
    for name in ("German", "Deutsch", "de"):
        assert "target_language" in translate_flags(text, text, name), name
        assert translate_flags(text, "Ihr altes Passwort war falsch. Bitte erneut eingeben.", name) == {}


def test_a_language_the_checks_do_not_know_fails_the_check_and_the_action_file() -> None:
    reason = translate_flags("Good morning, how are you today?", "Qapla', nuqneH?", "Klingonish")["target_language"]
    assert "not a language the checks know" in reason
    with pytest.raises(ActionFileError, match="placeholders.language: 'Klingonish' is not a language"):
        parse_action({"id": "t", "title": "T", "prompt": "$language $text", "placeholders": {"language": "Klingonish"},
                      "checks": {"target_language": True}}, "t.toml")
    with pytest.raises(ActionFileError, match="checks.target_language: needs a \\$language placeholder"):
        parse_action({"id": "t", "title": "T", "prompt": "$text", "checks": {"target_language": True}}, "t.toml")


def test_a_short_answer_in_the_wrong_script_is_caught_though_too_short_for_a_guess() -> None:
    assert "target_language" in translate_flags("Save", "Сохранить", "Japanese")
    assert translate_flags("Save", "保存", "Japanese") == {}
    assert script("キーボードの値は XKBLAYOUT=\"${XKBLAYOUT}\" です。") == "CJK", "code is no part of the script"


def test_a_short_english_sentence_is_not_taken_for_another_language() -> None:
    assert same_language("No month specified", "No month was specified")[0]
    assert same_language("Reset my password", "Reset my password now")[0]
    assert not same_language("The report will be sent tomorrow after the review.",
                             "Der Bericht wird morgen nach der Prüfung verschickt.")[0]


@pytest.mark.parametrize(("text", "language"), [
    ("Das Treffen ist am Dienstag.", "de"), ("会議は火曜日に移動しました。", "ja"), ("会议改到星期二了。", "zh"),
    ("회의가 화요일로 옮겨졌습니다.", "ko"), ("تم تأجيل الاجتماع إلى يوم الثلاثاء.", "ar"), ("הפגישה נדחתה ליום שלישי.", "he"),
    ("The meeting moved to Tuesday.", "en"), ("Hi", None),
])
def test_languages_of_short_cjk_and_right_to_left_text(text: str, language: str | None) -> None:
    assert detect_language(text) == language


def test_same_language_is_off_for_translations_only() -> None:
    assert Checks().same_language and not TRANSLATE.checks.same_language


def test_actions_check_names_a_language_it_does_not_know(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    paths = Paths(tmp_path / "config", tmp_path / "data", tmp_path / "cache", tmp_path / "log")
    paths.user_actions_dir.mkdir(parents=True)
    assert cmd_check(argparse.Namespace(), paths) == 0
    paths.settings_file.write_text('[translate]\nlanguage = "Deutsch"\n', encoding="utf-8")
    assert cmd_check(argparse.Namespace(), paths) == 0
    paths.settings_file.write_text('[translate]\nlanguage = "Klingonish"\n', encoding="utf-8")
    (paths.user_actions_dir / "to-elvish.toml").write_text(
        'id = "to-elvish"\ntitle = "Elvish"\nprompt = "Into $language: $text"\n'
        '[placeholders]\nlanguage = "Sindarin-ish"\n[checks]\nsame_language = false\ntarget_language = true\n',
        encoding="utf-8")
    assert cmd_check(argparse.Namespace(), paths) == 1
    said = capsys.readouterr().out
    assert "translate.language: 'Klingonish' is not a language the checks know" in said
    assert "to-elvish.toml: placeholders.language: 'Sindarin-ish' is not a language" in said
