"""Which combo does what: the hotkey table from settings and action files, and its callbacks.

The callbacks run on the hotkey listener's thread (python-xlib's grab loop,
the Windows message loop), where waiting is not allowed: each one only hands a
job to the jobs thread, or sets its cancel event.
"""

from __future__ import annotations

import time
from collections.abc import Callable

from phitray.actions.library import ActionSet
from phitray.jobs.thread import JobThread
from phitray.jobs.types import ActionJob, CaptureJob
from phitray.errors import ConfigError
from phitray.hotkeys import Binding, BindingKind, Combo, bind_all
from phitray.settings import Settings


def hotkey_table(settings: Settings, actions: ActionSet) -> tuple[dict[Combo, Binding], list[ConfigError]]:
    """Every combo with its binding, and each problem (a bad combo, a clash, a hotkey for no action)."""
    fixed: dict[BindingKind, tuple[str, str]] = {
        "picker": (settings.picker_hotkey, f"{settings.source} [hotkeys] picker"),
        "cancel": (settings.cancel_hotkey, f"{settings.source} [hotkeys] cancel"),
    }
    per_action = {a.id: (a.hotkey, a.source) for a in actions.actions.values() if a.hotkey}
    problems: list[ConfigError] = []
    for action_id, combo in settings.action_hotkeys.items():
        if action_id not in actions.actions:
            problems.append(ConfigError(f"{settings.source}: hotkeys.actions.{action_id}: no such action"))
            continue
        per_action[action_id] = (combo, f"{settings.source} [hotkeys.actions]")
    bindings, clashes = bind_all(fixed, {k: v for k, v in per_action.items() if v[0]})
    return bindings, problems + clashes


def hotkey_callback(binding: Binding, jobs: JobThread) -> Callable[[], None]:
    def pressed() -> None:
        """Called on the hotkey listener's thread: hands work on and returns; never waits."""
        pressed_at = time.perf_counter()
        if binding.kind == "cancel":
            jobs.cancel()
        elif binding.kind == "picker":
            jobs.submit(CaptureJob("hotkey", pressed_at=pressed_at))
        else:
            jobs.submit(ActionJob("hotkey", binding.action_id, pressed_at=pressed_at))
    return pressed


def hotkey_callbacks(bindings: dict[Combo, Binding], jobs: JobThread) -> dict[Combo, Callable[[], None]]:
    return {combo: hotkey_callback(binding, jobs) for combo, binding in bindings.items()}
