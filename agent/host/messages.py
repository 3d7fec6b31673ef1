"""The messages between the daemon and the model host process.

Only these frozen dataclasses cross the pipe. Daemon → host: Generate, Cancel,
CountTokens, Shutdown. Host → daemon: Status and Trying while loading (Trying
names the backend before its probe and load, so a crash there is blamed on
it), then Ready (or LoadFailed), then for each request Chunk… and one
Finished or Failed.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING

from phitray import errors
from phitray.backends.base import BackendInfo, GenerationStats, Request

if TYPE_CHECKING:  # pickle finds the class by its module when a message arrives
    from phitray.backends.chain import Decision


@dataclass(frozen=True)
class Generate:
    request_id: int
    request: Request


@dataclass(frozen=True)
class Cancel:
    request_id: int


@dataclass(frozen=True)
class CountTokens:
    request_id: int
    text: str


@dataclass(frozen=True)
class Shutdown:
    pass


@dataclass(frozen=True)
class Status:
    text: str


@dataclass(frozen=True)
class Trying:
    backend_id: str
    model_id: str
    seconds: float | None = None  # how long its probe and load may take from now; None while a download runs


@dataclass(frozen=True)
class Ready:
    info: BackendInfo
    decisions: tuple[Decision, ...]


@dataclass(frozen=True)
class LoadFailed:
    reason: str
    decisions: tuple[Decision, ...]


@dataclass(frozen=True)
class Chunk:
    request_id: int
    text: str


@dataclass(frozen=True)
class Finished:
    request_id: int
    stats: GenerationStats


@dataclass(frozen=True)
class TokenCount:
    request_id: int
    tokens: int


@dataclass(frozen=True)
class Failed:
    request_id: int
    error_type: str  # the name of a class in phitray.errors
    message: str

    def error(self) -> errors.PhiTrayError:
        """The exception the host raised, rebuilt on this side of the pipe."""
        return errors.by_name(self.error_type)(self.message)
