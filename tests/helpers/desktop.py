"""A real X11 desktop for end-to-end tests: Xvfb, a session D-Bus, dunst, trayer, a Tk text widget.

Nothing here is faked: Xvfb is started with `-displayfd` (it picks a free
display), the session bus is private to the session, and every program writes
its output to files under the session folder, never to pipes (xclip keeps its
caller's pipes open after it forks).
"""

from __future__ import annotations

import json
import re
import os
import shutil
import signal
import subprocess
import sys
import time
import warnings
from dataclasses import dataclass, field
from pathlib import Path

from PIL import Image

from phitray.ui.icons import STATE_COLOURS

REQUIRED_TOOLS = ("Xvfb", "openbox", "xdotool", "xclip", "trayer", "dbus-daemon", "dbus-monitor", "dunst", "import")
WIDGET_SCRIPT = Path(__file__).with_name("textwidget.py")


def missing_tools() -> list[str]:
    return [tool for tool in REQUIRED_TOOLS if shutil.which(tool) is None]


@dataclass
class DesktopSession:
    folder: Path
    env: dict[str, str]
    processes: list[subprocess.Popen[bytes]] = field(default_factory=list)

    @property
    def display(self) -> str:
        return self.env["DISPLAY"]

    @property
    def x_server_pid(self) -> int:
        return self.processes[0].pid  # Xvfb is the first program a session starts

    def spawn(self, args: list[str], name: str, extra_env: dict[str, str] | None = None) -> subprocess.Popen[bytes]:
        log = open(self.folder / f"{name}.log", "ab")
        process = subprocess.Popen(
            args, env={**self.env, **(extra_env or {})}, stdin=subprocess.DEVNULL, stdout=log, stderr=log,
            start_new_session=True,
        )
        self.processes.append(process)
        return process

    def run(self, *args: str, input_text: str | None = None, check: bool = True, timeout: float = 20) -> str:
        """Run a short X tool; its output goes through a file (see the module docstring)."""
        out_path = self.folder / "tool.out"
        stdin = subprocess.DEVNULL
        if input_text is not None:
            (self.folder / "tool.in").write_bytes(input_text.encode("utf-8", "surrogatepass"))
            stdin = open(self.folder / "tool.in", "rb")  # type: ignore[assignment]
        with open(out_path, "wb") as out, open(self.folder / "tools.log", "ab") as err:
            result = subprocess.run(args, env=self.env, stdin=stdin, stdout=out, stderr=err, timeout=timeout)
        if check and result.returncode != 0:
            raise RuntimeError(f"{' '.join(args)} exited {result.returncode}; see {self.folder / 'tools.log'}")
        return out_path.read_bytes().decode("utf-8", "replace")

    def xdotool(self, *args: str) -> str:
        return self.run("xdotool", *args)

    def press(self, combo: str, hold: float = 0.05) -> None:
        """Press a hotkey and keep it down a moment, as people do."""
        self.xdotool("keydown", combo)
        time.sleep(hold)
        self.xdotool("keyup", combo)

    def clipboard(self, selection: str = "clipboard") -> str:
        """The clipboard's text as a reader sees it; '' when nobody owns it."""
        return self.run("xclip", "-o", "-selection", selection, check=False, timeout=5)

    def set_clipboard(self, text: str, target: str | None = None) -> None:
        """Own the clipboard with xclip; returns once a reader gets the text (xclip forks first)."""
        args = ["xclip", "-i", "-selection", "clipboard"] + (["-t", target] if target else [])
        self.run(*args, input_text=text)
        read = ["xclip", "-o", "-selection", "clipboard"] + (["-t", target] if target else [])
        deadline = time.monotonic() + 5
        while self.run(*read, check=False, timeout=5) != text:
            if time.monotonic() > deadline:
                raise RuntimeError("xclip did not take the clipboard")
            time.sleep(0.02)

    def clipboard_targets(self) -> list[str]:
        return self.run("xclip", "-o", "-selection", "clipboard", "-t", "TARGETS", check=False, timeout=5).split()

    def notifications(self) -> str:
        """Everything sent to the notification service so far (dbus-monitor's record)."""
        return (self.folder / "notifications.log").read_text(encoding="utf-8", errors="replace")

    def wait_notification(self, fragment: str, timeout: float = 10) -> bool:
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if fragment in self.notifications():
                return True
            time.sleep(0.05)
        return False

    def keys_down(self) -> list[int]:
        """Keycodes the X server holds down right now (a stuck modifier shows up here)."""
        from Xlib import display

        connection = display.Display(self.display)
        try:
            keymap = connection.query_keymap()
        finally:
            connection.close()
        return [byte * 8 + bit for byte, bits in enumerate(keymap) for bit in range(8) if bits & (1 << bit)]

    def screenshot(self, path: Path, window: str = "root") -> Path:
        self.run("import", "-window", window, str(path))
        return path

    def stop(self) -> None:
        for process in reversed(self.processes):
            if process.poll() is None:
                try:
                    os.killpg(process.pid, signal.SIGTERM)
                except ProcessLookupError:
                    pass
        for process in reversed(self.processes):
            try:
                process.wait(timeout=5)
            except subprocess.TimeoutExpired:
                os.killpg(process.pid, signal.SIGKILL)


