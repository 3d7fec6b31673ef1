"""The result popup: a small always-on-top window near the pointer that streams the answer.

Copy, Replace (pastes into the window that had the selection), Another version
(the action again, sampled, so it can differ), Close;
Esc cancels while the answer streams and closes afterwards. An answer that
failed a check says why above it, and Replace becomes "Replace anyway". An
edit can be shown as its changes against the selection: deleted words struck
through in red, inserted words underlined in green; Enter replaces, Tab moves
between the buttons. Every method runs on the Tk (main) thread; the buttons
only call `PopupCommands`.
"""

from __future__ import annotations

import tkinter
from collections.abc import Callable
from dataclasses import dataclass
from tkinter import ttk

from phitray.desktop.system import Rectangle, work_area
from phitray.logs import milestone
from phitray.ui.changes import count_changes, word_changes

WIDTH, HEIGHT = 460, 260
POINTER_GAP_X, POINTER_GAP_Y = 12, 16  # room between the pointer and the window's corner
THEN_LATEST_MS = 300


@dataclass(frozen=True)
class PopupCommands:
    copy: Callable[[str], None]
    replace: Callable[[str], None]
    retry: Callable[[], None]
    cancel: Callable[[], None]


def take_keyboard(window: tkinter.Toplevel, widget: Callable[[], tkinter.Misc],
                  then: Callable[[], None] | None = None) -> None:
    """Give `window` the keyboard as soon as it is on screen, with `widget()` focused (asked each time:
    the widget that should have the focus can change before the window shows).

    Asking before the window is mapped does nothing on X11 (there is no window
    to give the focus to yet), so this waits for the first <Map>; a window
    manager may map it a moment later still, so it asks once more after that.
    `then` runs once `widget` has the focus as far as Tk knows (Tk drops keys
    that come before that), or after THEN_LATEST_MS at the latest.
    """
    pending = [then] if then else []

    def run_then(event: object = None) -> None:
        """Tk thread: the widget has the focus (or it is time)."""
        while pending:
            pending.pop()()

    def grab(event: object = None) -> None:
        """Tk thread: the window is mapped."""
        if window.winfo_exists():
            window.focus_force()
            widget().focus_set()

    def mapped(event: tkinter.Event) -> None:  # type: ignore[type-arg]
        if event.widget is window:
            grab()
            window.after(80, grab)
            window.after(THEN_LATEST_MS, run_then)

    widget().bind("<FocusIn>", run_then, add="+")
    window.bind("<Map>", mapped, add="+")
    window.lift()


def place_near_pointer(window: tkinter.Misc, width: int, height: int) -> str:
    """A geometry string for a window of `width` x `height` (pixels at 96 DPI) near the pointer, inside
    the work area of the monitor under it. Tk thread."""
    x, y = window.winfo_pointerxy()
    # Where the platform says nothing, Tk's screen; on Windows that is the primary monitor alone
    # (cpython #119459), which would pull a popup off a second monitor.
    area = work_area(x, y) or (0, 0, window.winfo_screenwidth(), window.winfo_screenheight())
    # Tk scales fonts to the display's DPI ("tk scaling"); the window grows with them so that its
    # buttons stay inside it, and never shrinks below the size it was designed at.
    scale = max(1.0, window.winfo_fpixels("1i") / 96)
    size = (round(width * scale), round(height * scale))
    left, top = position_near_pointer((x, y), size, area)
    return f"{size[0]}x{size[1]}+{left}+{top}"


def position_near_pointer(pointer: tuple[int, int], size: tuple[int, int], area: Rectangle) -> tuple[int, int]:
    """The top-left corner for a window of `size`: below and right of the pointer, above or left of it
    where `area` (left, top, right, bottom) has no room for it there, and always inside `area` when it fits."""
    left, top, right, bottom = area
    return (_along_axis(pointer[0], POINTER_GAP_X, size[0], left, right),
            _along_axis(pointer[1], POINTER_GAP_Y, size[1], top, bottom))


def _along_axis(pointer: int, gap: int, length: int, low: int, high: int) -> int:
    """One axis of position_near_pointer: after the pointer, else before it; then clamped to [low, high)."""
    start = pointer + gap
    if start + length > high:
        start = pointer - gap - length
    return max(low, min(start, high - length))


