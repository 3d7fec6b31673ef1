"""Per-app profiles (agent/app_profiles.py, jobs/apps.py): the [[apps]] entries as settings.toml gives them, the
built-in ones, and the jobs thread against the scripted desktop and model host: an app with Phi Tray off is
sent no key at all, and the same job runs differently in two apps. The same on Xvfb with two real windows is
test_app_profiles_x11.py."""

from __future__ import annotations

import dataclasses
import tomllib
from pathlib import Path

import pytest

from phitray.actions.checks import Checks
from phitray.actions.library import ActionSet, load_actions
from phitray.app_profiles import BUILT_IN, profile_for
from phitray.backends.base import Request
from phitray.desktop import WindowTraits
from phitray.host.scripted import Answer, ScriptedHost
from phitray.jobs.apps import App, RecentApps
from phitray.jobs.capture import CaptureOptions
from phitray.jobs.steps import for_app
from phitray.jobs.thread import JobThread
from phitray.jobs.types import ActionJob, CaptureJob, CaptureTaken, JobEvent, JobSettings, PickedJob
from phitray.errors import ConfigError
from phitray.settings import parse_settings
from phitray.settings_file import SettingsFileError, change_app

from helpers.scripted import ScriptedDesktop

SETTINGS = """\
[[apps]]
name = "Chat"
class = "slack"
picker_default = "friendly"
[apps.actions.proofread]
output = "popup"
tone = "casual"
[apps.actions.translate]
language = "German"

[[apps]]
program = "thunderbird"
[apps.actions.proofread]
tone = "formal"

[[apps]]                       # the person's own KeePassXC entry: it wins over the built-in one
program = "keepassxc"
title = "*notes*"
"""
KEEPASSXC = WindowTraits(program="keepassxc", classes=("keepassxc", "keepassxc"), title="Passwords - KeePassXC")
SLACK = WindowTraits(program="slack", classes=("slack", "slack"), title="general - Slack")
TEXT = "i has went to the store yesterday."


def profiles(text: str = SETTINGS) -> JobSettings:
    loaded = parse_settings(tomllib.loads(text), "settings.toml")
    assert not loaded.problems, loaded.problems
    builtin = load_actions(None)
    lenient = dataclasses.replace(builtin.get("proofread"), checks=Checks(close_to_input=0.01, same_language=False))
    return JobSettings(actions=ActionSet({**builtin.actions, "proofread": lenient}, ()), capture=CaptureOptions(
        paste_timeout=0.3), profiles=loaded.settings.apps, placeholder_defaults={"translate": {"language": "English"}})


def echo(request: Request) -> Answer:
    """The scripted model's answer: the text between the tags, as it came."""
    return Answer.words(request.prompt.split("<text>")[-1].split("</text>")[0].strip())


def run(traits: WindowTraits, job: ActionJob | CaptureJob, config: JobSettings | None = None
        ) -> tuple[ScriptedDesktop, ScriptedHost, JobThread, list[JobEvent]]:
    desktop = ScriptedDesktop(text=TEXT, selection=(0, len(TEXT)), traits_of_editor=traits)
    host, events = ScriptedHost(echo), list[JobEvent]()
    engine = JobThread(desktop.desktop(), lambda: host, config or profiles(), events.append)
    engine.run_job(job)
    return desktop, host, engine, events


def test_the_entries_are_read_and_a_bad_one_is_named_and_skipped_while_the_rest_are_kept() -> None:
    text = SETTINGS + '\n[[apps]]\nname = "Broken"\nclass = "x"\n[apps.actions.proofread]\noutput = "printer"\n' \
        '\n[[apps]]\nenabled = false\n\n[[apps]]\nclass = "last"\n'
    loaded = parse_settings(tomllib.loads(text), "settings.toml")
    assert [profile.name for profile in loaded.settings.apps] == ["Chat", "thunderbird", "keepassxc", "last"]
    assert [str(problem) for problem in loaded.problems] == [
        "settings.toml: [[apps]] number 4 ('Broken'): actions.proofread.output 'printer' is not one of replace, "
        "popup, clipboard; this entry is skipped",
        "settings.toml: [[apps]] number 5: needs a program, class or title to match; this entry is skipped"]
    chat = loaded.settings.apps[0]
    assert (chat.picker_default, chat.override("proofread").tone, chat.override("translate").values) == \
        ("friendly", "casual", (("language", "German"),))
    assert parse_settings({"apps": {"program": "x"}}, "s.toml").problems[0].args[0] == \
        "s.toml: apps: must be [[apps]] tables; ignored"


