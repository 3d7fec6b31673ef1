"""A GGUF file's own list of control tokens, read from its header (tokenizer.ggml.tokens and token_type),
so tests can count control-token ids without asking the tokenizer under test."""

from __future__ import annotations

import struct
from pathlib import Path
from typing import BinaryIO

CONTROL = 3  # llama.cpp's token type for control tokens
_SCALARS = {0: "<B", 1: "<b", 2: "<H", 3: "<h", 4: "<I", 5: "<i", 6: "<f", 7: "<?", 10: "<Q", 11: "<q", 12: "<d"}
_STRING, _ARRAY = 8, 9


def control_tokens(file: Path) -> dict[int, str]:
    """{id: string} of the tokens the file marks as control tokens."""
    with file.open("rb") as stream:
        assert stream.read(4) == b"GGUF"
        _version, _tensors, count = struct.unpack("<IQQ", stream.read(20))
        fields: dict[str, object] = {}
        for _ in range(count):
            key = _string(stream)
            fields[key] = _value(stream, struct.unpack("<I", stream.read(4))[0])
    tokens, types = fields["tokenizer.ggml.tokens"], fields["tokenizer.ggml.token_type"]
    assert isinstance(tokens, list) and isinstance(types, list)
    return {index: tokens[index] for index, kind in enumerate(types) if kind == CONTROL}


def _string(stream: BinaryIO) -> str:
    (length,) = struct.unpack("<Q", stream.read(8))
    return stream.read(length).decode("utf-8", errors="replace")


def _value(stream: BinaryIO, kind: int) -> object:
    if kind in _SCALARS:
        fmt = _SCALARS[kind]
        return struct.unpack(fmt, stream.read(struct.calcsize(fmt)))[0]
    if kind == _STRING:
        return _string(stream)
    if kind == _ARRAY:
        item_kind, length = struct.unpack("<IQ", stream.read(12))
        return [_value(stream, item_kind) for _ in range(length)]
    raise ValueError(f"unknown GGUF value type {kind}")