class ResultPopup:
    def __init__(self, root: tkinter.Tk, title: str, commands: PopupCommands, can_replace: bool) -> None:
        self.commands = commands
        self.streaming = True
        self.text = ""
        self.window = tkinter.Toplevel(root)
        self.window.title(f"Phi Tray — {title}")
        self.window.attributes("-topmost", True)
        self.window.geometry(place_near_pointer(self.window, WIDTH, HEIGHT))
        self.window.protocol("WM_DELETE_WINDOW", self.escape)
        frame = ttk.Frame(self.window, padding=6)
        frame.pack(fill="both", expand=True)
        self.status = ttk.Label(frame, text="Writing…", wraplength=WIDTH - 20)
        self.status.pack(fill="x")
        self.body = tkinter.Text(frame, wrap="word", height=8, relief="flat", font=("TkDefaultFont", 11))
        self.body.pack(fill="both", expand=True, pady=4)
        self.body.tag_configure("deleted", overstrike=True, foreground="#a00000", background="#fde7e7")
        self.body.tag_configure("inserted", underline=True, foreground="#006000", background="#e3f6e3")
        self.flagged = False
        buttons = ttk.Frame(frame)
        buttons.pack(fill="x")
        self.copy_button = ttk.Button(buttons, text="Copy", command=self._copy, state="disabled")
        self.replace_button = ttk.Button(buttons, text="Replace", command=self._replace, state="disabled")
        self.retry_button = ttk.Button(buttons, text="Another version", command=self._retry, state="disabled")
        self.close_button = ttk.Button(buttons, text="Close", command=self.escape)
        for button in (self.copy_button, self.replace_button, self.retry_button, self.close_button):
            button.pack(side="left", padx=2)
        self.can_replace = can_replace
        self.window.bind("<Escape>", lambda event: self.escape())
        self.window.bind("<Return>", lambda event: self._enter(event))
        self.body.bind("<Return>", lambda event: self._enter(event))  # before the Text's own newline
        self.focus_target: tkinter.Misc = self.close_button
        take_keyboard(self.window, lambda: self.focus_target)
        milestone("window-opened", window="popup")

    def append(self, piece: str) -> None:
        self.text += piece
        self.body.insert("end", piece)
        self.body.see("end")

    def restart(self, message: str) -> None:
        """The same job streams its answer again (another sample): what streamed goes."""
        self.text = ""
        self.body.delete("1.0", "end")
        self.status.configure(text=message)

    def finish(self, text: str, message: str, original: str = "", changes: bool = False, flagged: bool = False) -> None:
        """The final, cleaned answer replaces what streamed; as its changes against `original` if `changes`."""
        self.streaming = False
        self.text = text
        self.flagged = flagged
        self.body.delete("1.0", "end")
        if changes and original:
            pieces = word_changes(original, text)
            for kind, piece in pieces:
                self.body.insert("end", piece, () if kind == "same" else (kind,))
            count = count_changes(pieces)
            message = f"{message}  ({count} change{'s' if count != 1 else ''} marked)" if message else f"{count} changes"
        else:
            self.body.insert("1.0", text)
        self.status.configure(text=message, foreground="#a00000" if flagged else "")
        self.copy_button.configure(state="normal")
        self.retry_button.configure(state="normal")
        if self.can_replace:
            self.replace_button.configure(state="normal", text="Replace anyway" if flagged else "Replace")
        # Enter runs the focused button: Replace for an answer that passed, never for one that failed.
        self.focus_target = (self.replace_button if self.can_replace and not flagged else self.retry_button
                             if flagged else self.copy_button)
        self.focus_target.focus_set()

    def fail(self, message: str) -> None:
        self.streaming = False
        self.status.configure(text=message)
        self.retry_button.configure(state="normal")
        if self.text:
            self.copy_button.configure(state="normal")

    def escape(self) -> None:
        """Esc, Close or the window's close box: cancel while streaming, else close."""
        if self.streaming:
            self.commands.cancel()
        self.close()

    def close(self) -> None:
        self.streaming = False  # a job that ends after this tells the tray, not a window that is gone
        if self.window.winfo_exists():
            self.window.destroy()

    def _enter(self, event: tkinter.Event) -> str:  # type: ignore[type-arg]
        """Enter runs the focused button; on the answer itself it replaces (when it may)."""
        widget = event.widget
        if isinstance(widget, ttk.Button):
            widget.invoke()
        elif not self.streaming and self.can_replace and not self.flagged:
            self._replace()
        return "break"

    def _copy(self) -> None:
        self.commands.copy(self.text)
        self.status.configure(text="Copied to the clipboard.")

    def _replace(self) -> None:
        text = self.text
        self.close()  # first, so the keyboard can go back to the window that had the selection
        self.commands.replace(text)

    def _retry(self) -> None:
        self.close()
        self.commands.retry()
