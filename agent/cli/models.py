"""`phitray model list | pull | verify | prepare | import | remove`."""

from __future__ import annotations

import argparse
import json
import tempfile
from pathlib import Path

from phitray.backends.chain import survey
from phitray.backends.prepare import WEIGHT_FORMATS, PrepareOptions, prepare
from phitray.backends.registry import BACKEND_IDS
from phitray.backends.store import InstalledModel, ModelStore, check_pins, refuse_native_code
from phitray.cli.common import chain_options, say
from phitray.errors import ModelCorrupt, ModelNotInstalled, NoBackendLoaded, PhiTrayError
from phitray.paths import Paths


def _size(size: int) -> str:
    if size < 1024:
        return f"{size} B"
    scaled = float(size)
    for unit in ("KB", "MB", "GB"):
        scaled /= 1024
        if scaled < 1024 or unit == "GB":
            break
    return f"{scaled:.1f} {unit}"


def cmd_list(args: argparse.Namespace, paths: Paths) -> int:
    models, unreadable = ModelStore(paths.models_dir).scan()
    problems = {m.folder: _problem(m) for m in models}
    if args.json:
        rows = [{"model": m.model_id, "folder": str(m.folder), "format": m.model_format,
                 "quantization": m.quantization, "context_length": m.context_length,
                 "backends": list(m.backends), "size_bytes": m.size_bytes, "source": m.source,
                 "problem": problems[m.folder]} for m in models]
        rows += [{"model": u.model_id, "folder": str(u.folder), "problem": u.problem} for u in unreadable]
        print(json.dumps(rows, indent=2))
        return 0
    if not models and not unreadable:
        print(f"No models installed in {paths.models_dir}. Try `phitray model pull starter`.")
        return 0
    if models:
        print(f"{'model':<26}{'format':<10}{'size':>10}  {'backends':<38}source")
    for m in models:
        print(f"{m.model_id:<26}{m.model_format:<10}{_size(m.size_bytes):>10}  {', '.join(m.backends):<38}{m.source}")
    for problem in [p for p in problems.values() if p] + [u.problem for u in unreadable]:
        print(f"problem: {problem}")
    return 0


def _problem(model: InstalledModel) -> str | None:
    """Why this model cannot load (a missing or cut-short file), from file sizes only; None when it can."""
    try:
        model.verify()
    except PhiTrayError as problem:
        return str(problem)
    return None


def cmd_pull(args: argparse.Namespace, paths: Paths) -> int:
    store = ModelStore(paths.models_dir)
    backend_id = args.backend
    if backend_id is None:
        chosen = [d for d in survey(chain_options(args, paths), store) if d.outcome == "chosen"]
        if not chosen:
            raise NoBackendLoaded(f"No backend here can run {args.model}; see `phitray devices`.")
        backend_id = chosen[0].backend_id
    from phitray.backends.pull import pull  # every command's module is imported at start, `run`'s too

    model = pull(store, args.model, backend_id, say)
    print(model.folder)
    return 0


def cmd_verify(args: argparse.Namespace, paths: Paths) -> int:
    """Every file of the installed models (or of MODEL) read again and held against this release's pins;
    exit 1 when one differs, is damaged or is refused."""
    models, unreadable = ModelStore(paths.models_dir).scan()
    models = [m for m in models if args.model in (None, m.model_id)]
    unreadable = [u for u in unreadable if args.model in (None, u.model_id)]
    if args.model and not models and not unreadable:
        raise ModelNotInstalled(f"{args.model} is not installed; `phitray model list` shows what is.")
    failed = bool(unreadable)
    for broken in unreadable:
        print(f"{'damaged':<10}{broken.model_id} ({broken.folder.name}): {broken.problem}")
    for model in models:
        label = f"{model.model_id} ({model.folder.name})"
        try:
            model.verify()  # sizes, the format's files, no native code: cheap, and a reason to read no further
        except PhiTrayError as problem:
            print(f"{'damaged' if isinstance(problem, ModelCorrupt) else 'refused':<10}{label}: {problem}")
            failed = True
            continue
        check = check_pins(model)
        print(f"{check.status:<10}{label}: {check.detail}")
        failed = failed or check.status == "differs"
    if not models and not unreadable:
        print(f"No models installed in {paths.models_dir}.")
    return 1 if failed else 0