def start_session(folder: Path, tray: bool = True) -> DesktopSession:
    """A new desktop in `folder`; a second attempt if the first does not come up, with a warning why.

    The warning keeps what each program said and what the machine was busy
    with, so a desktop that fails to start explains itself.
    """
    try:
        return _start_session(folder / "attempt-1", tray, patience=20)
    except DesktopNotUp as first:
        warnings.warn(f"the test desktop did not come up, starting it again: {first}", stacklevel=2)
        return _start_session(folder / "attempt-2", tray, patience=60)


class DesktopNotUp(RuntimeError):
    """A desktop program did not start; the message holds its logs and the machine's load."""


def _start_session(folder: Path, tray: bool, patience: float) -> DesktopSession:
    folder.mkdir(parents=True, exist_ok=True)
    env = {k: v for k, v in os.environ.items() if k not in ("DISPLAY", "DBUS_SESSION_BUS_ADDRESS", "WAYLAND_DISPLAY")}
    session = DesktopSession(folder, env)
    try:
        read_end, write_end = os.pipe()
        xvfb_log = open(folder / "xvfb.log", "ab")
        # -noreset: by default the server resets when its last client leaves, and a program connecting
        # during the reset gets "cannot open display" (trayer, about one start in twenty: a short
        # xdotool call had been the only client).
        xvfb = subprocess.Popen(
            ["Xvfb", "-displayfd", str(write_end), "-screen", "0", "1280x800x24", "-nolisten", "tcp", "-noreset"],
            pass_fds=(write_end,), stdin=subprocess.DEVNULL, stdout=xvfb_log, stderr=xvfb_log, start_new_session=True,
        )
        session.processes.append(xvfb)
        os.close(write_end)
        number = _read_line(read_end, timeout=20)
        os.close(read_end)
        env["DISPLAY"] = f":{number}"
        read_end, write_end = os.pipe()
        bus = subprocess.Popen(
            ["dbus-daemon", "--session", "--nofork", "--nopidfile", f"--print-address={write_end}"],
            pass_fds=(write_end,), env=env, stdin=subprocess.DEVNULL,
            stdout=open(folder / "dbus.log", "ab"), stderr=subprocess.STDOUT, start_new_session=True,
        )
        session.processes.append(bus)
        os.close(write_end)
        env["DBUS_SESSION_BUS_ADDRESS"] = _read_line(read_end, timeout=10)
        os.close(read_end)
        # A real window manager, as every person's desktop has: focus and stacking rules differ without one.
        openbox = session.spawn(["openbox", "--sm-disable"], "openbox")
        if not _poll(lambda: openbox.poll() is not None or _has_window_manager(env["DISPLAY"]), patience):
            raise DesktopNotUp(f"openbox did not come up within {patience} s{_why_not(session, xvfb, openbox)}")
        session.spawn(["dunst"], "dunst")
        # Every notification any program sends, as the session bus carries it.
        session.spawn(["dbus-monitor", "--session", "interface='org.freedesktop.Notifications',member='Notify'"],
                      "notifications")
        if tray:
            trayer = session.spawn(
                ["trayer", "--edge", "top", "--align", "right", "--widthtype", "request", "--height", "32",
                 "--transparent", "false", "--tint", "0xffffff", "--SetDockType", "true"],
                "trayer",
            )
            if not _poll(lambda: trayer.poll() is not None or _has_window(session, "trayer"), patience):
                raise DesktopNotUp(f"trayer did not come up within {patience} s{_why_not(session, xvfb, trayer)}")
            if trayer.poll() is not None:
                raise DesktopNotUp(f"trayer exited {trayer.returncode}{_why_not(session, xvfb, trayer)}")
    except BaseException:
        session.stop()
        raise
    return session


