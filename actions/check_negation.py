"""Negation rules: an edit must not add or drop a negation (`keeps_negation`); a rewrite must say no
where the text says no (`keeps_polarity`).

Negations are counted in the text's language (fastText's guesses), from a word list per language and,
where the language builds negation into the word, from its morphology: Czech `ne-` verbs (nelze,
nemůže), Turkish `-me/-ma` (başlamıyor, yapılamaz, bulunamadı), Japanese ない/ません, Korean 않/없/안/못,
Persian نـ/نمی, Bengali -নি. A count that differs only by a typo in a negation word ("kine" fixed
to "keine") is not a change.

A rewrite may trade a "not" for a word of failure, lack, fault or invalidity ("could not create" for
"failed to create", "not active" for "inactive"), so `keeps_polarity` asks only that the answer is
negative (a negation or such a word) exactly when the text is: dropping the one "not" of a sentence
is caught, rewording it is not.
"""

from __future__ import annotations

import re
from collections import Counter

from rapidfuzz.distance import OSA

from phitray.actions.check_units import by_characters, words

LEXICON: dict[str, frozenset[str]] = {lang: frozenset(listed.split()) for lang, listed in {
    "en": "not no never nothing nobody none neither cannot without",
    "de": "nicht kein keine keinen keinem keiner keines nie niemals nichts niemand weder ohne",
    "fr": "ne pas non jamais aucun aucune sans rien",
    "es": "no nunca nada nadie ningún ninguno ninguna sin jamás tampoco",
    "pt": "não nunca nada ninguém nenhum nenhuma sem jamais",
    "it": "non mai nessuno nessuna nessun niente nulla senza",
    "nl": "niet geen nooit niets niemand zonder",
    "sv": "inte ej ingen inget inga aldrig ingenting utan",
    "da": "ikke ingen intet aldrig uden", "no": "ikke ingen intet aldri uten",
    "pl": "nie nigdy nic nikt żaden żadna żadne żadnego żadnych żadnej bez",
    "cs": "ne nic nikdo nikdy žádný žádná žádné žádného žádných bez", "sk": "nie nič nikto nikdy žiadny bez",
    "tr": "değil değildir yok hiç hiçbir asla hayır",
    "fi": "ei en et emme ette eivät älä älkää ilman",
    "ru": "не нет ни никогда ничего ничто никто нельзя без никакой никакого никакие",
    "uk": "не ні немає ніколи нічого ніхто без жоден жодного жодна жодні",
    "bg": "не няма никога нищо никой без", "el": "δεν δε μην μη όχι ποτέ τίποτα κανένας κανένα καμία χωρίς",
    "ar": "لا لم لن ليس ليست لست لسنا غير بدون دون بلا ولا فلا ولم فلم ولن وليس",
    "he": "לא ולא שלא אין ואין שאין אינו אינה אינם אינן איננו אינני בלי ללא מבלי",
    "fa": "نه خیر هیچ بدون", "hi": "नहीं नही न मत ना बिना", "bn": "না নয় নেই নাই নি বিনা",
    "vi": "không chưa chẳng chả đừng chớ", "id": "tidak tak bukan belum jangan tanpa tiada", "ms": "tidak tak bukan belum jangan tanpa",
    "ro": "nu nici niciodată nimic nimeni fără", "hu": "nem ne nincs sem soha semmi senki nélkül",
    "ko": "안 못",
}.items()}
# Words that say failure, lack, fault or invalidity, by how they start (for `keeps_polarity`).
NEGATIVE_STEMS: dict[str, tuple[str, ...]] = {lang: tuple(listed.split()) for lang, listed in {
    "en": "invalid incorrect unknown missing fail unable insufficient inactive unmatched unbalanced impossible "
          "lack unsuccessful error wrong bad broken corrupt unrecoverable irrecoverable",
    "de": "fehl ungültig unbekannt unmöglich inaktiv unzureichend ungenügend misslung gescheitert unpassend falsch "
          "schlecht störung defekt beschädigt unerlaubt unzulässig",
    "fr": "invalide incorrect inconnu impossible manquant échec échoué inactif insuffisant erreur erroné mauvais "
          "mauvaise défectueu corrompu",
    "es": "inválid incorrect desconocid imposible falta fallo falló fallid inactiv insuficiente error erróne mal "
          "dañad corrupt",
    "pt": "inválid incorret desconhecid impossível falta falha falhou inativ insuficiente erro errad mau má "
          "danificad corrompid demasiad desmarc",
    "it": "invalid errat erron errore sconosciut impossibil mancant fallit fallimento insufficient inattiv sbagliat "
          "cattiv danneggiat corrott",
    "nl": "ongeldig onjuist onbekend onmogelijk ontbre mislukt misgegaan inactief onvoldoende fout verkeerd slecht "
          "beschadigd corrupt",
    "sv": "ogiltig felaktig okänd omöjlig saknas misslyck inaktiv otillräcklig fel dålig otillåt skadad korrupt",
    "pl": "nieprawidłow niepoprawn nieznan nieudan niemożliw nieaktywn niewystarczając brak błąd błęd zł "
          "niewłaściw uszkodz",
    "cs": "chyb selh neúspě špatn poškoz", "tr": "başarısız geçersiz yetersiz eksik hata bilinmeyen bozuk "
          "yanlış kötü", "fi": "epä virhe puuttu väärä huono vika",
    "ru": "неизвест невер недопустим невозмож неправил неактив некоррект недостаточн неуда отсутств ошибк сбой "
          "плох повреж", "uk": "невідом невір неприпуст неможлив неправил неактивн непарн недостатн невдал "
          "відсутн помилк збій поган пошкодж недійсн некорект",
    "el": "άκυρ άγνωστ αδύνατ ανεπαρκ αποτυχ λείπ αταίριαστ σφάλμα λάθ κακ αλλοιωμέν",
    "ko": "잘못 실패 오류 부족 부적절 나쁜 손상", "ar": "تعذر تعذَّر فشل خطأ مفقود مجهول سيء خاطئ تالف",
    "he": "נכשל שגוי שגיאה חסר רע פגום מדי", "fa": "نامعتبر نامشخص ناموفق ناشناخته نادرست خطا بد اشتباه",
    "hi": "अमान्य असफल अज्ञात विफल त्रुटि गलत खराब", "bn": "অবৈধ ব্যর্থ অজানা ত্রুটি ভুল খারাপ",
    "vi": "lỗi thất sai hỏng", "id": "gagal kegagalan salah kesalahan buruk rusak",
}.items()}
# Negation inside a word: (pattern searched in each word, or in the whole text for unspaced scripts).
MORPHOLOGY: dict[str, re.Pattern[str]] = {
    "en": re.compile(r"n['’]t$"),
    "fr": re.compile(r"^n['’]"),
    "cs": re.compile(r"^ne(?!bo|j|ž|ch|ť|vě|rv|ko)\w{3,}"),
    "sk": re.compile(r"^ne(?!bo|j|ž|ch|ť)\w{3,}"),
    "tr": re.compile(r"s[ıiuü]z(?:l[ıiuü]k\w*)?$|m(?:[ıiuü]yor|[ae]z(?:s[ıi]n|l[ae]r)?$|[ae]d[ıiuü]|[ae]y[ae]c[ae]k|[ae]m[ıiuü]ş|[ae]s[ıiuü]n|"
                     r"[ae]d[ae]n|[ae]y[ae]n|[ae]y[ıi]n)"),
    "fa": re.compile(r"^(?:نمی|نی?ست|ن(?:دار|شد|شو|باید|کن|کرد|توان|خواه|ده|گذار|یاف|بود|یا|گیر|رس|دید|بین|یست))"),
    "bn": re.compile(r"(?:েনি|য়নি|িনি)$"),
    "ko": re.compile(r"않|없|아니|아닙|^못"),
    "ja": re.compile(r"(?<![少危幼汚])ない|なかっ|ません|ず(?=[にで、。])|なく"),
    "zh": re.compile(r"[不没沒未无無别別勿]|非(?!常)"),
}
# Negative words of unspaced languages, searched in the whole text (for `keeps_polarity`).
NEGATIVE_WORDS = {"ja": re.compile(r"無効|不明|未知|失敗|不正|不足|不可|誤|間違|エラー|破損"),
                  "zh": re.compile(r"失败|错误|缺少|错|坏|损坏")}
