"""What the Windows adapters decide, as plain functions: importable and tested on every platform.

The adapters (`windows*.py`) only gather the facts through Win32 calls; the
rules that turn those facts into what the agent does live here, so a unit test
pins each decision where Wine cannot show the Windows behaviour behind it
(AltGr, UIPI, clipboard monitors).
"""

from __future__ import annotations

from phitray.hotkeys import Combo

# Formats a person would miss first, read first: a snapshot that runs out of time keeps these.
# Unicode text, HTML/RTF (registered by name), bitmaps, files, then the rest in the clipboard's order.
PRIORITY_FORMATS = (13, "HTML Format", "Rich Text Format", 8, 17, "PNG", 15, 1, 7)


def elevation_problem(program: str, target_elevated: bool | None, own_elevated: bool | None) -> str:
    """Why keys cannot reach a program, or "". Windows drops input sent into a program with more
    rights than the sender's without an error (UIPI), which would read as "No text is selected".
    None means not known: an unknown target is tried."""
    if target_elevated and not own_elevated:
        return (f"{program or 'The window in front'} runs as administrator, and Windows keeps programs without "
                "those rights (Phi Tray) from reading or typing into it. Copy the text and use "
                "\"Run on clipboard text\" from the tray, or start Phi Tray as administrator.")
    return ""


def altgr_problem(combo: Combo, character: str) -> str:
    """A warning when a Ctrl+Alt combo types `character` on the keyboard layout: Windows treats Ctrl+Alt
    as AltGr (Polish ź, Czech đ, German @), and a bound hotkey takes the key from the person."""
    # A plain space is no loss (the space bar types it); a no-break space (French AltGr+Space) is.
    if not character or character == " " or not (character.isprintable() or character.isspace()):
        return ""
    return (f"{combo} types {character!r} on this keyboard layout (AltGr): while it is a hotkey, "
            f"{character!r} cannot be typed. Choose a combo with the Windows key, Shift or an F-key.")


def render_for(armed: bool, reader: int | None, targets: frozenset[int]) -> bool:
    """Whether a read of the agent's paste offer gets the text, and so counts as the paste.

    Before the agent sends Ctrl+V no read is the paste: a clipboard manager, a
    remote desktop or a VM tool reads every change, and answering it would end
    the wait early, restore the old clipboard, and paste that instead. After
    Ctrl+V, a read by the target's program (or by a reader that opened the
    clipboard without a window, so it cannot be told apart) is the paste;
    others get nothing, so the target's own read still comes to the agent.
    """
    if not armed:
        return False
    return reader is None or not targets or reader in targets


def snapshot_order(formats: list[tuple[int, str]]) -> list[tuple[int, str]]:
    """(format id, registered name) in the order a capped snapshot reads them: PRIORITY_FORMATS first."""
    def rank(item: tuple[int, str]) -> int:
        fmt, name = item
        for index, wanted in enumerate(PRIORITY_FORMATS):
            if wanted == (name if isinstance(wanted, str) else fmt):
                return index
        return len(PRIORITY_FORMATS)
    return sorted(formats, key=rank)  # stable: the rest keep the clipboard's order


# Left and right Shift, Ctrl, Alt and the Windows keys: what a hotkey is held with.
MODIFIER_KEYS = frozenset({0xA0, 0xA1, 0xA2, 0xA3, 0xA4, 0xA5, 0x5B, 0x5C})
# Input-method keys (Kana/Hangul, Junja, Final, Kanji/Hanja, IME on/off, Convert, Nonconvert, Accept,
# Mode change; the Japanese 106/109 keyboard's DBE_ states at 0xF0-0xF6): GetAsyncKeyState reports some
# of them down for as long as their mode is on, which would hold every capture for its whole wait.
IME_MODE_KEYS = frozenset({0x15, 0x16, 0x17, 0x18, 0x19, 0x1A, 0x1C, 0x1D, 0x1E, 0x1F, *range(0xF0, 0xF7)})


def keys_to_wait_for(hotkey_keys: frozenset[int]) -> frozenset[int]:
    """The virtual keys a capture waits to see let go before it sends Ctrl+C: the modifiers and the bound
    hotkeys' own keys (what the person pressed to start it), never an input-method mode key."""
    return (MODIFIER_KEYS | hotkey_keys) - IME_MODE_KEYS


# What the agent declares to Windows (windows_screen.declare_dpi_awareness). Tk 8.6 sets its scaling once
# and never redraws for another monitor's DPI, and per-monitor awareness tells Windows not to either: a
# window opened on a monitor of another DPI than the one Tk scaled for kept the wrong size. System-aware,
# Windows stretches each window from the DPI Tk drew at to its monitor's (crisp where they match).
DPI_AWARENESS = "system"


def shown_scale(awareness: str, tk_dpi: int, monitor_dpi: int) -> float:
    """How large a window designed at 96 DPI shows on a monitor of `monitor_dpi`, as a share of its design,
    when Tk draws at `tk_dpi` (its scaling from the system DPI at start) under the process's awareness."""
    if awareness == "per-monitor":
        return tk_dpi / 96  # Windows leaves the window as Tk drew it, whatever the monitor
    if awareness == "system":
        return tk_dpi / 96 * monitor_dpi / tk_dpi  # Windows stretches by the monitor's DPI over the system's
    return monitor_dpi / 96  # unaware: Tk draws at 96, Windows stretches it all


def stretched(awareness: str, tk_dpi: int, monitor_dpi: int) -> bool:
    """Whether Windows stretches the window's pixels there (slightly blurry), rather than showing Tk's own."""
    return awareness != "per-monitor" and monitor_dpi != (tk_dpi if awareness == "system" else 96)


def replay_events(typed: list[tuple[int, bool]]) -> list[tuple[int, bool]]:
    """SendInput's (virtual key, key-up) events that type again the (virtual key, shift held) presses the
    picker's hold kept while the picker was not yet in front."""
    left_shift = 0xA0
    events: list[tuple[int, bool]] = []
    for vk, shift in typed:
        press = [(vk, False), (vk, True)]
        events += [(left_shift, False), *press, (left_shift, True)] if shift else press
    return events


# Browsers and Electron apps turn on their whole accessibility tree for as long as a UI Automation client
# seems to be about (Chromium: until AutoDisableAccessibility sees no use for 30 s), which slows them down:
# their windows are copied from as before.
UIA_SKIPPED_CLASSES = ("Chrome_WidgetWin_", "Chrome_RenderWidgetHostHWND", "MozillaWindowClass")


def uia_worth_asking(window_class: str) -> bool:
    """Whether the person's window (its class) is asked through UI Automation before Ctrl+C."""
    return not window_class.startswith(UIA_SKIPPED_CLASSES)


def uia_asks(element_program: int, window_programs: frozenset[int]) -> bool:
    """Whether the focused element is the person's window's to read: with the taskbar or a menu in front, the
    focus is another program's, whose selection is not the person's (and whose provider is not asked)."""
    return element_program in window_programs


def uia_selection(texts: list[str]) -> str | None:
    """The selection UI Automation gave, one text per selected span, or None to copy with Ctrl+C instead:
    nothing selected (a caret is an empty span), or several spans, whose joining each program does its
    own way on Ctrl+C."""
    if len(texts) != 1 or not texts[0].strip():
        return None
    return texts[0]