def test_password_managers_and_the_agents_own_windows_are_off_unless_the_person_says_otherwise() -> None:
    for program, classes in (("keepassxc", ("keepassxc",)), ("KeePass.exe", ("WindowsForms10.Window.8.app.0",)),
                             ("1Password.exe", ()), ("Bitwarden.exe", ("Chrome_WidgetWin_1",)), ("", ("enpass",)),
                             ("python3.11", ("phitray", "Phitray"))):
        found = profile_for((), program, classes, "")
        assert found is not None and found.built_in and not found.enabled, (program, classes)
    assert profile_for((), "gedit", ("gedit", "Gedit"), "notes.txt") is None
    person = parse_settings(tomllib.loads(SETTINGS), "s").settings.apps
    assert profile_for(person, "keepassxc", (), "My notes - KeePassXC") is person[2]  # theirs wins: on
    assert profile_for(person, "keepassxc", (), "Passwords - KeePassXC") is BUILT_IN[0]  # their title only
    assert profile_for(person, "Thunderbird.EXE", ("MozillaWindowClass",), "Inbox") is person[1]


def test_an_app_with_phi_tray_off_gets_a_notice_and_not_one_key(monkeypatch: pytest.MonkeyPatch) -> None:
    desktop, host, engine, events = run(KEEPASSXC, ActionJob("hotkey", "proofread"))
    assert [event.kind for event in events] == ["notice"]
    assert events[0].message.startswith("Phi Tray is off in KeePassXC")  # type: ignore[union-attr]
    assert desktop.steps == [] and desktop.text == TEXT and desktop.clipboard == ("the person's clipboard",)
    assert host.requests == []
    record = engine.last_record
    assert record is not None and (record.outcome, record.profile) == ("AppOff", "KeePassXC")
    assert "Passwords" not in record.to_json()  # the profile's name, never the window's title
    picker, _, engine, events = run(KEEPASSXC, CaptureJob("hotkey"))  # the picker holds no keyboard there either
    assert picker.steps == [] and [event.kind for event in events] == ["notice"]
    assert engine.apps.recent() == (engine.apps.recent()[0],) and engine.apps.recent()[0].enabled is False


def test_the_same_job_runs_by_each_apps_profile() -> None:
    desktop, host, engine, events = run(SLACK, ActionJob("hotkey", "proofread"))  # popup and casual in chat
    assert engine.last_record is not None and (engine.last_record.output, engine.last_record.profile) == \
        ("popup", "Chat")
    assert desktop.text == TEXT and host.requests[0].system is not None and \
        host.requests[0].system.endswith("Write in a casual tone.")
    mail = WindowTraits(program="thunderbird", classes=("Mail", "thunderbird"))
    desktop, host, engine, events = run(mail, ActionJob("hotkey", "proofread"))  # replaced, formal in mail
    assert engine.last_record is not None and (engine.last_record.output, engine.last_record.profile) == \
        ("replace", "thunderbird")
    assert host.requests[0].system is not None and host.requests[0].system.endswith("Write in a formal tone.")
    desktop, host, engine, events = run(WindowTraits(program="gedit"), ActionJob("hotkey", "proofread"))
    assert engine.last_record is not None and (engine.last_record.output, engine.last_record.profile) == \
        ("replace", "")
    assert host.requests[0].system is not None and "tone." not in host.requests[0].system


def test_a_placeholder_takes_the_apps_value_over_the_settings_and_a_job_of_its_own_over_both() -> None:
    _, host, _, _ = run(SLACK, ActionJob("hotkey", "translate", output="popup"))
    assert "into German" in host.requests[0].prompt
    _, host, _, _ = run(WindowTraits(program="gedit"), ActionJob("hotkey", "translate", output="popup"))
    assert "into English" in host.requests[0].prompt
    _, host, _, _ = run(SLACK, ActionJob("hotkey", "translate", output="popup", values=(("language", "French"),)))
    assert "into French" in host.requests[0].prompt