def _has_window_manager(display_name: str) -> bool:
    """An EWMH window manager runs: it has set _NET_SUPPORTING_WM_CHECK on the root window."""
    from Xlib import display as xdisplay

    connection = xdisplay.Display(display_name)
    try:
        root = connection.screen().root
        return root.get_full_property(connection.intern_atom("_NET_SUPPORTING_WM_CHECK"), 0) is not None
    finally:
        connection.close()


def _has_window(session: DesktopSession, window_class: str) -> bool:
    return bool(session.run("xdotool", "search", "--class", window_class, check=False).strip())


def _why_not(session: DesktopSession, xvfb: subprocess.Popen[bytes], program: subprocess.Popen[bytes]) -> str:
    """What a desktop program and Xvfb said, and what else the machine was doing."""
    def tail(name: str) -> str:
        path = session.folder / f"{name}.log"
        return path.read_text(errors="replace")[-600:].strip() if path.exists() else ""

    busiest = subprocess.run(["ps", "-eo", "pid,pcpu,rss,etime,args", "--sort=-pcpu"], capture_output=True,
                             text=True, check=False).stdout.splitlines()[:8]
    return (f"; {session.display}, Xvfb {'running' if xvfb.poll() is None else f'exited {xvfb.returncode}'}, "
            f"program {'running' if program.poll() is None else f'exited {program.returncode}'}; "
            f"program log: {tail(Path(str(program.args[0])).name)!r}; xvfb log: {tail('xvfb')!r}; "
            f"load {os.getloadavg()}; busiest: " + " | ".join(line.strip()[:160] for line in busiest))


@dataclass
class TextWidget:
    """The Tk text widget in `textwidget.py`, a separate process a test types into."""

    session: DesktopSession
    process: subprocess.Popen[bytes]
    content_file: Path
    window: str
    sequence: int = 0

    def text(self) -> str:
        # Bytes, not read_text: universal newlines would turn the editor's CR LF into LF.
        return self.content_file.read_bytes().decode("utf-8") if self.content_file.exists() else ""

    def wait_text(self, predicate: object, timeout: float = 20) -> str:
        assert callable(predicate)
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            text = self.text()
            if predicate(text):
                return text
            time.sleep(0.05)
        return self.text()

    def focus(self) -> None:
        self.session.xdotool("windowfocus", "--sync", self.window)

    def fill(self, text: str) -> None:
        """Replace the content as a person would: select all, then type."""
        self.focus()
        self.session.xdotool("key", "--clearmodifiers", "ctrl+a", "Delete")
        self.session.xdotool("type", "--delay", "2", text)
        self.wait_text(lambda current: current == text, 10)

    def select_all(self) -> None:
        self.focus()
        self.session.xdotool("key", "ctrl+a")

    def load(self, selected: str, before: str = "", after: str = "", timeout: float = 10) -> str:
        """Hold before + selected + after with `selected` selected and focused; any Unicode, no typing.

        Returns the content as the editor holds it (what a person would see).
        """
        self.sequence += 1
        command = json.dumps({"seq": self.sequence, "before": before, "selected": selected, "after": after})
        with open(self.content_file.with_suffix(".ctl"), "w", encoding="utf-8") as control:
            control.write(command + "\n")
        acknowledged = self.content_file.with_suffix(".ack")
        deadline = time.monotonic() + timeout
        while not (acknowledged.exists() and acknowledged.read_text() == str(self.sequence)):
            if time.monotonic() > deadline:
                raise RuntimeError("the text widget did not take the new content")
            time.sleep(0.01)
        self.focus()
        return self.text()

    def close(self) -> None:
        if self.process.poll() is None:
            self.process.terminate()
            self.process.wait(timeout=5)


