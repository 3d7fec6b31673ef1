"""The windows a job opens, the action picker and the result popup, fed the job's events.

The daemon hands each job event for a window here; this module knows which
window is up and what a click in it asks the jobs thread for. Every method
runs on the Tk (main) thread.
"""

from __future__ import annotations

import logging
import time
import tkinter
from collections.abc import Callable
from dataclasses import replace

from phitray.jobs.steps import ANOTHER_VERSION_TRIES, new_seed
from phitray.jobs.types import CaptureTaken, Delivered, Job, PasteJob, PickedJob, Started, Streamed
from phitray.logs import milestone
from phitray.ui.picker import MenuEntry, Picker
from phitray.ui.popup import PopupCommands, ResultPopup

log = logging.getLogger(__name__)


class JobWindows:
    def __init__(self, root: tkinter.Tk, submit: Callable[[Job], None], cancel: Callable[[], None],
                 copy: Callable[[str], None], release_keys: Callable[[], str] = lambda: "") -> None:
        """`submit` queues a job, `cancel` stops the running one, `copy` offers text on the clipboard,
        `release_keys` gives back the keyboard the picker's capture held and says what was typed."""
        self._root = root
        self._submit, self._cancel, self._copy, self._release_keys = submit, cancel, copy, release_keys
        self.popup: ResultPopup | None = None
        self._popup_job = 0  # the job the popup shows
        self._popup_html = ("", "")  # its answer and that answer as HTML, when the formatting was kept
        self.picker: Picker | None = None

    def open_picker(self, event: CaptureTaken, actions: list[tuple[str, str]],
                    menu: tuple[MenuEntry, ...] = (), hotkeys: dict[str, str] | None = None) -> None:
        """The selection is in; the person picks what to do with it (or, with no tray, a `menu` entry).
        `actions` in the order shown; `hotkeys`: each action's own combo, shown beside it."""
        if self.picker is not None:
            self.picker.close()
        capture = event.capture
        if capture.profile is not None and capture.profile.picker_default:  # the app's own first choice
            first = capture.profile.picker_default
            actions = sorted(actions, key=lambda action: action[0] != first)

        def chosen(action_id: str, values: dict[str, str]) -> None:
            """The picker's choice: Tk thread."""
            self._submit(PickedJob(action_id, capture, tuple(values.items())))

        self.picker = Picker(self._root, actions, chosen, preview=capture.text, typed=self._release_keys, menu=menu,
                             hotkeys=hotkeys)

    def open_popup(self, event: Started | Delivered) -> None:
        """A popup job's window; the same job starting again (a flagged sample's next try) clears the one up."""
        if self.popup is not None and self.popup.streaming and event.job_id == self._popup_job:
            self.popup.restart("The last version did not pass its checks; trying another…")
            return
        if self.popup is not None:
            self.popup.close()
        self._popup_job = event.job_id
        job = event.retry
        assert job is not None
        original = job.text or ""

        def replace_text(text: str) -> None:
            """Popup's Replace: Tk thread."""
            answer, html = self._popup_html  # the HTML goes only with the answer as it came, not an edited one
            self._submit(PasteJob(job.action_id, text, job.window, original, html=html if text == answer else ""))

        def retry() -> None:
            """Popup's Another version: Tk thread. A new seed at each press, so each gives its own sample."""
            self._submit(replace(job, pressed_at=time.perf_counter(), seed=new_seed(), tries=ANOTHER_VERSION_TRIES))

        commands = PopupCommands(copy=self._copy, replace=replace_text, retry=retry, cancel=self._cancel)
        self.popup = ResultPopup(self._root, event.title or job.action_id, commands, can_replace=job.window is not None)

    def show_text(self, event: Streamed) -> None:
        """A streamed piece of the answer, into the popup if one is up."""
        if self.popup is None:
            return
        first = not self.popup.text
        self.popup.append(event.text)
        if first:
            self.popup.body.update_idletasks()  # drawn, not only queued
            milestone("popup-first-text", job=event.job_id, ms=round((time.perf_counter() - event.at) * 1000, 1))

    def finish(self, event: Delivered) -> None:
        """A popup job's answer: into the popup it streamed to, or a new one."""
        if self.popup is None or not self.popup.streaming:
            self.open_popup(event)
        assert self.popup is not None
        self._popup_html = (event.text, event.html)
        self.popup.finish(event.text, event.message, event.original, changes=event.review, flagged=event.flagged)

    def fail(self, message: str) -> bool:
        """Say why the job stopped in the popup it was streaming to; False when none was."""
        if self.popup is None or not self.popup.streaming:
            return False
        self.popup.fail(message)
        return True
