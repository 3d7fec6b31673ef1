"""The checks bench's cases: good answers from real text (bench/corpus/messages.json) and bad ones made from them.

Good answers: a proofread is the real sentence as the fix of made-up typos; a rewrite, a tone or a concise
answer is another human translation of the same English (a real paraphrase); a translation is the human
one; a summary is a faithful extract; key points and a bullet list are its sentences as a list. Bad
answers break one thing of a good one: a number, a name, an acronym, an identifier, a negation, the
language, the length; or they loop, echo the prompt, are empty, or belong to another text.
"""

from __future__ import annotations

import json
import random
import re
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

CORPUS = Path(__file__).resolve().parent / "corpus" / "messages.json"
# The language names translate is asked for, in three spellings: English, the language's own, its code.
NAMES = {
    "en": ("English", "English"), "de": ("German", "Deutsch"), "fr": ("French", "Français"), "es": ("Spanish", "Español"),
    "pt": ("Portuguese", "Português"), "it": ("Italian", "Italiano"), "nl": ("Dutch", "Nederlands"),
    "sv": ("Swedish", "Svenska"), "pl": ("Polish", "Polski"), "cs": ("Czech", "Čeština"), "tr": ("Turkish", "Türkçe"),
    "fi": ("Finnish", "Suomi"), "ru": ("Russian", "Русский"), "uk": ("Ukrainian", "Українська"),
    "el": ("Greek", "Ελληνικά"), "ja": ("Japanese", "日本語"), "zh": ("Chinese", "中文"), "ko": ("Korean", "한국어"),
    "ar": ("Arabic", "العربية"), "he": ("Hebrew", "עברית"), "fa": ("Persian", "فارسی"), "hi": ("Hindi", "हिन्दी"),
    "bn": ("Bengali", "বাংলা"), "vi": ("Vietnamese", "Tiếng Việt"), "id": ("Indonesian", "Bahasa Indonesia"),
}
UNSPACED = ("ja", "zh")
# The bench's own way to take a negation out, per language: (pattern, replacement), tried in order.
NEGATION_DROPS: dict[str, tuple[tuple[str, str], ...]] = {
    "en": ((r"\bcannot\b", "can"), (r"\bcan't\b", "can"), (r"\bwon't\b", "will"), (r"n't\b", ""), (r"\s\bnot\b", ""),
           (r"\bnever\s", ""), (r"\b[Nn]o\s", "")),
    "de": ((r"\s\bnicht\b", ""), (r"\b([Kk])ein", r"ein"), (r"\bnie(mals)?\s", "")),
    "fr": ((r"\bn(?:e\s+|['’])(\S+)\s+(?:pas|plus|jamais)\b", r"\1"), (r"\b([Aa])ucune?\b", "une"), (r"\bsans\b", "avec")),
    "es": ((r"\b[Nn]o\s", ""), (r"\bnunca\s", ""), (r"\bning[uú]n[oa]?\b", "un"), (r"\bsin\b", "con")),
    "pt": ((r"\b[Nn]ão\s", ""), (r"\bnenhum\b", "um"), (r"\bnenhuma\b", "uma"), (r"\bnunca\s", ""), (r"\bsem\b", "com")),
    "it": ((r"\b[Nn]on\s", ""), (r"\bnessun[oa]?\b", "un"), (r"\bsenza\b", "con")),
    "nl": ((r"\s\bniet\b", ""), (r"\b([Gg])een\b", "een"), (r"\bnooit\s", "")),
    "sv": ((r"\s\binte\b", ""), (r"\s\bej\b", ""), (r"\bingen\b", "en"), (r"\binget\b", "ett"), (r"\baldrig\s", "")),
    "pl": ((r"\b[Nn]ie\s", ""), (r"\bnigdy\s", ""), (r"\bżadn(\w+)", r"jakiś")),
    "cs": ((r"\bnení\b", "je"), (r"\bnejsou\b", "jsou"), (r"\b([Nn])e(?!bo|j|ž|ch|ť)(\w{3,})", r"\2"),
           (r"\bžádn(\w+)", r"nějak\1"), (r"\bnic\b", "něco")),
    "tr": ((r"\s\bdeğil\w*", ""), (r"m([ıiuü])yor", r"\1yor"), (r"m([ae])d([ıiuü])", r"d\2"), (r"([^\W\d])m([ae])z\b", r"\1r"),
           (r"\byok\b", "var"), (r"\bhiçbir\b", "bir"), (r"m([ae])y([ae])n\b", r"y\2n")),
    "fi": ((r"\b[Ee]i\s", ""), (r"\b(en|et|emme|ette|eivät)\s", "")),
    "ru": ((r"\b[Нн]е\s", ""), (r"\bнет\b", "есть"), (r"\bнельзя\b", "можно"), (r"\bникогда\b", "всегда"), (r"\bбез\b", "с")),
    "uk": ((r"\b[Нн]е\s", ""), (r"\bнемає\b", "є"), (r"\bніколи\b", "завжди"), (r"\bбез\b", "з")),
    "el": ((r"\b[Δδ]εν\s", ""), (r"\b[Μμ]ην\s", ""), (r"\bχωρίς\b", "με")),
    "ja": ((r"できません", "できます"), (r"ありません", "あります"), (r"ません", "ます"), (r"できない", "できる"),
           (r"ではない", "である"), (r"しない", "する"), (r"いない", "いる"), (r"ない", "る")),
    "zh": ((r"没有", "有"), (r"无法", "可以"), (r"不能", "能"), (r"不", ""), (r"未", "已"), (r"無", "有"), (r"无", "有"), (r"没", "")),
    "ko": ((r"지 않습니다", "습니다"), (r"지 않", ""), (r"없습니다", "있습니다"), (r"없는", "있는"), (r"없", "있"),
           (r"아닙니다", "입니다"), (r"\b안\s", ""), (r"\b못\s", "")),
    "ar": ((r"(^|\s)(لا|لم|لن)\s", r"\1"), (r"(^|\s)ليس(ت)?\s", r"\1"), (r"(^|\s)غير\s", r"\1"), (r"بدون", "مع")),
    "he": ((r"(^|\s)לא\s", r"\1"), (r"(^|\s)אין\s", r"\1יש "), (r"(^|\s)(ללא|בלי)\s", r"\1עם ")),
    "fa": ((r"نمی", "می"), (r"نیست", "است"), (r"(^|\s)ن(باید|دارد|شد|توان)", r"\1\2"), (r"(^|\s)هیچ\s", r"\1")),
    "hi": ((r"(^|\s)नहीं(\s|$)", r"\1"), (r"(^|\s)(न|मत)\s", r"\1"), (r"बिना", "साथ")),
    "bn": ((r"(^|\s)না(\s|$|।)", r"\1\2"), (r"নয়", "হয়"), (r"নেই", "আছে"), (r"নি(\s|$|।)", r"\1")),
    "vi": ((r"\b[Kk]hông\s", ""), (r"\b[Cc]hưa\s", "đã "), (r"\bchẳng\s", "")),
    "id": ((r"\b[Tt]idak\s", ""), (r"\b[Bb]ukan\s", ""), (r"\b[Bb]elum\s", "sudah "), (r"\btanpa\b", "dengan"), (r"\b[Jj]angan\s", "")),
}
DIGIT_RUN = re.compile(r"(?<![\w%{$/.,#-])\d+(?![\w/])")  # the whole part of a number standing alone
DECIMAL = re.compile(r"(\d)[.,٫](\d{1,2})(?!\d)")
NUMBER = re.compile(r"[-−]?\d+(?:[.,\u00a0\u202f٬٫]\d+)*")
URL = re.compile(r"https?://[^\s<>\"')\]]+")
SENTENCE_END = re.compile(r"(?<=[.!?。！？؟।])\s+|(?<=[。！？])")