UNSPACED_LANGUAGES = ("ja", "zh")
TYPO_DISTANCE = 1  # one letter dropped, added, changed, or two swapped


DOUBLED = re.compile(r"(.)\1")


def negations(text: str, languages: tuple[str, ...], negative_words: bool = False) -> Counter[str]:
    """Each negation of the text, by how it is written; a word is one negation whichever language calls it so.
    In unspaced scripts a doubled character counts once (ませせん is ません typed twice). `negative_words`:
    words of failure, lack, fault or invalidity count too."""
    found: Counter[str] = Counter()
    for lang in languages:
        if lang in UNSPACED_LANGUAGES:
            single = DOUBLED.sub(r"\1", text)
            found.update(m.group() for m in MORPHOLOGY[lang].finditer(single))
            if negative_words:
                found.update(m.group() for m in NEGATIVE_WORDS[lang].finditer(single))
    spaced = [lang for lang in languages if lang not in UNSPACED_LANGUAGES]
    if spaced:
        lexicon = frozenset().union(*(LEXICON.get(lang, frozenset()) for lang in spaced))
        morphology = [MORPHOLOGY[lang] for lang in spaced if lang in MORPHOLOGY]
        stems = tuple(stem for lang in spaced for stem in NEGATIVE_STEMS.get(lang, ())) if negative_words else ()
        for token in words(text):
            if token in lexicon or (stems and token.startswith(stems)) or any(p.search(token) for p in morphology):
                found[token] += 1
    return found


