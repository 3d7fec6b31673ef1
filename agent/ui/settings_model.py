"""The Model tab: the backend chain with what `devices` finds for each, the installed models, the
catalog's downloadable ones, Download with progress (MB/s) and Cancel, and Remove (asked first).

What is slow or heavy runs in child processes (children.py), waited for away from the Tk thread,
and comes back through `UiQueue.call_soon`: the device survey (a "phitray-survey" process, from the
"settings-survey" thread), the catalog's download sizes (a "phitray-sizes" process, from the
"settings-sizes" thread) and a download (the host's `start_download`: a "phitray-download" process,
downloads.py). The window's process so loads no inference library, and no hub or HTTP client.
Every method runs on the Tk thread unless its docstring says otherwise.
"""

from __future__ import annotations

import dataclasses
import logging
import threading
import tkinter
from collections.abc import Callable
from tkinter import messagebox, ttk
from typing import TYPE_CHECKING

from phitray.backends.catalog import CATALOG
from phitray.backends.chain import ChainOptions, Decision, survey
from phitray.backends.registry import BACKEND_IDS, OPT_IN
from phitray.backends.store import ModelStore
from phitray.children import call_in_child
from phitray.downloads import download_sizes
from phitray.errors import PhiTrayError
from phitray.logs import milestone
from phitray.ui.settings_window import PROBLEM_COLOUR, button_group, set_state
from phitray.ui.table_fit import fit_columns, scrolling_table

if TYPE_CHECKING:
    from phitray.backends.download_meter import DownloadStatus
    from phitray.paths import Paths
    from phitray.ui.settings_window import SettingsWindow

log = logging.getLogger(__name__)
SURVEY_SECONDS = 120  # a first probe of a GPU or NPU driver can take long
SIZES_SECONDS = 30


def human_size(size: int | None) -> str:
    """Decimal units, as the download bar counts them (DownloadMeter)."""
    if size is None:
        return "size unknown"
    scaled, unit = float(size), "B"
    for unit in ("B", "KB", "MB", "GB"):
        if scaled < 1000 or unit == "GB":
            break
        scaled /= 1000
    return f"{scaled:.0f} {unit}" if unit == "B" else f"{scaled:.1f} {unit}"


def survey_in_child(paths: Paths, chain: tuple[str, ...], model_id: str) -> dict[str, Decision]:
    """What `phitray devices` finds for every backend, by backend. The probes import every inference library,
    so they run in a "phitray-survey" process of their own; blocks up to SURVEY_SECONDS (never on the Tk
    thread). Raises OSError when the child gives no answer."""
    # The chain first, so its decisions are the chain's own; the backends it leaves out after it.
    order = (*chain, *(b for b in BACKEND_IDS if b not in chain))
    options = ChainOptions(order, model_id, paths.compile_cache_dir)
    found = call_in_child("phitray-survey", SURVEY_SECONDS, survey, options, ModelStore(paths.models_dir), OPT_IN)
    return {d.backend_id: d if d.backend_id in chain else dataclasses.replace(d, outcome="not in chain")
            for d in found}


