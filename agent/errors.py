"""Every exception Phi Tray raises on purpose, in one tree.

    PhiTrayError                  anything the agent reports to a person as one sentence
    ├── Notice                    not a fault: what the person is told instead of a result
    │   ├── NothingSelected       Ctrl+C copied nothing, or not text
    │   ├── OutOfReach            the window cannot be sent keys (elevated, or would not come back to the front)
    │   ├── NothingToDo           the input is empty or only whitespace
    │   ├── NothingToUndo         no replace to take back
    │   ├── Cancelled             the person stopped the job
    │   ├── PullCancelled         the person stopped a model download (nothing half-written is kept)
    │   ├── NotReady              no model is loaded yet (loading, switching)
    │   └── AppOff                the window's app has Phi Tray off (its profile): no key was sent
    ├── ConfigError               a settings or action file is wrong (names the file and field)
    │   ├── ActionFileError       one action file
    │   └── HotkeyError           a combo that cannot be used
    ├── DesktopError              the desktop cannot be reached (no display, no clipboard…)
    │   └── AutostartError        the start-on-login entry cannot be read or written
    ├── ModelError                the model files
    │   ├── ModelNotInstalled     not in the store for this backend (says which command fetches it)
    │   ├── ModelCorrupt          a folder or file is missing or truncated
    │   └── DownloadError         a pull failed
    │       └── OfflineError      the model hub / package index cannot be reached
    ├── BackendError              the inference library
    │   ├── BackendUnavailable    probe said no (library missing, device absent)
    │   ├── BackendLoadError      probe said yes, load failed (compile error, driver fault)
    │   └── ContextOverflow       the prompt does not fit the model's context
    └── HostError                 the resident model host process
        ├── HostCrashed           it died mid-request, or stopped answering and was ended (restarted by its client)
        ├── DeviceLost            its accelerator was lost mid-request: a driver reset, update or resume (restarted)
        ├── HostGone              it was closed (a backend or model switch, quit) mid-request
        ├── ModelBusy             another request has the model (the local endpoint waits its turn)
        │   └── Preempted         the person's own job took the model from an endpoint request
        └── NoBackendLoaded       every backend in the chain was skipped

`str(error)` is always a complete sentence fit for a notification; the CLI
prints it without a traceback. Errors cross the model host's pipe by class
name (`by_name`), so the name must stay unique in this module.
"""

from __future__ import annotations


class PhiTrayError(Exception):
    """Base of every error the agent reports to a person."""


class Notice(PhiTrayError):
    pass


class NothingSelected(Notice):
    pass


class OutOfReach(Notice):
    """The window the selection is in cannot be sent keys: say why instead of "No text is selected"."""


class NothingToDo(Notice):
    pass


class NothingToUndo(Notice):
    pass


class Cancelled(Notice):
    pass


class PullCancelled(Notice):
    pass


class NotReady(Notice):
    pass


class AppOff(Notice):
    """The window belongs to an app whose profile turns Phi Tray off (a password manager): no key was sent."""

    def __init__(self, message: str, profile: str = "") -> None:
        super().__init__(message)
        self.profile = profile  # the profile's name, for the job record


class ConfigError(PhiTrayError):
    pass


class ActionFileError(ConfigError):
    def __init__(self, source: str, field_name: str = "", problem: str = "") -> None:
        super().__init__(f"{source}: {field_name}: {problem}" if field_name else source)
        self.source, self.field_name, self.problem = source, field_name, problem


class HotkeyError(ConfigError):
    pass


class DesktopError(PhiTrayError):
    pass


class AutostartError(DesktopError):
    pass


class ModelError(PhiTrayError):
    pass


class ModelNotInstalled(ModelError):
    pass


class ModelCorrupt(ModelError):
    pass


class DownloadError(ModelError):
    pass


class OfflineError(DownloadError):
    pass


class BackendError(PhiTrayError):
    pass


class BackendUnavailable(BackendError):
    pass


class BackendLoadError(BackendError):
    pass


class ContextOverflow(BackendError):
    pass


class HostError(PhiTrayError):
    pass


class HostCrashed(HostError):
    pass


class DeviceLost(HostError):
    pass


class HostGone(HostError):
    pass


class ModelBusy(HostError):
    pass


class Preempted(ModelBusy):
    pass


class NoBackendLoaded(HostError):
    pass


def by_name(name: str, fallback: type[PhiTrayError] = HostError) -> type[PhiTrayError]:
    """The class of this tree called `name` (an error that crossed the pipe); `fallback` for any other name."""
    found = globals().get(name)
    return found if isinstance(found, type) and issubclass(found, PhiTrayError) else fallback
