"""The clipboard snapshot both platform modules take (`desktop.Snapshot`): one frozen record, each platform
keeping its own kind of item (X11 targets, Windows formats)."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Generic, Protocol, TypeVar


class SizedItem(Protocol):
    @property
    def size(self) -> int: ...  # bytes


ItemT = TypeVar("ItemT", bound=SizedItem)


@dataclass(frozen=True)
class ClipboardSnapshot(Generic[ItemT]):
    """The formats kept, and those left out (too large, too slow), named for the log and the notice."""

    items: tuple[ItemT, ...]
    left_out: tuple[str, ...] = ()  # "image/png (80.0 MB+)": formats the owner offered that were not kept

    @property
    def is_empty(self) -> bool:
        return not self.items

    def describe(self) -> str:
        if not self.items:
            return "empty"
        left = f", left out: {', '.join(self.left_out)}" if self.left_out else ""
        return f"{len(self.items)} formats, {sum(item.size for item in self.items):,} bytes{left}"
