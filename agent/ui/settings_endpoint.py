"""The Endpoint tab: the local endpoint on or off, where it listens, and its token with Show and Copy.

The token is what another app on this PC sends to use the model (`phitray server token` prints the
same). It is shown hidden until Show, copied by Copy, and never written to the log: the milestones
name only what was done. An install without the endpoint's HTTP stack (uvicorn) says so here, before
the person turns it on. Every method runs on the Tk thread.
"""

from __future__ import annotations

import importlib.util
from tkinter import ttk
from typing import TYPE_CHECKING

from phitray.errors import PhiTrayError
from phitray.logs import milestone
from phitray.serve.token import existing, read_or_create
from phitray.ui.settings_general import check, checked
from phitray.ui.settings_window import PROBLEM_COLOUR, button_group, set_state

if TYPE_CHECKING:
    from phitray.ui.settings_window import SettingsWindow

MEANING = ("Off by default. When on, programs on this PC (not the network) can ask the model through "
           "OpenAI- and Ollama-style routes, sending the token below; the person's own hotkeys always come first.")
NO_UVICORN = ("This install has no uvicorn, the endpoint's web server, so the endpoint cannot start. "
              "Install a newer Phi Tray, or run `pip install uvicorn` in the Python that runs it.")
HIDDEN = "•"


def endpoint_missing() -> str:
    """Why the endpoint cannot start in this install ('' when it can): its server is not installed."""
    return NO_UVICORN if importlib.util.find_spec("uvicorn") is None else ""


class EndpointSection:
    def __init__(self, page: ttk.Frame, window: SettingsWindow) -> None:
        self.window = window
        self.enabled_button = ttk.Checkbutton(page, text="Let programs on this PC use the model (local endpoint)",
                                              command=self._toggle)
        self.enabled_button.grid(row=0, column=0, columnspan=3, sticky="w", pady=2)
        ttk.Label(page, text=MEANING, wraplength=600, foreground="#555").grid(
            row=1, column=0, columnspan=3, sticky="w", padx=(22, 0))
        self.missing = ttk.Label(page, text=endpoint_missing(), wraplength=600, foreground=PROBLEM_COLOUR)
        self.missing.grid(row=2, column=0, columnspan=3, sticky="w", pady=(4, 0))
        self.address = ttk.Label(page, text="")
        self.address.grid(row=3, column=0, columnspan=3, sticky="w", pady=(8, 2))
        ttk.Label(page, text="Token").grid(row=4, column=0, sticky="w")
        self.token = ttk.Entry(page, width=48, show=HIDDEN)
        self.token.grid(row=4, column=1, sticky="we", padx=6)
        buttons = ttk.Frame(page)
        buttons.grid(row=4, column=2, sticky="w")
        self.show_button, self.copy_button = button_group(buttons, ("Show", self._show), ("Copy", self.copy),
                                                          across=True)
        self._secret = ""
        self.refresh()

    def refresh(self) -> None:
        settings = self.window.settings
        check(self.enabled_button, settings.server_enabled)
        port = settings.server_port
        self.address.configure(text=f"OpenAI clients: http://127.0.0.1:{port}/v1    Ollama clients: "
                                    f"http://127.0.0.1:{port}")
        self._load(create=settings.server_enabled)

    def _load(self, create: bool) -> None:
        """The token into its field; made only when the endpoint is on or the person asks to see or copy it,
        so opening the window writes nothing. Tk thread."""
        path = self.window.paths.server_token_file
        try:
            self._secret = (read_or_create(path) if create else existing(path)) or ""
        except PhiTrayError as error:
            self._secret = ""
            self.window.say(str(error), problem=True)
        self.token.configure(state="normal")
        self.token.delete(0, "end")
        self.token.insert(0, self._secret)
        self.token.configure(state="readonly")

    def set_enabled(self, enabled: bool) -> None:
        set_state([self.enabled_button], enabled)

    def _toggle(self) -> None:
        """The check box: [server] enabled in settings.toml, applied by the agent at once. Tk thread."""
        on = checked(self.enabled_button)
        if not self.window.change("server.enabled", on) and on and (missing := endpoint_missing()):
            self.window.say(missing, problem=True)

    def _show(self) -> None:
        """Show or hide the token (hidden at first: a shared screen should not show it). Tk thread."""
        if not self._secret:
            self._load(create=True)
        hidden = bool(self.token.cget("show"))
        self.token.configure(show="" if hidden else HIDDEN)
        self.show_button.configure(text="Hide" if hidden else "Show")

    def copy(self) -> None:
        """The token on the clipboard, for another program's settings. Tk thread."""
        if not self._secret:
            self._load(create=True)
        if not self._secret:
            return
        self.token.clipboard_clear()
        self.token.clipboard_append(self._secret)
        self.window.say("The token is on the clipboard.")
        milestone("endpoint-token-copied")
