"""The first run: start on the starter at once, fetch the real model in the background, then switch.

When the model the settings ask for (Phi-3 by default) is a catalog model and
nothing but what ships (the starter) is installed, the agent loads the starter
first, so a person can work within seconds, and downloads the wanted model for
the backend the model host would use: the first backend of the chain whose
library and device the starter's host found (its chain decisions) and whose
files this release pins. Progress goes to the tray; once the download is
verified the daemon switches hosts. What is said names a model only once a host
has loaded it: the welcome waits for the starter's host, and a notice never
says the agent stays on a starter that did not load.

What was already said lives in a small marker file (`Paths.first_run_file`):
the welcome, and that the hub could not be reached, are said once, not again at
the next start. The decisions are plain functions of their inputs, tested
without a desktop; the download is a `downloads.Download` (a child process
watched from its own thread), and `FirstRun` is the daemon's side of it all.
"""

from __future__ import annotations

import json
import logging
from collections.abc import Callable, Iterable
from dataclasses import asdict, dataclass, replace
from pathlib import Path

from phitray.backends.catalog import CATALOG, PHI3_DRAFT_MODEL, STARTER_MODEL
from phitray.backends.chain import Decision
from phitray.backends.download_meter import DownloadStatus
from phitray.backends.pins import pinned
from phitray.backends.store import InstalledModel, ModelStore
from phitray.downloads import Download, DownloadOutcome
from phitray.errors import PhiTrayError
from phitray.files import write_text
from phitray.paths import Paths
from phitray.settings import Settings

log = logging.getLogger(__name__)

# Models that ship or only help another: having them installed does not make a run any less the first.
SHIPPED_OR_HELPERS = frozenset({STARTER_MODEL, PHI3_DRAFT_MODEL})


@dataclass(frozen=True)
class Said:
    """What the first run has told the person already; kept across starts."""

    welcome: bool = False
    hub_unreachable: bool = False
    download_stopped: bool = False  # the person stopped it from the tray: it does not start again by itself


def read_said(path: Path) -> Said:
    """The marker, or nothing said when it is missing or unreadable (a damaged marker costs one repeat)."""
    try:
        data = json.loads(path.read_text(encoding="utf-8"))
        return Said(**{name: data.get(name) is True for name in ("welcome", "hub_unreachable", "download_stopped")})
    except (OSError, ValueError, AttributeError):
        return Said()


def write_said(path: Path, said: Said) -> None:
    """Replace the marker whole, so a crash never leaves half a file."""
    try:
        write_text(path, json.dumps(asdict(said)))
    except OSError as error:  # a read-only config folder: the notices repeat, nothing else is lost
        log.warning("could not write %s: %s", path, error)


@dataclass(frozen=True)
class StartPlan:
    """Which model the first host loads, what to download once it is up, and what to tell the person once
    that model is loaded."""

    model_id: str
    download: str = ""  # the catalog model to fetch in the background; "" for none
    notice: str = ""


def is_first_run(settings: Settings, installed: Iterable[InstalledModel]) -> bool:
    """The wanted model is one the catalog can fetch, and nothing but what ships is installed."""
    if settings.model_id in SHIPPED_OR_HELPERS or settings.model_id not in CATALOG:
        return False
    return all(model.model_id in SHIPPED_OR_HELPERS for model in installed)


def how_to_start(settings: Settings) -> str:
    """The one sentence a person needs to use the agent: which hotkey to press."""
    if settings.picker_hotkey:
        return f"Select text and press {settings.picker_hotkey}."
    return "Select text and choose Pick an action… in the tray menu."


