"""A strict, read-only FlatBuffers reader: every offset is bounds-checked.

Only what TensorFlow Lite models need (tables, scalars, strings, vectors). A malformed buffer
raises FlatBufferError, never IndexError or struct.error, so a bad model is an error message.
"""

from __future__ import annotations

import struct


class FlatBufferError(ValueError):
    pass


_U32 = struct.Struct("<I")
_I32 = struct.Struct("<i")
_U16 = struct.Struct("<H")

# The deepest nesting and the largest vector a sane model can have; guards against loops and
# absurd sizes in corrupted files.
MAX_VECTOR = 1 << 28


class Buffer:
    def __init__(self, data: bytes):
        self.data = memoryview(data).toreadonly()
        self.size = len(data)

    def check(self, offset: int, length: int, what: str) -> None:
        if offset < 0 or length < 0 or offset + length > self.size:
            raise FlatBufferError(f"{what} at byte {offset} (+{length}) lies outside the {self.size}-byte buffer")

    def unpack(self, fmt: struct.Struct, offset: int, what: str):
        self.check(offset, fmt.size, what)
        return fmt.unpack_from(self.data, offset)[0]

    def root(self) -> "Table":
        return Table(self, self.unpack(_U32, 0, "root offset"), "root table")


class Table:
    def __init__(self, buf: Buffer, position: int, what: str):
        self.buf = buf
        self.pos = position
        self.what = what
        vtable = position - buf.unpack(_I32, position, f"{what} vtable offset")
        self.vtable_size = buf.unpack(_U16, vtable, f"{what} vtable")
        if self.vtable_size < 4 or self.vtable_size % 2:
            raise FlatBufferError(f"{what} has a malformed vtable")
        buf.check(vtable, self.vtable_size, f"{what} vtable")
        self.vtable = vtable
        self.table_size = buf.unpack(_U16, vtable + 2, f"{what} vtable")

    def _field(self, slot: int) -> int | None:
        """Absolute position of a field given its vtable slot offset (4, 6, 8, ...), or None if absent."""
        if slot >= self.vtable_size:
            return None
        relative = self.buf.unpack(_U16, self.vtable + slot, f"{self.what} vtable entry")
        if relative == 0:
            return None
        if relative >= max(self.table_size, 4) and self.table_size:
            raise FlatBufferError(f"{self.what} field {slot} lies outside its table")
        return self.pos + relative

    def scalar(self, slot: int, fmt: str, default=0):
        position = self._field(slot)
        if position is None:
            return default
        return self.buf.unpack(struct.Struct("<" + fmt), position, f"{self.what} field {slot}")

    def _indirect(self, slot: int) -> int | None:
        position = self._field(slot)
        if position is None:
            return None
        return position + self.buf.unpack(_U32, position, f"{self.what} offset {slot}")

    def table(self, slot: int, what: str) -> "Table | None":
        position = self._indirect(slot)
        return None if position is None else Table(self.buf, position, what)

    def string(self, slot: int) -> str | None:
        position = self._indirect(slot)
        if position is None:
            return None
        length = self.buf.unpack(_U32, position, f"{self.what} string length")
        self.buf.check(position + 4, length, f"{self.what} string")
        return bytes(self.buf.data[position + 4:position + 4 + length]).decode("utf-8", errors="replace")

    def vector(self, slot: int, element_size: int) -> tuple[int, int] | None:
        """(start, count) of a vector field, bounds-checked."""
        position = self._indirect(slot)
        if position is None:
            return None
        count = self.buf.unpack(_U32, position, f"{self.what} vector length")
        if count > MAX_VECTOR:
            raise FlatBufferError(f"{self.what} has an implausible vector of {count} elements")
        self.buf.check(position + 4, count * element_size, f"{self.what} vector")
        return position + 4, count

    def scalars(self, slot: int, fmt: str) -> tuple:
        element = struct.Struct("<" + fmt)
        found = self.vector(slot, element.size)
        if found is None:
            return ()
        start, count = found
        return struct.unpack_from(f"<{count}{fmt}", self.buf.data, start)

    def bytes_view(self, slot: int) -> memoryview | None:
        found = self.vector(slot, 1)
        if found is None:
            return None
        start, count = found
        return self.buf.data[start:start + count]

    def tables(self, slot: int, what: str) -> list["Table"]:
        found = self.vector(slot, 4)
        if found is None:
            return []
        start, count = found
        return [Table(self.buf, start + 4 * i + self.buf.unpack(_U32, start + 4 * i, what), f"{what} {i}")
                for i in range(count)]

    def union(self, type_slot: int, value_slot: int, what: str) -> "tuple[int, Table | None]":
        kind = self.scalar(type_slot, "B")
        return kind, (self.table(value_slot, what) if kind else None)
