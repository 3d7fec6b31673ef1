"""The scripted desktop (helpers/scripted.py) as an X11 editor: what is selected is PRIMARY too."""

from __future__ import annotations

from dataclasses import dataclass

from helpers.scripted import ScriptedDesktop


@dataclass
class PrimaryEditor(ScriptedDesktop):
    """Its selection is PRIMARY, held by `primary_owner` (7 is the editor itself, 9 another program)."""

    primary_owner: int = 7

    def read_selection(self, owner: int | None = None, max_chars: int | None = None) -> str | None:
        self.steps.append(f"read primary for {owner}")
        if not self.selection or owner not in (None, self.primary_owner):
            return None
        selected = self.text[self.selection[0]:self.selection[1]]
        return selected if max_chars is None else selected[:max_chars + 1]
