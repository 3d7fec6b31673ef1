"""Start on login on Linux and the other Unix desktops: an XDG autostart entry."""

from __future__ import annotations

import os
from pathlib import Path

from phitray.desktop.autostart import ENTRY_NAME, AutostartStatus, launch_command
from phitray.errors import AutostartError


class XdgAutostart:
    """`$XDG_CONFIG_HOME/autostart/phitray.desktop` (freedesktop Desktop Application Autostart)."""

    def __init__(self, command: list[str] | None = None, config_home: Path | None = None) -> None:
        home = config_home or Path(os.environ.get("XDG_CONFIG_HOME") or Path.home() / ".config")
        self.path = home / "autostart" / "phitray.desktop"
        self.expected = desktop_exec(command or launch_command())

    def status(self) -> AutostartStatus:
        command = ""
        try:
            for line in self.path.read_text(encoding="utf-8").splitlines():
                if line.startswith("Exec="):
                    command = line[len("Exec="):]
        except FileNotFoundError:
            return AutostartStatus(False, str(self.path), "", self.expected)
        except (OSError, UnicodeDecodeError) as error:
            raise AutostartError(f"{self.path} cannot be read: {error}") from error
        return AutostartStatus(True, str(self.path), command, self.expected)

    def enable(self) -> AutostartStatus:
        entry = "\n".join([
            "[Desktop Entry]",
            "Type=Application",
            f"Name={ENTRY_NAME}",
            "Comment=Private writing help from a local model",
            f"Exec={self.expected}",
            "Terminal=false",
            "X-GNOME-Autostart-enabled=true",
            "",
        ])
        try:
            self.path.parent.mkdir(parents=True, exist_ok=True)
            temporary = self.path.with_suffix(".tmp")
            temporary.write_text(entry, encoding="utf-8")
            temporary.replace(self.path)
        except OSError as error:
            raise AutostartError(f"{self.path} cannot be written: {error.strerror}") from error
        return self.status()

    def disable(self) -> AutostartStatus:
        try:
            self.path.unlink(missing_ok=True)
        except OSError as error:
            raise AutostartError(f"{self.path} cannot be removed: {error.strerror}") from error
        return self.status()


def desktop_exec(command: list[str]) -> str:
    """An Exec= value: arguments quoted as the Desktop Entry spec asks (and % doubled)."""
    def quote(argument: str) -> str:
        argument = argument.replace("%", "%%")
        if not any(c in argument for c in ' \t\n"\'\\><~|&;$*?#()`'):
            return argument
        escaped = "".join("\\" + c if c in '"`$\\' else c for c in argument)
        return f'"{escaped}"'
    return " ".join(quote(argument) for argument in command)
