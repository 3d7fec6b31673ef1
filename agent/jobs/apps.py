"""Which app a job works in: its profile, resolved once per job at the capture, and the apps seen lately.

The capture asks `RecentApps.resolve` with the window's traits before it sends
any key or reads any selection: a profile that turns Phi Tray off ends the job
there (`AppOff`), so a password manager gets no Ctrl+C. What is kept of an app
is its program and window class, never its title (it can name a document), and
only in memory, for the settings window's Apps tab.
"""

from __future__ import annotations

import threading
from collections import deque
from dataclasses import dataclass

from phitray.app_profiles import AppProfile, profile_for
from phitray.desktop import WindowTraits
from phitray.errors import AppOff

RECENT_APPS = 12


@dataclass(frozen=True)
class App:
    """A window's program, as a profile can match it again."""

    program: str = ""  # its file name ("keepassxc", "EXCEL.EXE")
    window_class: str = ""  # X11: WM_CLASS's class part; Windows: the window class

    @property
    def label(self) -> str:
        """How the person knows it: the program, else the class; "" for a window nothing could name."""
        return self.program.removesuffix(".exe").removesuffix(".EXE") or self.window_class

    @classmethod
    def of(cls, traits: WindowTraits) -> App:
        return cls(traits.program, traits.classes[-1] if traits.classes else "")


@dataclass(frozen=True)
class SeenApp:
    """An app a job ran in lately, and the profile it had then ("" for none)."""

    app: App
    profile: str = ""
    enabled: bool = True


def off_message(profile: AppProfile) -> str:
    return (f"Phi Tray is off in {profile.name}: nothing was copied or sent to it. To use it there, change its "
            "profile in Settings → Apps or in settings.toml ([[apps]]).")


class RecentApps:
    """The last apps jobs ran in, newest first, in memory only. Written on the jobs thread, read on any."""

    def __init__(self, size: int = RECENT_APPS) -> None:
        self._lock = threading.Lock()
        self._seen: deque[SeenApp] = deque(maxlen=size)

    def resolve(self, traits: WindowTraits, profiles: tuple[AppProfile, ...]) -> AppProfile | None:
        """Jobs thread: the window's profile (None: none), the app noted; AppOff where the profile turns
        Phi Tray off."""
        profile = profile_for(profiles, traits.program, traits.classes, traits.title, traits.own)
        app = App.of(traits)
        if app.label:
            self._note(SeenApp(app, profile.name if profile else "", profile.enabled if profile else True))
        if profile is not None and not profile.enabled:
            raise AppOff(off_message(profile), profile.name)
        return profile

    def _note(self, seen: SeenApp) -> None:
        with self._lock:
            for old in [old for old in self._seen if old.app == seen.app]:
                self._seen.remove(old)
            self._seen.appendleft(seen)

    def recent(self) -> tuple[SeenApp, ...]:
        """Any thread: newest first."""
        with self._lock:
            return tuple(self._seen)
