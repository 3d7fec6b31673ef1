"""Write the pins a release ships (backends/pins.json): every hub source of the catalog at one commit.

    python scripts/pin_models.py [--out backends/pins.json] [--repo OWNER/NAME ...]

Run online by whoever makes a release (HF_ENDPOINT is honoured), after looking at
what the repositories hold: a pin says "exactly these bytes", not "these bytes are
good". For each repository the hub names its current commit and lists its files;
a file under one of the catalog's subfolders is pinned with the size and sha256
the hub gives for a large (LFS) file, or, for a small one, with those of the file
downloaded at that commit and hashed here. Nothing is typed by hand.
"""

from __future__ import annotations

import argparse
import hashlib
import json
import os
import sys
import tempfile
from pathlib import Path

from phitray.backends.catalog import CATALOG, HubSource
from phitray.backends.pins import PINS_FILE

ABOUT = json.loads(PINS_FILE.read_text(encoding="utf-8"))["about"]


def prefixes() -> dict[str, set[str]]:
    """{repository: the subfolders the catalog takes from it ("" for all of it)}."""
    wanted: dict[str, set[str]] = {}
    for model in CATALOG.values():
        for source in model.sources.values():
            if isinstance(source, HubSource):
                wanted.setdefault(source.repo_id, set()).add(f"{source.subfolder}/" if source.subfolder else "")
    return wanted


def pin_repository(repo_id: str, subfolders: set[str], endpoint: str) -> dict[str, object]:
    from huggingface_hub import HfApi, hf_hub_download

    info = HfApi(endpoint=endpoint).model_info(repo_id, files_metadata=True, timeout=30)
    if not info.sha:
        sys.exit(f"{endpoint} names no commit for {repo_id}")
    files: dict[str, dict[str, object]] = {}
    with tempfile.TemporaryDirectory(prefix="phitray-pin-") as folder:
        for sibling in info.siblings or []:
            name = sibling.rfilename
            if not any(name.startswith(prefix) for prefix in subfolders):
                continue
            lfs = sibling.lfs
            if lfs is not None and lfs.sha256:
                files[name] = {"size": lfs.size, "sha256": lfs.sha256}
                continue
            path = Path(hf_hub_download(repo_id, name, revision=info.sha, local_dir=folder, endpoint=endpoint))
            files[name] = {"size": path.stat().st_size, "sha256": hashlib.sha256(path.read_bytes()).hexdigest()}
            print(f"  {name}: {files[name]['size']} bytes, sha256 {files[name]['sha256']}")
    if not files:
        sys.exit(f"{repo_id} at {info.sha} has no file under {sorted(subfolders)}")
    return {"revision": info.sha, "files": dict(sorted(files.items()))}


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--out", type=Path, default=PINS_FILE, help="the pins file to write (default: the shipped one)")
    parser.add_argument("--repo", action="append", help="only this repository (again for more); default: all")
    args = parser.parse_args(argv)
    endpoint = os.environ.get("HF_ENDPOINT", "").rstrip("/") or "https://huggingface.co"
    wanted = prefixes()
    unknown = sorted(set(args.repo or ()) - set(wanted))
    if unknown:
        parser.error(f"not a repository of the catalog: {', '.join(unknown)}")
    repos = {}
    for repo_id in sorted(args.repo or wanted):
        print(f"{repo_id} from {endpoint}")
        repos[repo_id] = pin_repository(repo_id, wanted[repo_id], endpoint)
    args.out.write_text(json.dumps({"about": ABOUT, "repos": repos}, indent=2) + "\n", encoding="utf-8")
    print(f"wrote {args.out}: {sum(len(r['files']) for r in repos.values())} files of {len(repos)} repositories")  # type: ignore[arg-type]
    return 0


if __name__ == "__main__":
    sys.exit(main())
