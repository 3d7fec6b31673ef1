"""The negation rules in the languages the checks bench measures: a dropped negation is caught, in word
lists and in morphology; a typo in a negation is not a change; a rewrite may reword a negation."""

from __future__ import annotations

import pytest

from phitray.actions.checks import Checks, check_answer, failed

PROOFREAD = Checks(keeps_negation=True, same_language=False)
REWRITE = Checks(keeps_polarity=True, same_language=False)


def flagged(checks: Checks, text: str, answer: str) -> set[str]:
    return {c.name for c in failed(check_answer(checks, text, answer))}


@pytest.mark.parametrize(("text", "dropped"), [
    ("The translation files aren't ready yet, so the release is delayed.",
     "The translation files are ready yet, so the release is delayed."),
    ("Die Übersetzungen sind noch nicht fertig, deshalb verzögert sich die Veröffentlichung.",
     "Die Übersetzungen sind noch fertig, deshalb verzögert sich die Veröffentlichung."),
    ("Если его ID не начинается с буквы, запись будет отклонена.",
     "Если его ID начинается с буквы, запись будет отклонена."),
    ("Tento soubor nelze otevřít, protože ho používá jiný program.", "Tento soubor lze otevřít, protože ho používá jiný program."),
    ("Dosya şu anda açılamıyor çünkü başka bir program kullanıyor.",
     "Dosya şu anda açılıyor çünkü başka bir program kullanıyor."),
    ("このファイルは開けません。別のプログラムが使用しています。", "このファイルは開けます。別のプログラムが使用しています。"),
    ("이 파일은 다른 프로그램이 사용 중이어서 열리지 않습니다.", "이 파일은 다른 프로그램이 사용 중이어서 열립니다."),
    ("这个文件不能打开，因为另一个程序正在使用它。", "这个文件能打开，因为另一个程序正在使用它。"),
    ("لا يمكن فتح هذا الملف لأن برنامجا آخر يستخدمه.", "يمكن فتح هذا الملف لأن برنامجا آخر يستخدمه."),
    ("אי אפשר לפתוח את הקובץ כי הוא לא נמצא בתיקייה.", "אי אפשר לפתוח את הקובץ כי הוא נמצא בתיקייה."),
    ("این فایل را نمی‌توان باز کرد چون برنامه دیگری از آن استفاده می‌کند.",
     "این فایل را می‌توان باز کرد چون برنامه دیگری از آن استفاده می‌کند."),
    ("यह फ़ाइल नहीं खुल सकती क्योंकि कोई दूसरा प्रोग्राम इसका उपयोग कर रहा है।",
     "यह फ़ाइल खुल सकती क्योंकि कोई दूसरा प्रोग्राम इसका उपयोग कर रहा है।"),
    ("Filen kan inte öppnas eftersom ett annat program använder den.",
     "Filen kan öppnas eftersom ett annat program använder den."),
])
def test_a_dropped_negation_is_caught_in_each_language(text: str, dropped: str) -> None:
    assert flagged(PROOFREAD, text, text) == set()
    assert "keeps_negation" in flagged(PROOFREAD, text, dropped)
    assert "keeps_polarity" in flagged(REWRITE, text, dropped)


@pytest.mark.parametrize(("typed", "fixed"), [
    ("Es gibt kine gültige Zahl in diesem Feld.", "Es gibt keine gültige Zahl in diesem Feld."),
    ("Die Seite konnte nicth gefunden werden.", "Die Seite konnte nicht gefunden werden."),
    ("Hanya proses direktori ini. Jagan buat cache.", "Hanya proses direktori ini. Jangan buat cache."),
    ("Data objektu chybí nebo s nimi bylo ndeovoleně manipulováno.", "Data objektu chybí nebo s nimi bylo nedovoleně manipulováno."),
    ("Hodnota musí být menší neebo rovna 2,5.", "Hodnota musí být menší nebo rovna 2,5."),
    ("同一コレクション内で複数の権限を持つことはできませせん", "同一コレクション内で複数の権限を持つことはできません"),
])
def test_a_typo_in_or_near_a_negation_is_not_a_change(typed: str, fixed: str) -> None:
    assert flagged(PROOFREAD, typed, fixed) == set()


def test_a_mistyped_negation_dropped_by_the_answer_is_still_caught() -> None:
    assert "keeps_negation" in flagged(PROOFREAD, "Die Seite konnte nicth gefunden werden.", "Die Seite konnte gefunden werden.")


def test_a_negating_prefix_added_is_not_taken_for_a_typo() -> None:
    text = "این فایل را می‌توان باز کرد."
    assert "keeps_negation" in flagged(PROOFREAD, text, text.replace("می‌توان", "نمی‌توان"))
    assert "keeps_negation" in flagged(PROOFREAD, "Soubor lze otevřít hned.", "Soubor nelze otevřít hned.")


@pytest.mark.parametrize(("text", "rewritten"), [
    ("Could not create the pipe.", "Failed to create the pipe."),
    ("Dieses Konto ist nicht aktiv.", "Dieses Konto ist inaktiv."),
    ("Argomenti non sufficienti", "Argomenti insufficienti"),
    ("Эта учётная запись не активна.", "Эта учётная запись неактивна."),
])
def test_a_rewrite_may_trade_a_not_for_a_word_of_failure(text: str, rewritten: str) -> None:
    assert flagged(REWRITE, text, rewritten) == set()
    assert "keeps_negation" in flagged(PROOFREAD, text, rewritten), "a proofread keeps the wording"
