"""The tray's Recent, "Put the original back": the original over the answer, or on the clipboard.

Runs on the jobs thread as a job of its own. The original is pasted only where
it is sure to replace the answer: the window the answer went to comes back to
the front and its selection, taken as a hotkey takes it, is that answer.
Anywhere else (the window gone, nothing or something else selected) a paste
would land beside the answer or over other text, so the original goes on the
clipboard and the person pastes it where they want it.
"""

from __future__ import annotations

from collections.abc import Callable

from phitray import errors
from phitray.desktop import Desktop
from phitray.jobs.capture import bring_to_front, capture_selection
from phitray.jobs.paste import paste_text
from phitray.jobs.timeline import Timeline
from phitray.jobs.types import Delivered, Delivery, JobEvent, JobSettings, RestoreJob

ON_CLIPBOARD = "The original is on the clipboard: select the answer and paste it there, or choose this again " \
               "with the answer selected."


def put_back(job_id: int, job: RestoreJob, desktop: Desktop, config: JobSettings, timeline: Timeline,
             emit: Callable[[JobEvent], None]) -> Delivery:
    """Paste `job.original` over the answer if the window still shows it selected, else copy it. Returns
    where it went."""
    if job.window is not None and bring_to_front(desktop.focus, job.window):
        try:
            # One character past the answer is enough to tell a longer selection from it.
            captured = capture_selection(desktop, config.capture, timeline, max_characters=len(job.answer) + 1)
        except errors.Notice:  # nothing selected, or more than the answer
            captured = None
        if captured is not None and captured.window == job.window and captured.text.strip() == job.answer.strip():
            snapshot = captured.snapshot if captured.snapshot is not None else desktop.clipboard.snapshot()
            if paste_text(desktop, job.original, snapshot, config.capture, timeline, job.window):
                emit(Delivered(job_id, "The original is back in place of the answer.", "restore", job.action_id))
                return "restore"
    desktop.clipboard.keep_text(job.original)
    emit(Delivered(job_id, ON_CLIPBOARD, "clipboard", job.action_id))
    return "clipboard"
