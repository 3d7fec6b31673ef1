"""The messages between the daemon and the model host process.

Only these frozen dataclasses cross the pipe. Daemon → host: Generate, Cancel,
CountTokens, Shutdown. Host → daemon: Status while loading, then Ready (or
LoadFailed), then for each request Chunk… and one Finished or Failed.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING

from phitray import errors
from phitray.backends.base import BackendInfo, Request

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
class GenerationStats:
    ttft_seconds: float  # request received by the host → first chunk
    seconds: float  # request received → last chunk
    tokens: int  # of the answer, by the model's tokenizer
    cancelled: bool

    @property
    def tokens_per_second(self) -> float:
        decode = self.seconds - self.ttft_seconds
        return (self.tokens - 1) / decode if self.tokens > 1 and decode > 0 else 0.0


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
        error_class = getattr(errors, self.error_type, errors.HostError)
        return error_class(self.message)
