"""Every exception Phi Tray raises on purpose, in one tree.

    PhiTrayError                  anything the agent reports to a person as one sentence
    ├── ConfigError               a settings or action file is wrong (names the file and field)
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
        ├── HostCrashed           it died mid-request (restarted by the supervisor)
        └── NoBackendLoaded       every backend in the chain was skipped

`str(error)` is always a complete sentence fit for a notification; the CLI
prints it without a traceback.
"""

from __future__ import annotations


class PhiTrayError(Exception):
    """Base of every error the agent reports to a person."""


class ConfigError(PhiTrayError):
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


class NoBackendLoaded(HostError):
    pass
