"""Turn the Windows pip's resolution report into the installer's hash-pinned lock.

    python3 lock.py REPORT.json > requirements.txt

REPORT comes from the Windows pip under Wine (`scripts/windows-installer.sh
--relock` runs it), because only a pip running on Windows evaluates every
environment marker of every dependency as Windows does.
"""

from __future__ import annotations

import json
import sys

HEADER = """\
# The Windows wheels the installer ships and the Windows test stage runs (CPython 3.11, win_amd64),
# resolved by the Windows pip from the project's dependencies and requirements.in, with their hashes.
# Regenerate with `bash scripts/windows-installer.sh --relock`; never edit by hand.
"""


def lock_lines(report: dict) -> list[str]:
    lines = []
    for item in report["install"]:
        name = item["metadata"]["name"]
        if name == "phitray":
            continue
        digest = item["download_info"]["archive_info"]["hashes"]["sha256"]
        lines.append(f"{name.lower()}=={item['metadata']['version']} --hash=sha256:{digest}")
    return sorted(lines)


if __name__ == "__main__":
    with open(sys.argv[1], encoding="utf-8") as file:
        print(HEADER + "\n".join(lock_lines(json.load(file))))
