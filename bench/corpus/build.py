"""Build bench/corpus/messages.json, the checks bench's corpus, from translations that ship in packages.

    python bench/corpus/build.py [--work DIR]

Nobody in the project wrote these texts: they are the English messages of Django, Wagtail, Django
REST framework, django-allauth, WTForms (PyPI wheels) and of Debian packages (GNU programs' gettext
catalogues and debconf templates), each with the human translations the package ships. SOURCES.md
beside this file names every package, version and licence. The script downloads them with
`pip download` and `apt-get download` into --work and needs Babel only from there (for the numbers
put into number placeholders, formatted by CLDR's rules for each language).

A message: {"id", "kind": "sentence" | "paragraph", "source", "en", "text": {lang: translation},
"alt": {lang: [other translations of the same English, in other words]}}. "alt" holds the real
paraphrases the tone actions are measured on: one English message translated apart by two
projects, two versions or two regional teams.
"""

from __future__ import annotations

import argparse
import collections
import gettext
import glob
import hashlib
import io
import json
import os
import re
import subprocess
import sys
import zipfile
from pathlib import Path

HERE = Path(__file__).resolve().parent
LANGUAGES = ("en de fr es pt it nl sv pl cs tr fi ru uk el ja zh ko ar he fa hi bn vi id").split()
WHEELS = ("Django==5.2.20", "Django==3.2.25", "wagtail==8.0.1", "djangorestframework==3.18.3",
          "django-allauth==65.22.1", "WTForms==3.3.2", "Babel==2.19.0")
DEBS = ("coreutils grep sed tar findutils diffutils wget bash gettext-base make gawk nano cpio dpkg apt "
        "libc-l10n tasksel-data popularity-contest keyboard-configuration console-setup debconf tasksel tzdata "
        "libc6 grub-pc exim4-config samba-common locales man-db apt-listchanges ca-certificates postfix mdadm").split()
# Which catalogue language is ours, in order of preference (the first found is the text, the rest alternatives).
VARIANTS = {"zh": ("zh_Hans", "zh_CN"), "pt": ("pt", "pt_BR", "pt_PT"), "es": ("es", "es_ES", "es_MX", "es_AR", "es_CO"),
            "fr": ("fr", "fr_FR", "fr_CA", "fr_BE"), "de": ("de", "de_DE", "de_CH"), "he": ("he", "he_IL"),
            "ko": ("ko", "ko_KR"), "fa": ("fa", "fa_IR"), "el": ("el", "el_GR"), "tr": ("tr", "tr_TR"), "ru": ("ru", "ru_RU")}
# Written with their own digits (CLDR's numbering systems; Babel gives the separators, not the digits).
NATIVE_DIGITS = {"ar": ("arab", "٠١٢٣٤٥٦٧٨٩"), "fa": ("arabext", "۰۱۲۳۴۵۶۷۸۹"), "bn": ("beng", "০১২৩৪৫৬৭৮৯")}
NUMBERS = (3, 7, 10, 12, 30, 150, 255, 1024, 2048, 1200, 15000, 359.99, 2.5, 0.75)
PLACEHOLDER = re.compile(r"%\((\w+)\)[sdir]|%[sdiu]|%'?l[du]|%zu|\{(\w*)\}|\$\{\w+\}")
NUMERIC_NAME = re.compile(r"count|num|max|min|limit|length|size|digits|places|value|number|cnt|total|days|hours")
WORD = re.compile(r"\w+")
NEGATION_EN = re.compile(r"\b(not|no|never|cannot|nothing|none|nobody|without)\b|n't\b", re.IGNORECASE)
FACT_EN = re.compile(r"\b[A-Z]{2,}\w*|\b[a-z]+[A-Z]\w*|\w*\d\w*|%\(\w+\)s|https?://|\S+@\S+|\b(?<![.!?] )[A-Z][a-z]+")


def download(work: Path) -> None:
    (work / "wheels").mkdir(parents=True, exist_ok=True)
    for wheel in WHEELS:
        subprocess.run([sys.executable, "-m", "pip", "download", "-q", "--no-deps", "-d", str(work / "wheels"), wheel],
                       check=True)
    (work / "debs").mkdir(parents=True, exist_ok=True)
    subprocess.run(["apt-get", "download", *DEBS], cwd=work / "debs", check=True)


def po_entries(data: bytes) -> list[tuple[str, str]]:
    """(msgid, msgstr) of the singular, translated, non-fuzzy messages of one .po file."""
    from babel.messages.pofile import read_po

    found = []
    said = sys.stdout, sys.stderr
    sys.stdout = sys.stderr = io.StringIO()  # Babel prints every plural it cannot match
    try:
        catalog = read_po(io.BytesIO(data))
    finally:
        sys.stdout, sys.stderr = said
    for message in catalog:
        if message.id and not message.fuzzy and isinstance(message.id, str) and message.string:
            found.append((message.id, str(message.string)))
    return found