def test_the_pickers_capture_carries_the_profile_to_the_picked_job() -> None:
    desktop, host, engine, events = run(SLACK, CaptureJob("hotkey"))
    taken = events[-1]
    assert isinstance(taken, CaptureTaken) and taken.capture.profile is not None
    assert (taken.capture.profile.picker_default, taken.capture.app) == ("friendly", App("slack", "slack"))
    assert engine.last_record is not None and engine.last_record.profile == "Chat"
    engine.run_job(PickedJob("proofread", taken.capture))
    assert engine.last_record is not None and (engine.last_record.output, engine.last_record.profile) == \
        ("popup", "Chat")
    assert desktop.steps.count("copy") == 1  # resolved once, at the capture: the picked job sends nothing more


def test_the_recent_apps_are_newest_first_once_each_and_never_hold_a_title() -> None:
    recent = RecentApps(size=3)
    config = profiles().profiles
    for traits in (SLACK, WindowTraits(program="gedit", title="secret plans.txt"), SLACK,
                   WindowTraits(classes=("xterm", "XTerm")), WindowTraits(program="mousepad"), WindowTraits()):
        recent.resolve(traits, config)
    seen = recent.recent()
    assert [entry.app.label for entry in seen] == ["mousepad", "XTerm", "slack"]
    assert [entry.profile for entry in seen] == ["", "", "Chat"]
    assert "secret" not in repr(RecentApps().recent()) + repr(seen)


def test_the_readmes_example_is_read_without_a_problem() -> None:
    readme = (Path(__file__).resolve().parent.parent / "README.md").read_text(encoding="utf-8")
    section = readme.split("## Per-app profiles", 1)[1]
    example = section.split("```toml\n", 1)[1].split("```", 1)[0]
    loaded = parse_settings(tomllib.loads(example), "README.md")
    assert not loaded.problems and [profile.name for profile in loaded.settings.apps] == ["Slack", "Mail", "Work notes"]
    slack, mail, notes = loaded.settings.apps
    assert profile_for(loaded.settings.apps, "Slack.exe", ("Chrome_WidgetWin_1",), "general") is slack
    assert profile_for(loaded.settings.apps, "thunderbird", ("Mail", "thunderbird"), "Inbox") is mail
    assert profile_for(loaded.settings.apps, "gedit", (), "Monday - Notes") is notes and not notes.enabled


def test_the_settings_window_changes_an_entry_in_place_and_never_writes_one_settings_py_would_refuse(
        tmp_path: Path) -> None:
    path = tmp_path / "settings.toml"
    path.write_text(SETTINGS, encoding="utf-8")
    loaded = change_app(path, {"class": "slack"}, {"name": "slack", "enabled": False})
    assert [(profile.name, profile.enabled) for profile in loaded.settings.apps][0] == ("Chat", False)
    text = path.read_text(encoding="utf-8")
    assert "# the person's own KeePassXC entry" in text and text.count("[[apps]]") == 3  # changed, not added
    with pytest.raises(ConfigError, match="picker_default 'Not an id' is not an action id"):
        change_app(path, {"program": "gedit"}, {"name": "gedit", "picker_default": "Not an id"})
    assert path.read_text(encoding="utf-8") == text
    path.write_text('apps = "slack"  # not [[apps]]\n', encoding="utf-8")
    with pytest.raises(SettingsFileError, match="not a list of"):
        change_app(path, {"program": "gedit"}, {"name": "gedit", "enabled": False})
    assert path.read_text(encoding="utf-8") == 'apps = "slack"  # not [[apps]]\n'


def test_an_apps_action_keeps_its_own_instruction_with_the_tone_and_format_the_app_asks_for() -> None:
    proofread = load_actions(None).get("proofread")
    profile = parse_settings(tomllib.loads('[[apps]]\nclass = "x"\n[apps.actions.proofread]\ntone = "dry $5 wit"\n'
                                           'format = "plain"\n'), "s").settings.apps[0]
    changed = for_app(proofread, profile)
    assert changed.format == "plain" and proofread.format == "keep"
    system, _ = changed.render("text")  # a $ in the tone is a dollar sign, not a placeholder
    assert system.startswith(proofread.system) and system.endswith("Write in a dry $5 wit tone.")
    assert for_app(proofread, None) is proofread and for_app(load_actions(None).get("translate"), profile).system \
        == load_actions(None).get("translate").system