def plan_start(settings: Settings, installed: Iterable[InstalledModel], said: Said) -> StartPlan:
    """What `phitray run` starts on. A run that is not the first loads the wanted model as before."""
    if not is_first_run(settings, installed):
        return StartPlan(settings.model_id)
    wanted = settings.model_id
    how = how_to_start(settings)
    if settings.allow_pull and said.download_stopped:
        return StartPlan(STARTER_MODEL)  # the starter's note in the tray says how to get the model
    if settings.allow_pull:
        notice = f"Phi Tray is ready on its small starter model while it downloads {wanted}. {how}"
        return StartPlan(STARTER_MODEL, download=wanted, notice="" if said.welcome else notice)
    notice = (f"Phi Tray is on its small starter model: engine.allow_pull is off, so {wanted} is not "
              f"downloaded. Get it with `phitray model pull {wanted}`, or turn allow_pull on. {how}")
    return StartPlan(STARTER_MODEL, notice="" if said.welcome else notice)


def download_backend(model_id: str, chain: Iterable[str], decisions: Iterable[Decision]) -> str | None:
    """The backend to download `model_id` for: the first of the chain whose library and device the
    host's probe found and for which the catalog has pinned files; None when there is none."""
    probed = {d.backend_id: d for d in decisions if d.outcome in ("chosen", "skipped")}
    for backend_id in chain:
        decision = probed.get(backend_id)
        if decision is not None and decision.installed and decision.device_present and pinned(model_id, backend_id):
            return backend_id
    return None


def loaded_model(decisions: Iterable[Decision]) -> str:
    """The model a host's chain decisions say it loaded ("" when it loaded none)."""
    return next((d.model_id for d in decisions if d.outcome == "chosen"), "")


def no_download_welcome(wanted: str, how: str) -> str:
    """The welcome when the starter is up but nothing of the wanted model can be fetched here."""
    return (_on_the_starter(how, "is ready on") + f"{wanted} is not downloaded: this release pins no files of it "
            "for a backend this machine can run. Bring a prepared copy with `phitray model import PATH`.")


def outcome_notice(outcome: DownloadOutcome, said: Said, how: str = "", on_starter: bool = True) -> tuple[str, Said]:
    """What to tell the person when a background download ends, and what has then been said.

    A notice replaces the one before it (the welcome, on a first run without the hub), so the ones
    that keep the starter repeat `how` (how_to_start) near their start, where a cut notice keeps it.
    `on_starter`: the starter is the model loaded now; when it is not, no notice says it stays there."""
    stays = _on_the_starter(how) if on_starter else ""
    if outcome.kind == "installed":
        return f"{outcome.model_id} is downloaded; switching to it.", said
    if outcome.kind == "offline":
        if said.hub_unreachable:
            return "", said
        return stays + f"{outcome.message} It tries again at the next start.", replace(said, hub_unreachable=True)
    if outcome.kind == "failed":
        return stays + f"{outcome.model_id} was not downloaded: {outcome.message}", said
    if outcome.kind == "stopped":
        return (f"Stopped downloading {outcome.model_id}; nothing of it was kept. "
                + ("Phi Tray stays on its starter model. " if on_starter else "")
                + f"Download it from Settings, or with `phitray model pull {outcome.model_id}`.",
                replace(said, download_stopped=True))
    return "", said


def _on_the_starter(how: str, verb: str = "stays on") -> str:
    """"Phi Tray stays on its small starter model (select text and press …). " """
    hint = f" ({how[:1].lower()}{how[1:].rstrip('.')})" if how else ""
    return f"Phi Tray {verb} its small starter model{hint}. "


def should_switch(downloaded: str, current_model: str, wanted_model: str) -> bool:
    """Switch to the downloaded model only if the person has not picked another one meanwhile."""
    return current_model == STARTER_MODEL and wanted_model == downloaded


