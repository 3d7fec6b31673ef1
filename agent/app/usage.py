"""Which actions the person uses most, for the picker's order, and each action's hotkey to show beside it.

Counts only, kept in memory for the life of the agent (never the text, never on disk); the daemon
counts from the `Started` events it is handed on the Tk thread, and nothing else writes them.
"""

from __future__ import annotations

from collections import Counter

from phitray.actions.library import ActionSet
from phitray.app.bindings import hotkey_table
from phitray.jobs.types import Started
from phitray.settings import Settings


class ActionUses:
    """How many times each action ran since the agent started. Tk thread only."""

    def __init__(self) -> None:
        self._counts: Counter[str] = Counter()
        self._last_job = 0

    def count(self, event: Started) -> None:
        """An action started: the settings window's Try of a draft is no use of the action, and the further
        samples one job tries after a flagged answer start again under the same job id."""
        if event.job_id == self._last_job:
            return
        self._last_job = event.job_id
        if event.retry.draft is None and event.retry.source != "settings":
            self._counts[event.retry.action_id] += 1

    def uses(self, action_id: str) -> int:
        return self._counts[action_id]

    def picker_rows(self, actions: ActionSet, settings: Settings) -> tuple[list[tuple[str, str]], dict[str, str]]:
        """The picker's actions, the most used first (ties keep the menu's order), and the hotkey that
        runs each one directly, as the hotkey table bound it."""
        ordered = [(action.id, action.title) for action in actions.ordered()]
        ordered.sort(key=lambda row: -self._counts[row[0]])  # stable: equal counts keep their order
        bindings, _ = hotkey_table(settings, actions)
        hotkeys = {binding.action_id: str(combo) for combo, binding in bindings.items() if binding.kind == "action"}
        return ordered, hotkeys
