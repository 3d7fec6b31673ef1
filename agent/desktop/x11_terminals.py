"""X11 terminals, known by WM_CLASS.

In a terminal Ctrl+C interrupts the running program and Ctrl+V makes a shell take the next key
literally; xterm reads Ctrl+Shift+C and Ctrl+Shift+V as those same keys. Every X11 terminal puts
what is selected on PRIMARY as it is selected, and pastes PRIMARY with Shift+Insert: the agent
reads the selection there, sends no copy key, and pastes with Shift+Insert, its answer on PRIMARY.
"""

from __future__ import annotations

# Either part of WM_CLASS (instance or class), lower case; `[desktop] terminals` adds more.
TERMINAL_CLASSES = frozenset({
    "xterm", "uxterm", "urxvt", "rxvt", "rxvt-unicode", "urxvt-tabbed", "st", "st-256color", "stterm",
    "gnome-terminal", "gnome-terminal-server", "org.gnome.terminal", "kgx", "org.gnome.console", "ptyxis",
    "org.gnome.ptyxis", "konsole", "org.kde.konsole", "yakuake", "xfce4-terminal", "mate-terminal", "lxterminal",
    "qterminal", "terminator", "tilix", "com.gexperts.tilix", "kitty", "alacritty", "wezterm",
    "org.wezfurlong.wezterm", "foot", "footclient", "terminology", "sakura", "guake", "tilda", "cool-retro-term",
    "eterm", "aterm", "mlterm", "roxterm", "lilyterm", "termite", "deepin-terminal", "io.elementary.terminal",
    "pantheon-terminal", "contour", "ghostty", "com.mitchellh.ghostty", "blackbox", "com.raggesilver.blackbox",
    "hyper", "tabby", "cosmic-term", "com.system76.cosmicterm", "rio", "zutty", "wayst",
})


def terminal_names(names: tuple[str, ...]) -> frozenset[str]:
    """The person's own terminals (`[desktop] terminals`), as they are compared: lower case."""
    return frozenset(name.strip().lower() for name in names if name.strip())


def is_terminal(classes: tuple[str, ...], extra: frozenset[str]) -> bool:
    """Whether a window whose WM_CLASS parts (lower case) are `classes` is a terminal: known, or in `extra`."""
    return any(part in TERMINAL_CLASSES or part in extra for part in classes)