class FirstRun:
    """The daemon's side of the first run: what it says, the one background download, and its end.

    Every method runs on the Tk thread. `notify(message, title)` and `show(text)` (the tray's
    download line, "" when none) are called there too, and so is `installed(model_id)` once a
    download is in the store and verified; the download's own thread reaches them only through
    `call_soon`.
    """

    def __init__(self, paths: Paths, call_soon: Callable[[Callable[[], None]], None],
                 notify: Callable[[str, str], None], show: Callable[[str], None],
                 installed: Callable[[str], None]) -> None:
        self.paths, self.call_soon = paths, call_soon
        self.notify, self.show, self.installed = notify, show, installed
        self.waiting = ""  # the model to fetch once the starter's host has probed the chain
        self.plan = StartPlan("")  # this start's plan; its notice waits for its model's host
        self.loaded = ""  # the model the current host loaded ("" while none is)
        self.how = ""  # how_to_start, repeated by a notice that replaces the welcome
        self.download: Download | None = None

    def start_model(self, settings: Settings) -> str:
        """The model the first host loads; remembers what to download, and the welcome to say once that
        model is up."""
        try:
            models = ModelStore(self.paths.models_dir).installed()
        except (OSError, PhiTrayError):
            models = []
        self.plan = plan_start(settings, models, read_said(self.paths.first_run_file))
        self.how = how_to_start(settings)
        if self.plan.model_id != settings.model_id:
            log.info("first run: starting on %s; %s", self.plan.model_id,
                     f"{self.plan.download} downloads once it is up" if self.plan.download else "nothing to download")
        self.waiting = self.plan.download
        return self.plan.model_id

    def host_settled(self, chain: tuple[str, ...], decisions: Iterable[Decision]) -> None:
        """A host is ready or failed: what it loaded decides what may be said, its chain decisions which
        backend to download for."""
        decisions = tuple(decisions)
        self.loaded = loaded_model(decisions)
        welcome, self.plan = self.plan.notice, replace(self.plan, notice="")
        if welcome and self.loaded != self.plan.model_id:
            welcome = ""  # the daemon says why no model loaded; the welcome waits for a start that loads one
            log.info("first run: %s did not load; the welcome waits for the next start", self.plan.model_id)
        if not self.waiting:
            self._welcome(welcome)
            return
        model_id, self.waiting = self.waiting, ""
        backend_id = download_backend(model_id, chain, decisions)
        if backend_id is None:
            log.warning("first run: no backend of %s has pinned files of %s it can run; not downloading it",
                        chain, model_id)
            self._welcome(welcome and no_download_welcome(model_id, self.how))
            return
        self._welcome(welcome)
        self.download = Download(
            ModelStore(self.paths.models_dir), model_id, backend_id, "first-run",
            lambda status: self.call_soon(lambda: self._progress(model_id, status)),
            lambda outcome: self.call_soon(lambda: self._done(outcome)))
        # The tray shows it from its first byte count, once the hub has answered: no flash of
        # "downloading" where there is no network.
        self.download.start()

    def _welcome(self, notice: str) -> None:
        """Say the welcome (when there is one to say) and remember that it was said."""
        if notice:
            self.notify(notice, "Phi Tray: welcome")
            write_said(self.paths.first_run_file, replace(read_said(self.paths.first_run_file), welcome=True))

    def stop(self) -> None:
        """The person stopped the download from the tray."""
        if self.download is not None:
            self.download.cancel(by_person=True)

    def close(self) -> None:
        """Quitting: the download stops and its staging folder goes before the process does."""
        if self.download is not None:
            self.download.cancel(wait_seconds=5)

    def _progress(self, model_id: str, status: DownloadStatus) -> None:
        """Tk thread, queued by the download's "download-watch" thread: the tray's download line."""
        if self.download is not None:
            self.show(f"downloading {model_id}: {status.text}")

    def _done(self, outcome: DownloadOutcome) -> None:
        """Tk thread, queued by the download's "download-watch" thread as its last act."""
        self.download = None
        self.show("")
        said = read_said(self.paths.first_run_file)
        notice, now_said = outcome_notice(outcome, said, self.how, on_starter=self.loaded == STARTER_MODEL)
        if now_said != said:
            write_said(self.paths.first_run_file, now_said)
        if notice:
            self.notify(notice, "Phi Tray")
        if outcome.kind == "installed":
            self.installed(outcome.model_id)
