"""A tiny protobuf wire-format writer and reader for messages we have no generated code for.

Two outputs need foreign schemas: Prometheus' ``io.prometheus.client.MetricFamily`` (metrics) and
pprof's ``perftools.profiles.Profile`` (pprof). Each needs a handful of fields, so a ~100 line
encoder beats vendoring two .proto files and a second code-generation step. The reader exists for
the CLI and the tests (it yields raw fields; interpretation stays with the caller).
"""

from __future__ import annotations

import struct
from collections.abc import Iterable, Iterator

__all__ = ["Message", "read_fields", "read_varint"]

VARINT = 0
FIXED64 = 1
LENGTH = 2
FIXED32 = 5


def _varint(value: int) -> bytes:
    if value < 0:
        value += 1 << 64  # int64 negatives are ten-byte two's complement varints
    out = bytearray()
    while value > 0x7F:
        out.append((value & 0x7F) | 0x80)
        value >>= 7
    out.append(value)
    return bytes(out)


class Message:
    """Builds one message's bytes field by field (fields at their default may be skipped)."""

    __slots__ = ("_parts",)

    def __init__(self) -> None:
        self._parts: list[bytes] = []

    def varint(self, number: int, value: int) -> Message:
        self._parts.append(_varint(number << 3 | VARINT) + _varint(value))
        return self

    def double(self, number: int, value: float) -> Message:
        self._parts.append(_varint(number << 3 | FIXED64) + struct.pack("<d", value))
        return self

    def blob(self, number: int, value: bytes) -> Message:
        self._parts.append(_varint(number << 3 | LENGTH) + _varint(len(value)) + value)
        return self

    def string(self, number: int, value: str) -> Message:
        return self.blob(number, value.encode("utf-8"))

    def message(self, number: int, value: Message) -> Message:
        return self.blob(number, value.encode())

    def packed(self, number: int, values: Iterable[int]) -> Message:
        """A packed repeated varint field (proto3's default for repeated scalars)."""
        payload = b"".join(_varint(value) for value in values)
        if payload:
            self.blob(number, payload)
        return self

    def encode(self) -> bytes:
        return b"".join(self._parts)


def read_varint(data: bytes, pos: int) -> tuple[int, int]:
    """The varint at ``pos`` and the position after it."""
    result = shift = 0
    while True:
        if pos >= len(data):
            raise ValueError("truncated varint")
        byte = data[pos]
        pos += 1
        result |= (byte & 0x7F) << shift
        if byte < 0x80:
            return result, pos
        shift += 7


def read_fields(data: bytes) -> Iterator[tuple[int, int, int | bytes]]:
    """Yield ``(field number, wire type, value)``; fixed-width values come as raw bytes."""
    pos = 0
    while pos < len(data):
        key, pos = read_varint(data, pos)
        number, wire_type = key >> 3, key & 7
        value: int | bytes
        if wire_type == VARINT:
            value, pos = read_varint(data, pos)
        elif wire_type == FIXED64:
            value, pos = data[pos : pos + 8], pos + 8
        elif wire_type == FIXED32:
            value, pos = data[pos : pos + 4], pos + 4
        elif wire_type == LENGTH:
            size, pos = read_varint(data, pos)
            value, pos = data[pos : pos + size], pos + size
        else:
            raise ValueError(f"unsupported wire type {wire_type}")
        if pos > len(data):
            raise ValueError("truncated field")
        yield number, wire_type, value