def cmd_prepare(args: argparse.Namespace, paths: Paths) -> int:
    options = PrepareOptions(args.source, args.backend, args.weight_format, args.group_size)
    name = args.name or Path(args.source.rstrip("/")).name
    store = ModelStore(paths.models_dir)
    with tempfile.TemporaryDirectory(prefix="phitray-prepared-", dir=_ensure(paths.models_dir)) as work:
        staged = prepare(options, Path(work) / "model", say)
        folder = f"{'openvino' if args.backend.startswith('openvino-') else 'onnx'}-{args.weight_format}"
        model = store.add(name, staged, folder, source=f"prepared from {args.source}",
                          quantization=f"{args.weight_format} ({args.backend})")
    print(model.folder)
    return 0


def _ensure(folder: Path) -> Path:
    folder.mkdir(parents=True, exist_ok=True)
    return folder


def cmd_import(args: argparse.Namespace, paths: Paths) -> int:
    source = Path(args.path).expanduser()
    refuse_native_code(source, args.name or source.stem)  # before any copy: a model is data only
    model = ModelStore(paths.models_dir).import_path(source, args.name)
    print(f"{model.model_id}: {model.model_format} for {', '.join(model.backends)} in {model.folder}")
    return 0


def cmd_remove(args: argparse.Namespace, paths: Paths) -> int:
    for folder in ModelStore(paths.models_dir).remove(args.model, args.backend):
        print(f"removed {folder}")
    return 0


def add_model_commands(commands: "argparse._SubParsersAction[argparse.ArgumentParser]") -> None:
    model = commands.add_parser("model", help="list, pull, prepare, import or remove models")
    actions = model.add_subparsers(dest="model_command", metavar="ACTION", required=True)

    listing = actions.add_parser("list", help="installed models")
    listing.add_argument("--json", action="store_true")
    listing.set_defaults(handler=cmd_list)

    pulling = actions.add_parser("pull", help="download a catalog model for a backend")
    pulling.add_argument("model", help="a catalog id: phi-3-mini-4k-instruct, starter, or phi-3-mini-fastdraft (a draft model)")
    pulling.add_argument("--backend", choices=BACKEND_IDS, help="default: the backend the chain picks here")
    pulling.set_defaults(handler=cmd_pull)

    verifying = actions.add_parser("verify", help="read every file of installed models again and hold it against its pins")
    verifying.add_argument("model", nargs="?", help="only this model (default: every installed model)")
    verifying.set_defaults(handler=cmd_verify)

    preparing = actions.add_parser("prepare", help="convert a Hugging Face checkpoint for a backend")
    preparing.add_argument("source", help="a checkpoint folder (or a hub id when online)")
    preparing.add_argument("--backend", required=True, choices=[b for b in BACKEND_IDS if b != "npu-legacy"])
    preparing.add_argument("--weight-format", choices=WEIGHT_FORMATS, default="int4")
    preparing.add_argument("--group-size", type=int, help="INT4 group size (-1: channel-wise)")
    preparing.add_argument("--name", help="model id in the store (default: the folder's name)")
    preparing.set_defaults(handler=cmd_prepare)

    importing = actions.add_parser("import", help="copy a prepared model folder or .gguf file into the store")
    importing.add_argument("path")
    importing.add_argument("--name", help="model id in the store (default: the folder's or file's name)")
    importing.set_defaults(handler=cmd_import)

    removing = actions.add_parser("remove", help="delete an installed model")
    removing.add_argument("model")
    removing.add_argument("--backend", choices=BACKEND_IDS, help="only the files this backend uses")
    removing.set_defaults(handler=cmd_remove)
