"""What the tray shows, as a pure function of the agent's state (tested without a desktop)."""

from __future__ import annotations

import textwrap
from dataclasses import dataclass
from typing import Literal

from phitray.ui.tray import TrayState, TrayView

HostState = Literal["loading", "ready", "error"]
# A menu entry is one line as wide as its text: a model's note made the tray menu 960 pixels wide.
NOTE_COLUMNS = 60
NOTE_INDENT = "    "  # a note's later lines, set in under its first


@dataclass(frozen=True)
class AgentState:
    """The facts the tray is drawn from; the daemon replaces it whole on every change (Tk thread)."""

    host: HostState = "loading"
    host_status: str = "Starting…"
    busy: bool = False
    paused: bool = False
    can_undo: bool = False
    actions: tuple[tuple[str, str], ...] = ()  # (id, title), in menu order
    autostart: bool | None = None  # None: this platform has no start-on-login entry
    backend_choice: str = "auto"
    backends: tuple[str, ...] = ()
    model_id: str = ""
    installed_models: tuple[str, ...] = ()
    picker_hotkey: str = ""
    notes: tuple[str, ...] = ()  # lines under the status: a backend passed over and why, the model in use
    download: str = ""  # the first run's background download: "downloading <model>: 12.3 of 40.1 MB, 4.2 MB/s"
    recent: tuple[tuple[int, str], ...] = ()  # the last results (history.Recent): (number, label), newest first


def tray_view(state: AgentState) -> TrayView:
    """Busy wins over paused, and both only show over a ready model: a missing model is what matters then."""
    status = state.host_status
    view_state: TrayState = state.host
    if state.host == "ready" and state.busy:
        view_state, status = "busy", f"Working… · {status}"
    elif state.host == "ready" and state.paused:
        view_state = "paused"
    if state.download:  # in the status line, so the tooltip shows it too
        status = f"{status} · {state.download}"
    return TrayView(
        state=view_state,
        status=status,
        notes=tuple(line for note in state.notes for line in wrap_note(note)),
        actions=state.actions,
        busy=state.busy,
        can_undo=state.can_undo and not state.busy,
        paused=state.paused,
        autostart=state.autostart,
        backend_choice=state.backend_choice,
        backends=state.backends,
        model_id=state.model_id,
        models=state.installed_models,
        picker_hotkey=state.picker_hotkey,
        downloading=bool(state.download),
        recent=state.recent,
    )


def wrap_note(note: str) -> list[str]:
    """A note as menu lines of at most NOTE_COLUMNS characters, broken between words (a word longer than
    a line, such as a path, keeps a line of its own)."""
    return textwrap.wrap(note, NOTE_COLUMNS, subsequent_indent=NOTE_INDENT, break_long_words=False,
                         break_on_hyphens=False) or [note]
