"""The tray menu's notes (the model in use, a backend passed over and why) wrap onto lines of their own, so
the menu stays narrow: the starter's note alone made it 960 pixels wide. The wrapping is the pure view's
(app/view.py); the menu is Tk's on a real X server, in a spawned child (helpers/tray_notes.py)."""

from __future__ import annotations

from collections.abc import Iterator

import pytest

from phitray.app.view import NOTE_COLUMNS, AgentState, tray_view
from phitray.backends.catalog import model_note

from helpers.desktop import DesktopSession, missing_tools, start_session
from helpers.settings_tabs import in_child
from helpers.tray_notes import menu_widths

SKIPPED = ("openvino-npu: skipped, the NPU driver 32.0.100.3104 is older than the 32.0.100.3717 this OpenVINO "
           "needs; update it from Intel's site")
NARROW_PIXELS = 480  # well under the 960 the starter's note took on one line


def test_a_long_note_becomes_short_lines_that_say_all_of_it() -> None:
    note = model_note("starter")
    assert len(note) > NOTE_COLUMNS
    lines = tray_view(AgentState(notes=(note, "short"))).notes
    assert len(lines) > 2 and lines[-1] == "short"
    assert all(len(line) <= NOTE_COLUMNS for line in lines)
    assert " ".join(line.strip() for line in lines[:-1]) == note  # every word, in order
    assert all(line.startswith("    ") for line in lines[1:-1])  # a note's later lines set in under its first


def test_a_word_longer_than_a_line_is_never_split() -> None:
    path = "C:\\Users\\Håkan\\AppData\\Local\\PhiTray\\models\\" + "x" * 80
    lines = tray_view(AgentState(notes=(f"missing: {path}",))).notes
    assert path in [line.strip() for line in lines]


@pytest.fixture(scope="module")
def display(tmp_path_factory: pytest.TempPathFactory) -> Iterator[DesktopSession]:
    if missing_tools():
        pytest.skip(f"missing {missing_tools()}")
    session = start_session(tmp_path_factory.mktemp("display"), tray=False)
    yield session
    session.stop()


def test_the_tray_menu_stays_narrow_with_the_model_note(display: DesktopSession) -> None:
    note = model_note("starter")
    shown = in_child(menu_widths, display.display, (SKIPPED, note))
    labels = [label for label, _ in shown]
    assert labels[1].startswith("openvino-npu: skipped") and any(label.startswith("starter:") for label in labels)
    widest = max(width for _, width in shown)
    assert widest <= NARROW_PIXELS, shown