def _typo_of_negation(token: str, negation: str, shortest: int = 5) -> bool:
    """One letter off a negation at least `shortest` letters long; two letters swapped in a shorter one ("nto")."""
    if token == negation or len(negation) < 3 or negation.endswith(token):  # "lze" is "nelze" without its ne-
        return False
    if len(negation) >= shortest:
        return OSA.distance(token, negation) <= TYPO_DISTANCE
    return sorted(token) == sorted(negation) and OSA.distance(token, negation) == 1


def mistyped(text: str, answer: str, languages: tuple[str, ...]) -> int:
    """Negations of the text written with a typo that the answer does not keep as they are: a word of the
    negation list ("kine", "nicth"), or one letter off a negation the answer writes ("ndeovoleně" for
    "nedovoleně"). A proofread fixes them, so they count as the negations they were meant to be."""
    lexicon = frozenset().union(*(LEXICON.get(lang, frozenset()) for lang in languages))
    written = set(negations(answer, languages))
    kept = set(words(answer))
    return sum(1 for token in words(text) if token not in kept and not negations(token, languages)
               and (any(_typo_of_negation(token, negation) for negation in lexicon)
                    or any(_typo_of_negation(token, negation, shortest=4) for negation in written)))


def misread(text: str, answer: str, languages: tuple[str, ...]) -> int:
    """Negations of the text that are typos of a plain word the answer writes ("neebo" for "nebo"); not
    the word with its negating prefix ("nelze", "نمی‌توان"), nor a phrase of an unspaced script."""
    kept = set(words(answer))
    plain = {token for token in kept if len(token) >= 4 and not negations(token, languages) and not by_characters(token)}
    return sum(1 for token in words(text) if token not in kept and negations(token, languages)
               and any(OSA.distance(token, word) <= TYPO_DISTANCE and not token.endswith(word) for word in plain))


def compare(text: str, answer: str, languages: tuple[str, ...]) -> tuple[bool, str]:
    """(passed, reason): the answer has as many negations as the text, typos in the text's forgiven."""
    before, after = negations(text, languages), negations(answer, languages)
    change = sum(after.values()) - sum(before.values()) - mistyped(text, answer, languages) \
        + misread(text, answer, languages)
    if change > 0:
        added = after - before
        return False, f"The answer adds a negation ({', '.join(sorted(added))}): its meaning may have turned around."
    if change < 0:
        dropped = before - after
        shown = ", ".join(sorted(dropped)) or "a mistyped one"
        return False, f"The answer drops a negation ({shown}): its meaning may have turned around."
    return True, ""


def compare_polarity(text: str, answer: str, languages: tuple[str, ...],
                     answer_languages: tuple[str, ...] | None = None) -> tuple[bool, str]:
    """(passed, reason): the answer is negative (a negation, or a word of failure, lack or invalidity)
    exactly when the text is; a translation's answer is read in its own languages."""
    before = negations(text, languages, negative_words=True)
    after = negations(answer, answer_languages or languages, negative_words=True)
    if bool(before) == bool(after):
        return True, ""
    if after:
        return False, f"The answer adds a negation ({', '.join(sorted(after))}): its meaning may have turned around."
    return False, f"The answer drops a negation ({', '.join(sorted(before))}): its meaning may have turned around."
