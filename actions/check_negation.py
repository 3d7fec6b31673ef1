"""The negation rule (`keeps_negation`): an edit must not add or drop a negation.

Negations are counted in the text's language (fastText's guesses), from a word list per language and,
where the language builds negation into the word, from its morphology: Czech `ne-` verbs (nelze,
nemůže), Turkish `-me/-ma` (başlamıyor, yapılamaz, bulunamadı), Japanese ない/ません, Korean 않/없/안/못,
Persian نـ/نمی, Bengali -নি. A count that differs only by a typo in a negation word ("kine" fixed to
"keine") is not a change.
"""

from __future__ import annotations

import re
from collections import Counter

from rapidfuzz.distance import OSA

from phitray.actions.check_units import words

LEXICON: dict[str, frozenset[str]] = {lang: frozenset(listed.split()) for lang, listed in {
    "en": "not no never nothing nobody none neither nor cannot without",
    "de": "nicht kein keine keinen keinem keiner keines nie niemals nichts niemand weder ohne",
    "fr": "ne jamais aucun aucune sans rien ni",
    "es": "no nunca nada nadie ningún ninguno ninguna ni sin jamás tampoco",
    "pt": "não nunca nada ninguém nenhum nenhuma nem sem jamais",
    "it": "non mai nessuno nessuna nessun niente nulla né senza",
    "nl": "niet geen nooit niets niemand noch zonder",
    "sv": "inte ej ingen inget inga aldrig ingenting utan",
    "da": "ikke ingen intet aldrig uden", "no": "ikke ingen intet aldri uten",
    "pl": "nie nigdy nic nikt żaden żadna żadne żadnego żadnych żadnej bez ani",
    "cs": "ne nic nikdo nikdy žádný žádná žádné žádného žádných bez ani", "sk": "nie nič nikto nikdy žiadny bez ani",
    "tr": "değil değildir yok hiç hiçbir asla hayır",
    "fi": "ei en et emme ette eivät älä älkää ilman",
    "ru": "не нет ни никогда ничего ничто никто нельзя без никакой никакого никакие",
    "uk": "не ні немає ніколи нічого ніхто без жоден жодного жодна жодні",
    "bg": "не няма никога нищо никой без", "el": "δεν δε μην μη όχι ποτέ τίποτα κανένας κανένα καμία χωρίς",
    "ar": "لا لم لن ليس ليست لست لسنا غير بدون دون بلا ولا فلا ولم فلم ولن وليس",
    "he": "לא ולא שלא אין ואין שאין אינו אינה אינם אינן איננו אינני בלי ללא מבלי",
    "fa": "نه هیچ بدون", "hi": "नहीं नही न मत ना बिना", "bn": "না নয় নেই নাই নি বিনা",
    "vi": "không chưa chẳng chả đừng chớ", "id": "tidak tak bukan belum jangan tanpa tiada", "ms": "tidak tak bukan belum jangan tanpa",
    "ro": "nu nici niciodată nimic nimeni fără", "hu": "nem ne nincs sem soha semmi senki nélkül",
    "ko": "안 못",
}.items()}
# Negation inside a word: (pattern searched in each word, or in the whole text for unspaced scripts).
MORPHOLOGY: dict[str, re.Pattern[str]] = {
    "en": re.compile(r"n['’]t$"),
    "fr": re.compile(r"^n['’]"),
    "cs": re.compile(r"^ne(?!bo|j|ž|ch|ť|vě|rv|ko)\w{3,}"),
    "sk": re.compile(r"^ne(?!bo|j|ž|ch|ť)\w{3,}"),
    "tr": re.compile(r"m(?:[ıiuü]yor|[ae]z(?:s[ıi]n|l[ae]r)?$|[ae]d[ıiuü]|[ae]y[ae]c[ae]k|[ae]m[ıiuü]ş|[ae]s[ıiuü]n|"
                     r"[ae]d[ae]n|[ae]y[ae]n|[ae]y[ıi]n)"),
    "fa": re.compile(r"^(?:نمی|نی?ست|ن(?:دار|شد|شو|باید|کن|کرد|توان|خواه|ده|گذار|یاف|بود|یا|گیر|رس|دید|بین|یست))"),
    "bn": re.compile(r"(?:েনি|য়নি|িনি)$"),
    "ko": re.compile(r"않|없|아니|아닙|^못"),
    "ja": re.compile(r"(?<![少危幼汚])ない|なかっ|ません|ず(?=[にで、。])|なく"),
    "zh": re.compile(r"[不没沒未无無别別勿]|非(?!常)"),
}
UNSPACED_LANGUAGES = ("ja", "zh")
TYPO_DISTANCE = 1  # one letter dropped, added, changed, or two swapped


def negations(text: str, languages: tuple[str, ...]) -> Counter[str]:
    """Each negation of the text, by how it is written."""
    found: Counter[str] = Counter()
    tokens = words(text)
    for lang in languages:
        if lang in UNSPACED_LANGUAGES:
            found.update(m.group() for m in MORPHOLOGY[lang].finditer(text))
            continue
        lexicon, morphology = LEXICON.get(lang, frozenset()), MORPHOLOGY.get(lang)
        for token in tokens:
            if token in lexicon or (morphology is not None and morphology.search(token)):
                found[token] += 1
    return found


def _typo_of_negation(token: str, negation: str) -> bool:
    return len(negation) >= 4 and token != negation and OSA.distance(token, negation) <= TYPO_DISTANCE


def _explained_by_typos(extra: Counter[str], other_text: str) -> int:
    """How many of the extra negations the other text writes with a typo ("kine" for "keine")."""
    tokens = Counter(words(other_text))
    explained = 0
    for negation, count in extra.items():
        for token in list(tokens):
            while count and tokens[token] and _typo_of_negation(token, negation):
                count -= 1
                tokens[token] -= 1
                explained += 1
    return explained


def compare(text: str, answer: str, languages: tuple[str, ...]) -> tuple[bool, str]:
    """(passed, reason): the answer has as many negations as the text, typos in them forgiven."""
    before, after = negations(text, languages), negations(answer, languages)
    change = sum(after.values()) - sum(before.values())
    if change > 0:
        added = after - before
        if change - _explained_by_typos(added, text) > 0:
            return False, f"The answer adds a negation ({', '.join(sorted(added))}): its meaning may have turned around."
    elif change < 0:
        dropped = before - after
        if -change - _explained_by_typos(dropped, answer) > 0:
            return False, f"The answer drops a negation ({', '.join(sorted(dropped))}): its meaning may have turned around."
    return True, ""
