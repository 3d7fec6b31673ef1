"""The tray's "About this PC…": what the device survey finds (NPU, GPU, CPU), the backend and model in use,
the catalog's models that would run here, and the last `phitray bench` result.

The survey is the settings window's (`settings_model.survey_in_child`: a "phitray-survey" child process,
waited for on an "about-survey" thread); its answer reaches the window through `UiQueue.call_soon`. The
text is a read-only Text widget, so every line wraps and can be selected and copied. Every method runs on
the Tk thread unless its docstring says otherwise.
"""

from __future__ import annotations

import json
import logging
import threading
import time
import tkinter
from collections.abc import Callable
from pathlib import Path
from tkinter import ttk

from phitray.backends.catalog import CATALOG
from phitray.backends.chain import Decision
from phitray.backends.store import ModelStore
from phitray.logs import milestone
from phitray.paths import Paths
from phitray.ui.popup import place_near_pointer, take_keyboard
from phitray.ui.settings_model import survey_in_child
from phitray.ui.uiqueue import UiQueue

log = logging.getLogger(__name__)
WIDTH, HEIGHT = 640, 460
LOOKING = "looking (a first look at a GPU or NPU driver can take a minute)…"


def runs_here(decision: Decision) -> bool:
    return decision.installed and decision.device_present


def backend_lines(decisions: dict[str, Decision]) -> list[str]:
    """One line per backend: whether this PC can run it, and what the probe said."""
    lines = []
    for backend_id, decision in decisions.items():
        can = "can run here" if runs_here(decision) else "cannot run here"
        lines.append(f"{backend_id}: {can} — {decision.outcome}" + (f": {decision.reason}" if decision.reason else ""))
    return lines


def fitting_models(decisions: dict[str, Decision], store: ModelStore) -> list[str]:
    """The catalog's models with a build for a backend this PC runs, each with those backends (installed marked)."""
    try:
        installed = {(m.model_id, backend) for m in store.installed() for backend in m.backends}
    except OSError:
        installed = set()
    lines = []
    for model_id, model in CATALOG.items():
        usable = [b for b in model.sources if b in decisions and runs_here(decisions[b])]
        if usable:
            named = ", ".join(b + (" (installed)" if (model_id, b) in installed else "") for b in usable)
            lines.append(f"{model.title}: {named}")
    return lines


def bench_lines(bench_file: Path) -> list[str]:
    """The last `phitray bench` result, one line per backend; how to make one when there is none."""
    try:
        measured = json.loads(bench_file.read_text(encoding="utf-8"))
        rows = measured["backends"]
    except (OSError, ValueError, KeyError, TypeError):
        return ["none yet: `phitray bench` measures each backend this PC runs and keeps the last result"]
    when = time.strftime("%Y-%m-%d %H:%M", time.localtime(measured.get("at", 0)))
    lines = [f"{measured.get('model', '?')}, {when}:"]
    for row in rows:
        if row.get("error"):
            lines.append(f"  {row['backend_id']}: failed: {row['error']}")
            continue
        lines.append(f"  {row['backend_id']} ({row['device']}): {row['tokens_per_second']:.1f} tokens/s; first token "
                     f"{row['ttft_short_ms']:.0f} ms, {row['ttft_long_ms']:.0f} ms after {row['long_prompt_tokens']} "
                     f"tokens; load {row['first_load_seconds']:.1f} s first, {row['cached_load_seconds']:.1f} s cached")
    return lines


class AboutWindow:
    """One window; `show` brings it back. Tk thread."""

    def __init__(self, root: tkinter.Misc, paths: Paths, ui: UiQueue, in_use: Callable[[], str],
                 chain: tuple[str, ...], model_id: str) -> None:
        """`in_use`: the backend, device and model the agent runs now (asked at each redraw)."""
        self.paths, self.ui, self._in_use = paths, ui, in_use
        self.decisions: dict[str, Decision] | None = None  # None: the survey has not answered yet
        self.window = tkinter.Toplevel(root)
        self.window.title("Phi Tray — About this PC")
        self.window.geometry(place_near_pointer(self.window, WIDTH, HEIGHT))
        frame = ttk.Frame(self.window, padding=8)
        frame.pack(fill="both", expand=True)
        close = ttk.Button(frame, text="Close", command=self.close)
        close.pack(side="bottom", anchor="e", pady=(6, 0))
        self.text = tkinter.Text(frame, wrap="word", width=80, height=20, relief="flat")
        self.text.pack(fill="both", expand=True)
        self.window.bind("<Escape>", lambda event: self.close())
        self.draw()
        take_keyboard(self.window, lambda: close)
        threading.Thread(target=self._survey, args=(chain, model_id), name="about-survey", daemon=True).start()
        milestone("window-opened", window="about")

    def _survey(self, chain: tuple[str, ...], model_id: str) -> None:
        """The "about-survey" thread: the probes in a child, the answer handed to the Tk thread."""
        try:
            decisions = survey_in_child(self.paths, chain, model_id)
        except OSError as error:
            log.warning("about this PC: the device survey gave no answer: %s", error)
            decisions = {}

        def surveyed() -> None:
            """Tk thread."""
            self.decisions = decisions
            if self.exists():
                self.draw()
                milestone("about-surveyed", backends=len(decisions))
        self.ui.call_soon(surveyed)

    def lines(self) -> list[str]:
        decisions = self.decisions
        lines = [f"In use: {self._in_use()}", "", "Backends (what the device survey found):"]
        if decisions is None:
            lines.append(f"  {LOOKING}")
        else:
            lines += [f"  {line}" for line in backend_lines(decisions)] or ["  the survey gave no answer (see the log)"]
        lines += ["", "Models of the catalog that would run here:"]
        if decisions is not None:
            lines += [f"  {line}" for line in fitting_models(decisions, ModelStore(self.paths.models_dir))] or ["  none"]
        else:
            lines.append(f"  {LOOKING}")
        lines += ["", "Last bench:", *(f"  {line}" for line in bench_lines(self.paths.bench_dir / "last.json"))]
        return lines

    def draw(self) -> None:
        self.text.configure(state="normal")
        self.text.delete("1.0", "end")
        self.text.insert("1.0", "\n".join(self.lines()))
        self.text.configure(state="disabled")

    def show(self) -> None:
        self.window.deiconify()
        self.window.lift()
        self.window.focus_force()

    def exists(self) -> bool:
        return bool(self.window.winfo_exists())

    def close(self) -> None:
        if self.exists():
            self.window.destroy()