class ModelSection:
    def __init__(self, page: ttk.Frame, window: SettingsWindow) -> None:
        self.window = window
        self.decisions: dict[str, Decision] = {}
        self.sizes: dict[tuple[str, str], int | None] = {}
        self.download: Callable[[], None] | None = None  # cancels the running download
        page.columnconfigure(0, weight=1)
        self.status = ttk.Label(page, text="", wraplength=660)
        self.status.grid(row=0, column=0, columnspan=2, sticky="w")

        ttk.Label(page, text="Backends, in the order they are tried (Up and Down choose one)").grid(
            row=1, column=0, sticky="w", pady=(6, 0))
        chain_frame = ttk.Frame(page)
        chain_frame.grid(row=2, column=0, sticky="we")
        self.chain = tkinter.Listbox(chain_frame, height=6, exportselection=False, activestyle="dotbox")
        self.chain.pack(fill="x")
        # What the survey found for the chosen backend, wrapped: a line of the list is cut at its width.
        self.chain_detail = ttk.Label(chain_frame, text="", wraplength=560, foreground="#555")
        self.chain_detail.pack(fill="x", pady=(2, 0))
        self.chain.bind("<<ListboxSelect>>", lambda event: self._show_chain_detail())
        self.up_button, self.down_button, self.use_button = button_group(
            self._beside(page, 2), ("Move up", lambda: self._move(-1)), ("Move down", lambda: self._move(1)),
            ("Use / don't use", self._toggle))

        ttk.Label(page, text="Installed models").grid(row=3, column=0, sticky="w", pady=(8, 0))
        frame, self.installed = scrolling_table(page, columns=("backends", "size"), height=4, selectmode="browse")
        self._columns(self.installed, (("#0", "Model", 200), ("backends", "For backends", 300), ("size", "Size", 90)))
        frame.grid(row=4, column=0, sticky="we")
        self.use_model_button, self.remove_button = button_group(
            self._beside(page, 4), ("Use this model", self._use_model), ("Remove…", self._remove))

        ttk.Label(page, text="Models you can download").grid(row=5, column=0, sticky="w", pady=(8, 0))
        frame, self.catalog = scrolling_table(page, columns=("backend", "size"), height=4, selectmode="browse")
        self._columns(self.catalog, (("#0", "Model", 300), ("backend", "For backend", 200), ("size", "Download", 90)))
        frame.grid(row=6, column=0, sticky="we")
        self.download_button, self.cancel_button = button_group(
            self._beside(page, 6), ("Download", self._download), ("Cancel download", self._cancel))
        self.cancel_button.configure(state="disabled")
        ttk.Label(page, text="Download progress").grid(row=7, column=0, sticky="w", pady=(6, 0))
        self.progress = ttk.Progressbar(page, mode="determinate", maximum=1000)
        self.progress.grid(row=8, column=0, sticky="we")
        self.progress_text = ttk.Label(page, text="")
        self.progress_text.grid(row=9, column=0, sticky="w")
        self.refresh()
        self._start_survey()
        threading.Thread(target=self._ask_sizes, name="settings-sizes", daemon=True).start()

    @staticmethod
    def _beside(page: ttk.Frame, row: int) -> ttk.Frame:
        """A frame for the buttons to the right of the list in `row`."""
        frame = ttk.Frame(page)
        frame.grid(row=row, column=1, sticky="n", padx=(6, 0))
        return frame

    @staticmethod
    def _columns(table: ttk.Treeview, columns: tuple[tuple[str, str, int], ...]) -> None:
        for column, title, width in columns:
            table.heading(column, text=title)
            table.column(column, width=width, stretch=column == "#0")

    # --- drawing -------------------------------------------------------------------------

    def refresh(self) -> None:
        settings = self.window.settings
        self.status.configure(text=f"Model: {settings.model_id}. Now: {self.window.host.model_status()}")
        self._draw_chain()
        chosen = self.installed.selection()
        self.installed.delete(*self.installed.get_children())
        try:
            models, unreadable = ModelStore(self.window.paths.models_dir).scan()
        except (OSError, PhiTrayError) as error:
            models, unreadable = [], []
            self.window.say(f"The model folder cannot be read: {error}", problem=True)
        by_id: dict[str, list[tuple[tuple[str, ...], int]]] = {}
        for model in models:
            by_id.setdefault(model.model_id, []).append((model.backends, model.size_bytes))
        for model_id, entries in sorted(by_id.items()):
            backends = sorted({b for found, _ in entries for b in found})
            in_use = " (in use)" if model_id == settings.model_id else ""
            self.installed.insert("", "end", iid=model_id, text=model_id + in_use,
                                  values=(", ".join(backends), human_size(sum(size for _, size in entries))))
        for broken in unreadable:
            if not self.installed.exists(broken.model_id):
                self.installed.insert("", "end", iid=broken.model_id, text=broken.model_id,
                                      values=(f"damaged: {broken.problem}", ""))
        self._select(self.installed, chosen)
        chosen = self.catalog.selection()
        self.catalog.delete(*self.catalog.get_children())
        for model_id, offered in CATALOG.items():
            for backend_id in offered.sources:
                iid = f"{model_id} {backend_id}"
                self.catalog.insert("", "end", iid=iid, text=offered.title, values=(
                    backend_id, human_size(self.sizes[(model_id, backend_id)])
                    if (model_id, backend_id) in self.sizes else "asking…"))
        self._select(self.catalog, chosen)
        fit_columns(self.installed)
        fit_columns(self.catalog)

    @staticmethod
    def _select(table: ttk.Treeview, wanted: tuple[str, ...]) -> None:
        keep = wanted[0] if wanted and table.exists(wanted[0]) else (table.get_children() or ("",))[0]
        if keep:
            table.selection_set(keep)
            table.focus(keep)

    def _draw_chain(self) -> None:
        chain = self.window.settings.chain
        chosen = self.chain.curselection()
        self.chain.delete(0, "end")
        self.rows = list(chain) + [b for b in BACKEND_IDS if b not in chain]
        for backend_id in self.rows:
            decision = self.decisions.get(backend_id)
            place = f"{chain.index(backend_id) + 1}." if backend_id in chain else "not used:"
            found = f"{decision.outcome}: {decision.reason}" if decision else "looking…"
            opt_in = " (opt-in)" if backend_id in OPT_IN else ""
            self.chain.insert("end", f"{place} {backend_id}{opt_in} — {found}")
        index = chosen[0] if chosen else 0
        self.chain.selection_set(min(index, len(self.rows) - 1))
        self.chain.activate(min(index, len(self.rows) - 1))
        self._show_chain_detail()

    def _show_chain_detail(self) -> None:
        """The chosen backend's whole line under the list, wrapped. Tk thread."""
        selected = self.chain.curselection()
        self.chain_detail.configure(text=self.chain.get(selected[0]) if selected else "")

    def set_enabled(self, enabled: bool) -> None:
        set_state([self.up_button, self.down_button, self.use_button, self.use_model_button, self.remove_button,
                   self.download_button], enabled)

    # --- the chain -------------------------------------------------------------------------

    def _chosen_backend(self) -> str | None:
        selected = self.chain.curselection()
        return self.rows[selected[0]] if selected else None

    def _move(self, step: int) -> None:
        backend = self._chosen_backend()
        chain = list(self.window.settings.chain)
        if backend not in chain:
            return
        index = chain.index(backend)
        target = max(0, min(len(chain) - 1, index + step))
        chain.insert(target, chain.pop(index))
        self._write_chain(chain, target)

    def _toggle(self) -> None:
        backend = self._chosen_backend()
        chain = list(self.window.settings.chain)
        if backend is None:
            return
        if backend in chain:
            if len(chain) == 1:
                self.window.say("The chain needs at least one backend.", problem=True)
                return
            chain.remove(backend)
        else:
            chain.append(backend)
        self._write_chain(chain, self.rows.index(backend) if backend in chain else len(chain))

    def _write_chain(self, chain: list[str], select: int) -> None:
        if not self.window.change("engine.chain", chain):
            self.chain.selection_clear(0, "end")
            self.chain.selection_set(select)
            self._draw_chain()
            self.chain.selection_clear(0, "end")
            self.chain.selection_set(min(select, len(self.rows) - 1))
            self._show_chain_detail()
            self._start_survey()

    def _start_survey(self) -> None:
        threading.Thread(target=self._survey, args=(self.window.settings.chain, self.window.settings.model_id),
                         name="settings-survey", daemon=True).start()

    def _survey(self, chain: tuple[str, ...], model_id: str) -> None:
        """The "settings-survey" thread: what `phitray devices` finds, handed to the Tk thread. The probes
        import every inference library, so they run in a "phitray-survey" process of their own: the
        window's process stays as small as it started."""
        try:
            decisions = survey_in_child(self.window.paths, chain, model_id)
        except OSError as error:
            log.warning("settings window: the device survey gave no answer: %s", error)
            return
        self.window.ui.call_soon(lambda: self._surveyed(decisions))

    def _surveyed(self, decisions: dict[str, Decision]) -> None:
        self.decisions = decisions
        if self.window.exists():
            self._draw_chain()

    def _ask_sizes(self) -> None:
        """The "settings-sizes" thread: each catalog entry's download size, asked of the hub by a
        "phitray-sizes" process (the hub's client and OpenSSL stay out of this one), handed to the Tk thread."""
        found: dict[tuple[str, str], int | None] = {}
        try:
            found = call_in_child("phitray-sizes", SIZES_SECONDS, download_sizes)
        except OSError as error:
            log.warning("settings window: no download sizes: %s", error)
        sizes = {(model_id, backend_id): found.get((model_id, backend_id))
                 for model_id, model in CATALOG.items() for backend_id in model.sources}

        def show() -> None:
            """Tk thread."""
            self.sizes = sizes
            if self.window.exists():
                self.refresh()
        self.window.ui.call_soon(show)

    # --- installed models ------------------------------------------------------------------

    def _use_model(self) -> None:
        selected = self.installed.selection()
        if selected and not self.window.change("engine.model", selected[0]):
            self.refresh()
            self._start_survey()

    def _remove(self) -> None:
        selected = self.installed.selection()
        if not selected:
            return
        model_id = selected[0]
        in_use = " It is the model in use: the agent falls back to another until you choose one." \
            if model_id == self.window.settings.model_id else ""
        if not messagebox.askyesno("Remove model", f"Remove {model_id} from this computer?{in_use}",
                                   parent=self.window.window, default="no"):
            return
        try:
            removed = ModelStore(self.window.paths.models_dir).remove(model_id)
            self.window.say(f"Removed {model_id} ({len(removed)} folder{'s' if len(removed) != 1 else ''}).")
            milestone("model-removed", model_id=model_id)
        except (OSError, PhiTrayError) as error:
            self.window.say(f"{model_id} was not removed: {error}", problem=True)
        self.refresh()
        self.window.host.apply_settings(self.window.settings)  # the tray's model menu follows

    # --- downloads -------------------------------------------------------------------------

    def _download(self) -> None:
        selected = self.catalog.selection()
        if not selected or self.download is not None:
            return
        model_id, backend_id = selected[0].split(" ", 1)
        from phitray.backends.download_meter import DownloadMeter

        meter = DownloadMeter()

        def on_bytes(done: int, total: int | None) -> None:
            """Called on the host's download thread as bytes arrive."""
            status = meter.update(done, total)
            self.window.ui.call_soon(lambda: self._progress(status))

        def on_end(failed: bool, sentence: str) -> None:
            """Called on the host's download thread once, at the end."""
            self.window.ui.call_soon(lambda: self._downloaded(sentence, failed))

        self.download_button.configure(state="disabled")
        self.cancel_button.configure(state="normal")
        self.progress.configure(value=0)
        self.progress_text.configure(text=f"Starting the download of {model_id} for {backend_id}…", foreground="")
        self.download = self.window.host.start_download(model_id, backend_id, on_bytes, on_end)

    def _cancel(self) -> None:
        if self.download is not None:
            self.download()
            self.progress_text.configure(text="Cancelling…")

    def _progress(self, status: DownloadStatus) -> None:
        if not self.window.exists() or self.download is None:
            return
        if status.fraction is not None:
            self.progress.configure(mode="determinate", value=1000 * status.fraction)
        else:
            self.progress.configure(mode="indeterminate")
            self.progress.step(10)
        self.progress_text.configure(text=status.text)

    def _downloaded(self, outcome: str, failed: bool) -> None:
        self.download = None
        if not self.window.exists():
            return
        self.download_button.configure(state="normal")
        self.cancel_button.configure(state="disabled")
        self.progress_text.configure(text=outcome, foreground=PROBLEM_COLOUR if failed else "")
        if not failed:
            self.progress.configure(mode="determinate", value=1000)
        self.refresh()
        self.window.host.apply_settings(self.window.settings)
