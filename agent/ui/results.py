"""The windows a job opens: the action picker and the result popup, fed the job's events.

The daemon routes each job event here; this module knows which window is up
and what a click in it asks the job engine for. Every method runs on the Tk
(main) thread.
"""

from __future__ import annotations

import logging
import time
import tkinter
from collections.abc import Callable
from dataclasses import replace

from phitray.jobs.types import Job, JobEvent
from phitray.ui.picker import Picker
from phitray.ui.popup import PopupCommands, ResultPopup

log = logging.getLogger(__name__)


class ResultWindows:
    def __init__(self, root: tkinter.Tk, submit: Callable[[Job], None], cancel: Callable[[], None],
                 copy: Callable[[str], None], release_keys: Callable[[], str] = lambda: "") -> None:
        """`submit` queues a job, `cancel` stops the running one, `copy` offers text on the clipboard,
        `release_keys` gives back the keyboard the picker's capture held and says what was typed."""
        self._root = root
        self._submit, self._cancel, self._copy, self._release_keys = submit, cancel, copy, release_keys
        self.popup: ResultPopup | None = None
        self.picker: Picker | None = None

    def open_picker(self, event: JobEvent, actions: list[tuple[str, str]]) -> None:
        """A "captured" event: the selection is in, the person picks what to do with it."""
        job = event.job
        assert job is not None
        if self.picker is not None:
            self.picker.close()
        text, window = event.text, job.window

        def chosen(action_id: str, values: dict[str, str]) -> None:
            """The picker's choice: Tk thread."""
            self._submit(Job("action", "picker", action_id, text=text, window=window, values=tuple(values.items())))

        self.picker = Picker(self._root, actions, chosen, preview=text, typed=self._release_keys)

    def open_popup(self, event: JobEvent) -> None:
        if self.popup is not None:
            self.popup.close()
        job, original = event.job, event.original
        assert job is not None
        window = job.window

        def replace_text(text: str) -> None:
            """Popup's Replace: Tk thread."""
            self._submit(Job("paste", "popup", job.action_id, text=text, window=window, original=original))

        def retry() -> None:
            """Popup's Retry: Tk thread."""
            self._submit(replace(job, source="popup", text=original, output="popup", pressed_at=time.perf_counter()))

        commands = PopupCommands(copy=self._copy, replace=replace_text, retry=retry, cancel=self._cancel)
        self.popup = ResultPopup(self._root, event.title or job.action_id, commands, can_replace=window is not None)

    def show_text(self, event: JobEvent) -> None:
        """A streamed piece of the answer, into the popup if one is up."""
        if self.popup is None:
            return
        first = not self.popup.text
        self.popup.append(event.text)
        if first:
            self.popup.body.update_idletasks()  # drawn, not only queued
            log.info("job %d: first text drawn in the popup %.1f ms after the model's first chunk",
                     event.job_id, (time.perf_counter() - event.at) * 1000)

    def finish(self, event: JobEvent) -> None:
        """A popup job's answer: into the popup it streamed to, or a new one."""
        if self.popup is None or not self.popup.streaming:
            self.open_popup(event)
        assert self.popup is not None
        self.popup.finish(event.text, event.message, event.original, changes=event.review, flagged=event.flagged)

    def fail(self, message: str) -> bool:
        """Say why the job stopped in the popup it was streaming to; False when none was."""
        if self.popup is None or not self.popup.streaming:
            return False
        self.popup.fail(message)
        return True
