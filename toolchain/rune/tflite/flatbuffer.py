"""A strict, read-only FlatBuffers reader: every offset, vtable, vector and alignment is checked.

Only what TensorFlow Lite models need (tables, scalars, strings, vectors), addressed by field
index as in the schema. A malformed buffer raises FlatBufferError, never IndexError or
struct.error (or an endless loop), so a bad model becomes an error message.
"""

from __future__ import annotations

import struct


class FlatBufferError(ValueError):
    pass


class Buffer:
    def __init__(self, data: bytes):
        self.data = bytes(data)
        self.size = len(self.data)

    def need(self, position: int, length: int, what: str) -> None:
        if position < 0 or length < 0 or position + length > self.size:
            raise FlatBufferError(f"{what} at byte {position} (+{length}) lies outside the {self.size}-byte buffer")

    def unpack(self, fmt: str, position: int, what: str):
        size = struct.calcsize("<" + fmt)
        self.need(position, size, what)
        return struct.unpack_from("<" + fmt, self.data, position)[0]

    def root(self, what: str) -> "Table":
        return Table(self, self.unpack("I", 0, f"{what} root offset"), what)


class Table:
    """A table at `position`; its fields are found through its vtable."""

    def __init__(self, buf: Buffer, position: int, what: str):
        self.buf = buf
        self.pos = position
        self.what = what
        if position % 4:
            raise FlatBufferError(f"{what}: table at unaligned offset {position}")
        vtable = position - buf.unpack("i", position, f"{what} vtable offset")
        if vtable % 2:
            raise FlatBufferError(f"{what}: vtable at odd offset {vtable}")
        vtable_size = buf.unpack("H", vtable, f"{what} vtable size")
        if vtable_size < 4 or vtable_size % 2:
            raise FlatBufferError(f"{what}: malformed vtable (size {vtable_size})")
        buf.need(vtable, vtable_size, f"{what} vtable")
        self.table_size = buf.unpack("H", vtable + 2, f"{what} table size")
        buf.need(position, max(self.table_size, 4), f"{what} table")
        self.vtable = vtable
        self.fields = (vtable_size - 4) // 2

    def _offset(self, index: int, size: int) -> int:
        """Offset of field `index` inside the table (0 if absent), checked to fit `size` bytes."""
        if index >= self.fields:
            return 0
        offset = self.buf.unpack("H", self.vtable + 4 + 2 * index, f"{self.what} vtable entry")
        if offset and offset + size > self.table_size:
            raise FlatBufferError(f"{self.what}: field {index} lies outside its table")
        return offset

    def has(self, index: int) -> bool:
        return self._offset(index, 1) != 0

    def scalar(self, index: int, fmt: str, default=0):
        offset = self._offset(index, struct.calcsize("<" + fmt))
        if not offset:
            return default
        return self.buf.unpack(fmt, self.pos + offset, f"{self.what} field {index}")

    def u8(self, index: int, default: int = 0) -> int:
        return self.scalar(index, "B", default)

    def i8(self, index: int, default: int = 0) -> int:
        return self.scalar(index, "b", default)

    def bool(self, index: int, default: bool = False) -> bool:
        return bool(self.scalar(index, "B", int(default)))

    def u32(self, index: int, default: int = 0) -> int:
        return self.scalar(index, "I", default)

    def i32(self, index: int, default: int = 0) -> int:
        return self.scalar(index, "i", default)

    def u64(self, index: int, default: int = 0) -> int:
        return self.scalar(index, "Q", default)

    def f32(self, index: int, default: float = 0.0) -> float:
        return self.scalar(index, "f", default)

    def _target(self, index: int, what: str) -> int | None:
        offset = self._offset(index, 4)
        if not offset:
            return None
        at = self.pos + offset
        return at + self.buf.unpack("I", at, what)

    def table(self, index: int, what: str) -> "Table | None":
        position = self._target(index, what)
        return None if position is None else Table(self.buf, position, what)

    def vector(self, index: int, what: str) -> "Vector | None":
        position = self._target(index, what)
        return None if position is None else Vector(self.buf, position, what)

    def string(self, index: int, what: str) -> str | None:
        vector = self.vector(index, what)
        return None if vector is None else vector.raw(1).decode("utf-8", "replace")


class Vector:
    def __init__(self, buf: Buffer, position: int, what: str):
        if position % 4:
            raise FlatBufferError(f"{what}: vector at unaligned offset {position}")
        self.buf = buf
        self.length = buf.unpack("I", position, f"{what} length")
        self.start = position + 4
        self.what = what

    def __len__(self) -> int:
        return self.length

    def raw(self, element_size: int) -> bytes:
        self.buf.need(self.start, self.length * element_size, self.what)
        return self.buf.data[self.start:self.start + self.length * element_size]

    def scalars(self, fmt: str) -> tuple:
        data = self.raw(struct.calcsize("<" + fmt))
        return struct.unpack(f"<{self.length}{fmt}", data)

    def tables(self, what: str) -> list[Table]:
        self.buf.need(self.start, 4 * self.length, self.what)
        return [Table(self.buf, self.start + 4 * i + self.buf.unpack("I", self.start + 4 * i, what), f"{what} {i}")
                for i in range(self.length)]
