"""Stacks and values → gzip'd pprof ``profile.proto`` bytes (``go tool pprof``, speedscope).

:class:`ProfileBuilder` interns strings, functions and locations and writes
``perftools.profiles.Profile`` by hand (field numbers from google/pprof's profile.proto):
Profile{sample_type 1, sample 2, location 4, function 5, string_table 6, time_nanos 9,
duration_nanos 10, period_type 11, period 12}, ValueType{type 1, unit 2},
Sample{location_id 1, value 2}, Location{id 1, line 4}, Line{function_id 1, line 2},
Function{id 1, name 2, system_name 3, filename 4, start_line 5}.
"""

from __future__ import annotations

import gzip
from collections.abc import Sequence
from dataclasses import dataclass

from goval.services.protowire import Message

__all__ = ["Frame", "ProfileBuilder"]


@dataclass(frozen=True, slots=True)
class Frame:
    """One stack frame: function name, file, the function's first line, the current line."""

    function: str
    filename: str
    start_line: int
    line: int


class ProfileBuilder:
    """Accumulates samples (a leaf-first stack and one value per sample type)."""

    def __init__(
        self,
        sample_types: Sequence[tuple[str, str]],
        period_type: tuple[str, str] | None = None,
        period: int = 0,
    ) -> None:
        self._strings: dict[str, int] = {"": 0}
        self._functions: dict[tuple[str, str, int], int] = {}
        self._locations: dict[tuple[int, int], int] = {}
        self._samples: dict[tuple[int, ...], list[int]] = {}
        self._sample_types = [(self._string(t), self._string(u)) for t, u in sample_types]
        self._period_type = (
            None
            if period_type is None
            else (self._string(period_type[0]), self._string(period_type[1]))
        )
        self._period = period
        self.time_nanos = 0
        self.duration_nanos = 0

    def _string(self, text: str) -> int:
        index = self._strings.get(text)
        if index is None:
            index = self._strings[text] = len(self._strings)
        return index

    def _location(self, frame: Frame) -> int:
        function_key = (frame.function, frame.filename, frame.start_line)
        function_id = self._functions.get(function_key)
        if function_id is None:
            function_id = self._functions[function_key] = len(self._functions) + 1
        location_key = (function_id, frame.line)
        location_id = self._locations.get(location_key)
        if location_id is None:
            location_id = self._locations[location_key] = len(self._locations) + 1
        return location_id

    def add(self, stack: Sequence[Frame], values: Sequence[int]) -> None:
        """Add a sample; identical stacks are merged by summing their values."""
        key = tuple(self._location(frame) for frame in stack)
        merged = self._samples.get(key)
        if merged is None:
            self._samples[key] = list(values)
        else:
            for index, value in enumerate(values):
                merged[index] += value

    @property
    def sample_count(self) -> int:
        return len(self._samples)

    def encode(self) -> bytes:
        """The uncompressed Profile message."""
        profile = Message()
        for type_index, unit_index in self._sample_types:
            profile.message(1, Message().varint(1, type_index).varint(2, unit_index))
        for location_ids, values in self._samples.items():
            profile.message(2, Message().packed(1, location_ids).packed(2, values))
        # Interning strings must finish before the string table is written.
        functions = [
            (fid, self._string(name), self._string(filename), start)
            for (name, filename, start), fid in self._functions.items()
        ]
        for (function_id, line), location_id in self._locations.items():
            line_message = Message().varint(1, function_id).varint(2, line)
            profile.message(4, Message().varint(1, location_id).message(4, line_message))
        for fid, name, filename, start in functions:
            function = Message().varint(1, fid).varint(2, name).varint(3, name)
            profile.message(5, function.varint(4, filename).varint(5, start))
        for text in self._strings:
            profile.string(6, text)
        if self.time_nanos:
            profile.varint(9, self.time_nanos)
        if self.duration_nanos:
            profile.varint(10, self.duration_nanos)
        if self._period_type is not None:
            kind, unit = self._period_type
            profile.message(11, Message().varint(1, kind).varint(2, unit))
            profile.varint(12, self._period)
        return profile.encode()

    def gzipped(self) -> bytes:
        """The Profile gzip'd, as pprof files are."""
        return gzip.compress(self.encode(), compresslevel=6)
