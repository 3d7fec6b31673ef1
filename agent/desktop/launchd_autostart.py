"""Start on login on macOS: a LaunchAgent, loaded by launchd at login."""

from __future__ import annotations

from pathlib import Path

from phitray.desktop.autostart import AutostartStatus, launch_command
from phitray.errors import AutostartError

LAUNCH_AGENT_LABEL = "io.github.phitray.agent"


class LaunchAgent:
    """`~/Library/LaunchAgents/io.github.phitray.agent.plist`, loaded by launchd at login."""

    def __init__(self, command: list[str] | None = None, home: Path | None = None) -> None:
        self.path = (home or Path.home()) / "Library" / "LaunchAgents" / f"{LAUNCH_AGENT_LABEL}.plist"
        self.command = command or launch_command()
        self.expected = " ".join(self.command)

    def status(self) -> AutostartStatus:
        import plistlib  # macOS only; elsewhere the agent never loads an XML parser

        try:
            with self.path.open("rb") as file:
                arguments = plistlib.load(file).get("ProgramArguments", [])
        except FileNotFoundError:
            return AutostartStatus(False, str(self.path), "", self.expected)
        except (OSError, plistlib.InvalidFileException) as error:
            raise AutostartError(f"{self.path} cannot be read: {error}") from error
        return AutostartStatus(True, str(self.path), " ".join(map(str, arguments)), self.expected)

    def enable(self) -> AutostartStatus:
        import plistlib

        plist = {"Label": LAUNCH_AGENT_LABEL, "ProgramArguments": self.command, "RunAtLoad": True, "ProcessType": "Interactive"}
        try:
            self.path.parent.mkdir(parents=True, exist_ok=True)
            with self.path.open("wb") as file:
                plistlib.dump(plist, file)
        except OSError as error:
            raise AutostartError(f"{self.path} cannot be written: {error.strerror}") from error
        return self.status()

    def disable(self) -> AutostartStatus:
        self.path.unlink(missing_ok=True)
        return self.status()