def open_text_widget(session: DesktopSession, name: str = "widget") -> TextWidget:
    content = session.folder / f"{name}.txt"
    for leftover in (content, content.with_suffix(".ctl"), content.with_suffix(".ack")):
        leftover.unlink(missing_ok=True)
    process = session.spawn([sys.executable, str(WIDGET_SCRIPT), str(content), name], name)
    _wait_for(lambda: content.exists(), 15, "the text widget")
    window = session.xdotool("search", "--sync", "--name", f"^{name}$").split()[0]
    return TextWidget(session, process, content, window)


def _read_line(fd: int, timeout: float) -> str:
    deadline = time.monotonic() + timeout
    data = b""
    while b"\n" not in data:
        if time.monotonic() > deadline:
            raise RuntimeError("a desktop program did not report its address in time")
        import select

        ready, _, _ = select.select([fd], [], [], 0.5)
        if ready:
            chunk = os.read(fd, 1024)
            if not chunk:
                break
            data += chunk
    return data.decode().strip()


def _poll(condition: object, timeout: float) -> bool:
    assert callable(condition)
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if condition():
            return True
        time.sleep(0.05)
    return False


def _wait_for(condition: object, timeout: float, what: str) -> None:
    if not _poll(condition, timeout):
        raise RuntimeError(f"{what} did not come up within {timeout} s")


def popup_window(session: DesktopSession, title: str, timeout: float = 15) -> str:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        found = session.run("xdotool", "search", "--onlyvisible", "--name", f"^Phi Tray.*{title}", check=False).split()
        if found:
            return found[-1]
        time.sleep(0.05)
    raise AssertionError(f"no popup titled {title!r}")


def wait_gone(session: DesktopSession, window: str, timeout: float = 5) -> None:
    deadline = time.monotonic() + timeout
    while window in session.run("xdotool", "search", "--onlyvisible", "--name", "^Phi Tray", check=False).split():
        assert time.monotonic() < deadline, "the popup did not close"
        time.sleep(0.05)


def click_button(session: DesktopSession, window: str, index: int) -> None:
    """Click the index-th button of the popup's bottom row (Copy, Replace, Another version, Close) where it
    is: Tk gives each button an X window of its own, and a label's length moves the ones after it."""
    info = dict(line.strip().split(": ", 1) for line in session.run("xwininfo", "-id", window).splitlines()
                if ": " in line and line.startswith("  "))
    row = int(info["Absolute upper-left Y"]) + int(info["Height"]) - 20
    buttons = []
    for line in session.run("xwininfo", "-tree", "-id", window).splitlines():
        found = re.search(r"\)\s+(\d+)x(\d+)[+-]-?\d+[+-]-?\d+\s+\+(-?\d+)\+(-?\d+)", line)
        if found:
            width, height, x, y = map(int, found.groups())
            if width < 300 and height < 50 and y <= row < y + height:
                buttons.append((x, y, width, height))
    assert len(buttons) > index, f"the popup's bottom row has {len(buttons)} buttons"
    x, y, width, height = sorted(buttons)[index]
    session.xdotool("mousemove", str(x + width // 2), str(y + height // 2), "click", "1")


def tray_icon_position(session: DesktopSession, tmp_path: Path, state: str = "ready") -> tuple[int, int]:
    """Centre of the agent's icon in the tray, found by its state colour in a screenshot."""
    colour = STATE_COLOURS[state]
    deadline = time.monotonic() + 10
    while time.monotonic() < deadline:
        with Image.open(session.screenshot(tmp_path / "screen.png")) as image:
            rgb = image.convert("RGB")
            top = rgb.crop((rgb.width - 200, 0, rgb.width, 40))
            hits = [(x, y) for y in range(top.height) for x in range(top.width)
                    if all(abs(a - b) < 12 for a, b in zip(top.getpixel((x, y)), colour))]
        if len(hits) > 20:
            xs, ys = zip(*hits)
            return rgb.width - 200 + sum(xs) // len(xs), sum(ys) // len(ys)
        time.sleep(0.2)
    raise AssertionError(f"no {state} tray icon in {tmp_path / 'screen.png'}")