def catalogue_language(path: str) -> str:
    parts = path.split("/")
    return parts[parts.index("LC_MESSAGES") - 1]


def read_catalogues(work: Path) -> list[tuple[str, str, str, str]]:
    """(source, catalogue language, English, translation) of every message of every package."""
    rows = []
    for wheel in sorted((work / "wheels").glob("*.whl")):
        source = "-".join(wheel.name.split("-")[:2]).lower().replace("_", "-")
        with zipfile.ZipFile(wheel) as archive:
            for name in archive.namelist():
                if name.endswith(".po") and "/LC_MESSAGES/" in name:
                    language = catalogue_language(name)
                    rows += [(source, language, en, tr) for en, tr in po_entries(archive.read(name))]
    for deb in sorted((work / "debs").glob("*.deb")):
        package, version = deb.name.split("_")[:2]
        target = work / "unpacked" / package
        if not target.exists():
            target.mkdir(parents=True)
            subprocess.run(["dpkg-deb", "-x", str(deb), str(target)], check=True)
            subprocess.run(["dpkg-deb", "-e", str(deb), str(target / "DEBIAN")], check=True)
        source = f"debian:{package}-{version.replace('%3a', ':')}"
        for path in glob.glob(f"{target}/usr/share/locale/*/LC_MESSAGES/*.mo"):
            try:
                with open(path, "rb") as handle:
                    catalog = gettext.GNUTranslations(handle)._catalog  # type: ignore[attr-defined]
            except (UnicodeDecodeError, ValueError, IndexError):  # a legacy encoding or a broken header: left out
                continue
            language = catalogue_language(path)
            rows += [(source, language, en, tr) for en, tr in catalog.items() if isinstance(en, str) and en and tr]
        templates = target / "DEBIAN" / "templates"
        if templates.exists():
            rows += [(source, language, en, tr) for language, en, tr in debconf(templates.read_text("utf-8"))]
    return rows


def debconf(text: str) -> list[tuple[str, str, str]]:
    """(language, English, translation) of each template's long description (paragraphs split by ' .')."""
    found = []
    for block in text.split("\n\n"):
        fields: dict[str, str] = {}
        key = ""
        for line in block.splitlines():
            if line.startswith(" ") and key:
                fields[key] += "\n" + line[1:]
            elif ":" in line:
                key, _, value = line.partition(":")
                fields[key] = value.strip()
        english = long_description(fields.get("Description", ""))
        if not english:
            continue
        for key, value in fields.items():
            match = re.fullmatch(r"Description-([\w@]+)\.UTF-8", key)
            if match and long_description(value):
                found.append((match.group(1), english, long_description(value)))
    return found


def long_description(field: str) -> str:
    lines = field.split("\n")[1:]
    paragraphs = " ".join("\n" if line.strip() == "." else line.strip() for line in lines).split("\n")
    return "\n\n".join(" ".join(p.split()) for p in paragraphs if p.strip())


def fill(text: str, values: dict[str, float], language: str, kind: str) -> str:
    """Numbers into the number placeholders, written as the language writes them; the rest kept. A
    sentence's line breaks (GNU catalogues wrap at 80 columns) become spaces."""
    if kind == "sentence":
        text = " ".join(text.split())
    from babel.numbers import format_decimal

    def one(match: re.Match[str]) -> str:
        name = match.group(1) or match.group(2) or ""
        key = name or match.group(0)
        if key not in values:
            return match.group(0)
        system, digits = NATIVE_DIGITS.get(language, ("latn", "0123456789"))
        written = str(format_decimal(values[key], locale=language.replace("zh", "zh_Hans"), numbering_system=system))
        return written.translate(str.maketrans("0123456789", digits))

    return PLACEHOLDER.sub(one, text)


def number_values(english: str) -> dict[str, float]:
    """The number each number placeholder of a message gets, the same in every language."""
    values = {}
    seed = int(hashlib.sha1(english.encode()).hexdigest(), 16)
    for index, match in enumerate(PLACEHOLDER.finditer(english)):
        name = match.group(1) or match.group(2) or ""
        typed = match.group(0)
        if typed.endswith(("d", "i", "u")) or NUMERIC_NAME.search(name):
            value = NUMBERS[(seed >> (4 * index)) % len(NUMBERS)]
            if typed.endswith(("d", "i", "u")) and isinstance(value, float):
                value = int(value * 100)
            values[name or typed] = value
            if typed == "%lu":  # a translation may ask for grouping: %'lu
                values["%'lu"] = value
    return values


def words(text: str) -> tuple[str, ...]:
    return tuple(w.lower() for w in WORD.findall(text))


