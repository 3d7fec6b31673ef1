"""The last results, for the person to get back: the tray's Recent and `phitray history`.

The daemon notes every job event here on the Tk thread; an action's answer
(`Delivered` with the job to run again) becomes an `Entry`, and a popup's
Replace marks its entry pasted. At most HISTORY_SIZE entries, newest first,
as one tuple replaced whole, so the "instance" thread can read it while the
Tk thread adds to it.

The entries hold the person's text, so they stay in memory unless the person
turns `[history] keep_on_disk` on: then the file in the data folder is theirs
alone (0600 where POSIX modes apply) and written whole or not at all after
each change, like the settings; turned off, the file is deleted. What goes to
the log is a count or an error's kind, never an entry.
"""

from __future__ import annotations

import json
import logging
import time
from collections.abc import Callable
from dataclasses import asdict, dataclass, replace
from pathlib import Path
from typing import Any

from phitray.desktop.channel import MAX_LINE_BYTES
from phitray.files import decode_text, write_text
from phitray.jobs.steps import ANOTHER_VERSION_TRIES
from phitray.jobs.types import ActionJob, Delivered, JobEvent, Values

log = logging.getLogger(__name__)
HISTORY_SIZE = 50
MENU_SIZE = 10  # the tray's Recent
LABEL_CHARACTERS = 40
# `phitray history --json` gets every entry whole when they fit the channel's one line; longer texts are
# cut (and say so) rather than entries left out.
CUT_STEPS = (None, 4000, 1000, 250, 60)
FILE_VERSION = 1

Recent = tuple[tuple[int, str], ...]  # (entry number, menu label), newest first


@dataclass(frozen=True)
class Entry:
    """One result: where it came from, what went in and what came out."""

    number: int  # counts up over the agent's life, and over restarts when kept on disk
    at: float  # time.time() when it was delivered
    app: str  # the program the selection came from, as the capture named it ("" where it could not)
    action_id: str
    title: str
    original: str
    answer: str
    pasted: bool  # the answer replaced the selection (at once, or by the popup's Replace)
    values: Values = ()  # the action's placeholder values (translate's language)
    window: int | None = None  # where it was pasted, this session only: never written to disk

    def label(self) -> str:
        """The tray's line for it: the action and the start of the original, on one line."""
        start = " ".join(self.original.split())
        start = start if len(start) <= LABEL_CHARACTERS else start[:LABEL_CHARACTERS - 1].rstrip() + "…"
        return f"{self.title or self.action_id}: {start}"

    def again(self, seed: int) -> ActionJob:
        """"Another version" of it: the action on the original, sampled with `seed`, into the popup."""
        return ActionJob("tray", self.action_id, text=self.original, values=self.values, output="popup",
                         window=self.window, seed=seed, tries=ANOTHER_VERSION_TRIES)


class History:
    """The entries and, when kept on disk, their file. Every method but `entries` and `for_scripts` runs on
    the Tk thread."""

    def __init__(self, file: Path, keep_on_disk: bool, changed: Callable[[Recent], None]) -> None:
        """`changed` gets the tray's Recent after every change (Tk thread)."""
        self._file, self._on_disk, self._changed = file, keep_on_disk, changed
        self.entries: tuple[Entry, ...] = read_entries(file) if keep_on_disk else ()  # newest first
        self._next = max((entry.number for entry in self.entries), default=0) + 1

    def note(self, event: JobEvent) -> None:
        """A job event, as the daemon gets it: an answer is kept, a popup's Replace marks its entry pasted."""
        if not isinstance(event, Delivered):
            return
        if event.output == "paste":
            found = next((entry for entry in self.entries
                          if entry.answer == event.text and entry.original == event.original), None)
            if found is None or found.pasted:
                return
            self._set(tuple(replace(entry, pasted=True) if entry is found else entry for entry in self.entries))
            return
        job = event.retry
        if job is None or job.draft is not None or not event.text:  # an unsaved action's Try is no result
            return
        entry = Entry(self._next, time.time(), event.app, job.action_id, event.title, event.original, event.text,
                      pasted=event.output == "replace", values=job.values, window=job.window)
        self._next += 1
        self._set((entry, *self.entries)[:HISTORY_SIZE])

    def find(self, number: int) -> Entry | None:
        """The entry of that number, if it is still kept. Any thread."""
        return next((entry for entry in self.entries if entry.number == number), None)

    def recent(self) -> Recent:
        return tuple((entry.number, entry.label()) for entry in self.entries[:MENU_SIZE])

    def keep_on_disk(self, on: bool) -> None:
        """The setting changed: write the file now, or delete it."""
        if on == self._on_disk:
            return
        self._on_disk = on
        if on:
            self._write()
        else:
            try:
                self._file.unlink(missing_ok=True)
            except OSError as error:
                log.warning("history: could not delete its file (%s)", type(error).__name__)

    def _set(self, entries: tuple[Entry, ...]) -> None:
        self.entries = entries
        if self._on_disk:
            self._write()
        self._changed(self.recent())

    def _write(self) -> None:
        kept = [{name: value for name, value in asdict(entry).items() if name != "window"} for entry in self.entries]
        try:
            write_text(self._file, json.dumps({"version": FILE_VERSION, "entries": kept}, ensure_ascii=False),
                       private=True)
        except OSError as error:  # kept in memory all the same; the next change tries again
            log.warning("history: could not write its file (%s)", type(error).__name__)

    def for_scripts(self) -> str:
        """The entries as `phitray history` gets them: JSON, newest first, fitting the channel's one line.
        The "instance" thread."""
        entries = self.entries
        for limit in CUT_STEPS:
            text = json.dumps([script_entry(entry, limit) for entry in entries], ensure_ascii=False)
            if len(json.dumps({"answer": text})) < MAX_LINE_BYTES:
                return text
        return json.dumps([script_entry(entry, CUT_STEPS[-1]) for entry in entries[:MENU_SIZE]], ensure_ascii=False)


def script_entry(entry: Entry, limit: int | None) -> dict[str, Any]:
    def cut(text: str) -> str:
        return text if limit is None or len(text) <= limit else text[:limit] + "…"

    return {"number": entry.number, "time": time.strftime("%Y-%m-%dT%H:%M:%S%z", time.localtime(entry.at)),
            "app": entry.app, "action": entry.action_id, "title": entry.title, "pasted": entry.pasted,
            "original": cut(entry.original), "answer": cut(entry.answer),
            "cut": limit is not None and max(len(entry.original), len(entry.answer)) > limit}


def read_entries(file: Path) -> tuple[Entry, ...]:
    """The entries kept on disk; none when there is no file or it cannot be read (said in the log, not why in
    words that could quote it)."""
    try:
        raw = json.loads(decode_text(file.read_bytes())[0])
        entries = tuple(Entry(**{**item, "values": tuple(tuple(pair) for pair in item.get("values", ())),
                                 "window": None}) for item in raw["entries"])
    except FileNotFoundError:
        return ()
    except (OSError, ValueError, TypeError, KeyError) as error:
        log.warning("history: its file could not be read (%s); starting with none", type(error).__name__)
        return ()
    log.info("history: %d results read back", len(entries))
    return entries[:HISTORY_SIZE]