@dataclass(frozen=True)
class Case:
    action: str
    lang: str
    kind: str  # "good", or what was broken
    text: str  # the input
    raw: str  # what the model streams (before the stop string and cleanup)
    values: tuple[tuple[str, str], ...] = ()
    message: str = ""


def load() -> list[dict]:
    return list(json.loads(CORPUS.read_text(encoding="utf-8")))


def texts(message: dict) -> dict[str, str]:
    return {"en": message["en"], **message["text"]}


def units(text: str, lang: str) -> list[str]:
    return list(text) if lang in UNSPACED else text.split(" ")


def join(parts: list[str], lang: str) -> str:
    return ("" if lang in UNSPACED else " ").join(parts)


def typo(text: str, lang: str, rng: random.Random) -> str:
    """The text with made-up slips: a letter dropped, swapped or doubled in about one word in four."""
    if lang in UNSPACED:
        chars = list(text)
        for i in sorted(rng.sample(range(len(chars)), max(1, len(chars) // 12)), reverse=True):
            if chars[i].isalpha() and not chars[i].isascii():  # slips in the script's own letters, not in code
                chars[i:i + 1] = [] if rng.random() < 0.5 else [chars[i], chars[i]]
        return "".join(chars)
    out = []
    for word in text.split(" "):
        letters = [i for i, c in enumerate(word) if c.isalpha()]
        plain = len(letters) >= 4 and not any(c.isdigit() or c in "%{$/_@=" for c in word) and not word.isupper() \
            and not word.startswith("-")
        if plain and rng.random() < 0.25:
            i = rng.choice(letters[1:-1] or letters)
            how = rng.randrange(3)
            if how == 0:
                word = word[:i] + word[i + 1:]
            elif how == 1 and i + 1 < len(word) and word[i + 1].isalpha():
                word = word[:i] + word[i + 1] + word[i] + word[i + 2:]
            else:
                word = word[:i] + word[i] + word[i:]
        out.append(word)
    result = " ".join(out)
    if result and result[0].isupper() and rng.random() < 0.3:
        result = result[0].lower() + result[1:]
    return result


def sentences(text: str) -> list[str]:
    return [s for s in SENTENCE_END.split(text.replace("\n\n", " ")) if s.strip()]


def extract(paragraph: str, share: float) -> str | None:
    """The first sentences of a text, at most `share` of its length: a faithful extract."""
    picked: list[str] = []
    for sentence in sentences(paragraph):
        if len(" ".join(picked + [sentence])) > share * len(paragraph):
            break
        picked.append(sentence)
    return " ".join(picked) if picked else None


def verbatim_facts(answer: str, english: str) -> dict[str, list[str]]:
    """Tokens of the answer written the same in the English source: names, acronyms and identifiers that
    translators keep, found without the checks' own rules."""
    found: dict[str, list[str]] = {"acronym": [], "name": [], "identifier": []}
    english_tokens = set(re.findall(r"[\w%{}$/.()-]+", english))
    for match in re.finditer(r"[\w%{}$/.()-]+", answer):
        token = match.group().strip(".-()")
        before = answer[: match.start()].rstrip()
        if token not in english_tokens or len(token) < 2 or token.isdigit() or not re.search(r"[A-Za-z]", token):
            continue
        if re.search(r"[%{}$/_]|\d", token) or re.search(r"[a-z][A-Z]", token):
            found["identifier"].append(token)
        elif token.isupper() and token.isalpha():
            found["acronym"].append(token)
        elif token[0].isupper() and token[1:].islower() and token.isascii() and before and before[-1] not in ".!?:;\"“(-*•#\n":
            found["name"].append(token)
    return found


def drop(text: str, token: str) -> str:
    """The text without one whole occurrence of the token (TerminusBold is not taken out of TerminusBoldVGA)."""
    whole = re.compile(rf"(?<![\w]){re.escape(token)}(?![\w])")
    return re.sub(r"[ \t]{2,}", " ", whole.sub("", text, count=1)).strip()


def bad_answers(action: str, text: str, good: str, lang: str, english: str, rng: random.Random,
                other_language: str, unrelated: str) -> Iterator[tuple[str, str]]:
    """(kind, answer) for each way this good answer can be broken."""
    digits = list(DIGIT_RUN.finditer(good))
    summary = action in ("summarize", "key-points")
    if digits:
        first = digits[rng.randrange(len(digits))]
        zero = chr(ord(first.group()[0]) - int(first.group()[0]))  # 0 in the number's own script
        yield "number ×10", good[:first.end()] + zero + good[first.end():]
        changed = "".join(chr(ord(c) - int(c) + (int(c) + 1) % 10) if i == len(first.group()) - 1 else c
                          for i, c in enumerate(first.group()))
        yield "number digit", good[:first.start()] + changed + good[first.end():]
        if DECIMAL.search(good):
            yield "number point", DECIMAL.sub(r"\1\2", good, count=1)
        if not summary:
            number = next(NUMBER.finditer(good))
            yield "number dropped", drop(good, number.group())
    if not summary:
        for kind, tokens in verbatim_facts(good, english).items():
            if tokens:
                yield f"{kind} dropped", drop(good, rng.choice(tokens))
        url = URL.search(good)
        if url:
            yield "url changed", good.replace(url.group(), url.group().replace(".", "-", 1), 1)
    for pattern, replacement in NEGATION_DROPS.get(lang, ()):
        dropped = re.sub(pattern, replacement, good, count=1)
        if dropped != good:
            yield "negation dropped", dropped
            break
    yield "loop: whole answer twice", good + ("\n\n" if "\n" in good else " ") + good
    lines = good.split("\n")
    if len(lines) > 2:
        yield "loop: a line over and over", "\n".join(lines + [lines[-1]] * 4)
    else:
        parts = sentences(good)
        yield "loop: a sentence over and over", join(parts + [parts[-1]] * 3, lang)
    yield "echo", "$PROMPT"  # the rendered prompt, filled in by the caller
    yield "wrong language", other_language
    yield "empty", ""
    yield "unrelated", unrelated
    if action == "translate":
        yield "untranslated", text
    if summary:
        yield "the input itself", text
        if action == "summarize":
            yield "longer than the input", text + "\n\n" + good
    else:
        cut = units(good, lang)
        yield "truncated to 40 %", join(cut[: max(1, int(len(cut) * 0.4))], lang)


def cases(messages: list[dict], languages: tuple[str, ...], seed: int, per_language: int) -> list[Case]:
    """Every case of the bench, the same for the same seed."""
    rng = random.Random(seed)
    found: list[Case] = []
    for lang in languages:
        mine = [m for m in messages if lang in texts(m)]
        said = [m for m in mine if m["kind"] == "sentence"]
        paragraphs = [m for m in mine if m["kind"] == "paragraph"]
        rng.shuffle(said)

        def other(message: dict, avoid: tuple[str, ...]) -> str:
            choices = sorted(set(texts(message)) - set(avoid))
            return texts(message)[rng.choice(choices)] if choices else ""

        def unrelated(message: dict, pool: list[dict]) -> str:
            rest = [m for m in pool if m is not message]
            return texts(rng.choice(rest))[lang] if rest else ""

        def add(action: str, message: dict, text: str, good: str, values: tuple[tuple[str, str], ...] = (),
                target: str = "") -> None:
            target = target or lang
            found.append(Case(action, target, "good", text, good, values, message["id"]))
            pool = paragraphs if message["kind"] == "paragraph" else said
            for kind, answer in bad_answers(action, text, good, target, message["en"], rng,
                                            other(message, (lang, target)), unrelated(message, pool)):
                found.append(Case(action, target, kind, text, answer, values, message["id"]))

        for message in said[:per_language] + paragraphs[: per_language // 5]:
            add("proofread", message, typo(texts(message)[lang], lang, rng), texts(message)[lang])
        pairs = [(texts(m)[lang], alt, m) for m in mine for alt in m["alt"].get(lang, ())]
        for index, (first, second, message) in enumerate(pairs[:per_language]):
            source, answer = (first, second) if index % 2 else (second, first)
            add(("rewrite", "friendly", "professional")[index % 3], message, source, answer)
            if len(answer) < len(source) * 0.95:
                add("concise", message, source, answer)
        if lang != "en":
            for index, message in enumerate(said[: per_language // 2] + paragraphs[: per_language // 8]):
                english, name = NAMES[lang]
                asked = (english, name, lang)[index % 3]
                add("translate", message, message["en"], texts(message)[lang], (("language", asked),))
                back = ("English", "english", "en")[index % 3]
                add("translate", message, texts(message)[lang], message["en"], (("language", back),), target="en")
        for message in paragraphs[: per_language // 3]:
            paragraph = texts(message)[lang]
            summary = extract(paragraph, 0.5)
            if summary:
                add("summarize", message, paragraph, summary)
            points = extract(paragraph, 0.7)
            if points and len(sentences(points)) >= 2:
                add("key-points", message, paragraph, "\n".join(f"- {s}" for s in sentences(points)))
            if len(sentences(paragraph)) >= 2:
                add("bullet-list", message, paragraph, "\n".join(f"- {s}" for s in sentences(paragraph)))
    return found