def group(rows: list[tuple[str, str, str, str]]) -> dict[str, dict[str, list[tuple[str, str]]]]:
    """English → our language → [(source, translation)], preferred variant and source first."""
    order = {lang: {variant: i for i, variant in enumerate(VARIANTS.get(lang, (lang,)))} for lang in LANGUAGES}
    by_catalogue = {variant: lang for lang, variants in order.items() for variant in variants}
    grouped: dict[str, dict[str, list[tuple[int, str, str]]]] = collections.defaultdict(lambda: collections.defaultdict(list))
    for rank, (source, catalogue, english, translation) in enumerate(rows):
        lang = by_catalogue.get(catalogue)
        if lang and lang != "en" and translation.strip() and translation.strip() != english.strip():
            grouped[english][lang].append((order[lang][catalogue] * 10_000_000 + rank, source, translation))
    return {en: {lang: [(s, t) for _, s, t in sorted(found)] for lang, found in langs.items()}
            for en, langs in grouped.items()}


def usable(english: str, paragraph: bool) -> bool:
    if "<" in english or "\t" in english or english != english.strip() or english.startswith(("-", "%", "(")):
        return False
    count = len(english.split())
    if paragraph:
        return 30 <= count <= 160 and len(re.findall(r"[.!?](\s|$)", english)) >= 2
    return 5 <= count <= 40 and "\n" not in english and english[-1] in ".?!" and "${" not in english


def alternatives(found: list[tuple[str, str]]) -> list[str]:
    first = words(found[0][1])
    seen, alts = {first}, []
    for _, translation in found[1:]:
        if words(translation) not in seen and len(words(translation)) >= 2:
            seen.add(words(translation))
            alts.append(translation)
    return alts


def select(grouped: dict[str, dict[str, list[tuple[str, str]]]], rows: list[tuple[str, str, str, str]]) -> list[dict]:
    english_source = {}
    for source, _, english, _ in rows:
        english_source.setdefault(english, source)
    sentences, paragraphs = [], []
    for english, langs in grouped.items():
        if usable(english, paragraph=False) and len(langs) >= 17:
            sentences.append(english)
        elif usable(english, paragraph=True) and len(langs) >= 12:
            paragraphs.append(english)
    chosen: list[tuple[str, str]] = []
    buckets = {"negation": 34, "number": 30, "fact": 34, "plain": 22}
    taken = collections.Counter()
    for english in sorted(sentences, key=lambda e: hashlib.sha1(e.encode()).hexdigest()):
        kinds = [k for k, test in (("number", bool(number_values(english))), ("negation", bool(NEGATION_EN.search(english))),
                                   ("fact", bool(FACT_EN.search(english[1:])))) if test] or ["plain"]
        kind = next((k for k in kinds if taken[k] < buckets[k]), None)
        if kind:
            taken[kind] += 1
            chosen.append((english, "sentence"))
    # Real paraphrases: up to 14 a language among messages translated apart in other words.
    per_language = collections.Counter()
    for english in sorted(grouped, key=lambda e: hashlib.sha1(e.encode()).hexdigest()):
        if any(english == e for e, _ in chosen) or not (usable(english, False) or 3 <= len(english.split()) <= 40
                                                       and "\n" not in english and "<" not in english):
            continue
        langs = [lang for lang, found in grouped[english].items() if alternatives(found) and per_language[lang] < 14]
        if langs:
            per_language.update(langs)
            chosen.append((english, "sentence"))
    paragraphs.sort(key=lambda e: (-len(grouped[e]), hashlib.sha1(e.encode()).hexdigest()))
    chosen += [(english, "paragraph") for english in paragraphs[:26]]
    messages = []
    for index, (english, kind) in enumerate(chosen):
        values = number_values(english)
        langs = grouped[english]
        messages.append({
            "id": f"{kind[0]}{index:03d}", "kind": kind, "source": english_source[english],
            "en": fill(english, values, "en", kind),
            "text": {lang: fill(found[0][1], values, lang, kind) for lang, found in sorted(langs.items())},
            "from": {lang: found[0][0] for lang, found in sorted(langs.items())},
            "alt": {lang: [fill(a, values, lang, kind) for a in alternatives(found)] for lang, found in sorted(langs.items())
                    if alternatives(found)},
        })
    return messages


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--work", type=Path, default=Path("/tmp/phitray-corpus"), help="where the packages go")
    args = parser.parse_args()
    if not (args.work / "debs").exists():
        download(args.work)
    babel = args.work / "babel"
    if not babel.exists():  # Babel reads its CLDR data from files: unpacked, not from the wheel
        with zipfile.ZipFile(next((args.work / "wheels").glob("babel-*.whl"))) as archive:
            archive.extractall(babel)
    sys.path.insert(0, str(babel))
    rows = read_catalogues(args.work)
    messages = select(group(rows), rows)
    out = HERE / "messages.json"
    out.write_text(json.dumps(messages, ensure_ascii=False, indent=0) + "\n", encoding="utf-8")
    counts = collections.Counter(lang for m in messages for lang in m["text"])
    print(f"{len(messages)} messages → {out} ({os.path.getsize(out) // 1024} KB); translations per language:",
          dict(sorted(counts.items())))
    return 0


if __name__ == "__main__":
    sys.exit(main())
