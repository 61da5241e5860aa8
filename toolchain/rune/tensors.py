"""Element types and tensor types: the vocabulary every stage, block, model and host shares.

The numeric codes are part of the rune ABI (docs/abi.md) and of `rune_block.h`.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field, replace
from enum import Enum


class ElementType(Enum):
    # name, ABI code, bytes per element, numpy dtype name
    U8 = ("u8", 1, 1, "uint8")
    I8 = ("i8", 2, 1, "int8")
    U16 = ("u16", 3, 2, "uint16")
    I16 = ("i16", 4, 2, "int16")
    U32 = ("u32", 5, 4, "uint32")
    I32 = ("i32", 6, 4, "int32")
    U64 = ("u64", 7, 8, "uint64")
    I64 = ("i64", 8, 8, "int64")
    F32 = ("f32", 9, 4, "float32")
    F64 = ("f64", 10, 8, "float64")
    # A utf8 tensor holds one 32-bit pointer per element to a NUL-terminated string in the rune's
    # memory (see docs/abi.md).
    UTF8 = ("utf8", 11, 4, None)

    def __init__(self, type_name: str, code: int, size: int, numpy_name: str | None):
        self.type_name = type_name
        self.code = code
        self.size = size
        self.numpy_name = numpy_name

    @classmethod
    def parse(cls, text: str) -> "ElementType":
        """Parse a type name case-insensitively ("F32", "u8", "UTF8"); raises ValueError."""
        key = str(text).strip().lower()
        key = _ALIASES.get(key, key)
        for member in cls:
            if member.type_name == key:
                return member
        raise ValueError(f"unknown element type '{text}' (expected one of {', '.join(type_names())})")

    @classmethod
    def from_code(cls, code: int) -> "ElementType":
        for member in cls:
            if member.code == code:
                return member
        raise ValueError(f"unknown element type code {code}")

    @property
    def is_float(self) -> bool:
        return self in (ElementType.F32, ElementType.F64)

    @property
    def is_integer(self) -> bool:
        return not self.is_float and self is not ElementType.UTF8

    @property
    def is_numeric(self) -> bool:
        return self is not ElementType.UTF8

    @property
    def c_type(self) -> str:
        return _C_TYPES[self]

    def __str__(self) -> str:
        return self.type_name


_ALIASES = {"&str": "utf8", "str": "utf8", "string": "utf8"}

_C_TYPES = {
    ElementType.U8: "uint8_t", ElementType.I8: "int8_t", ElementType.U16: "uint16_t",
    ElementType.I16: "int16_t", ElementType.U32: "uint32_t", ElementType.I32: "int32_t",
    ElementType.U64: "uint64_t", ElementType.I64: "int64_t", ElementType.F32: "float",
    ElementType.F64: "double", ElementType.UTF8: "const char *",
}


def type_names() -> list[str]:
    return [t.type_name for t in ElementType]


@dataclass(frozen=True)
class TensorType:
    """An element type and a shape (row-major). A scalar has the shape ()."""

    dtype: ElementType
    shape: tuple[int, ...]
    # Facts about the values that the producing block declares and the blocks reading them may use
    # (the fft block's fft_length, for instance). Not part of the type: tensors that differ only
    # in attributes are equal and connect to the same stages.
    attributes: dict = field(default_factory=dict, compare=False, repr=False)

    @property
    def count(self) -> int:
        return math.prod(self.shape)

    @property
    def bytes(self) -> int:
        return self.count * self.dtype.size

    def reshaped(self, shape) -> "TensorType":
        """The same tensor under another (compatible) shape, keeping its attributes."""
        return replace(self, shape=tuple(shape))

    def squeezed(self) -> tuple[int, ...]:
        return tuple(d for d in self.shape if d != 1)

    def compatible_with(self, other: "TensorType") -> bool:
        """Same element type and the same bytes in the same order.

        Shapes that differ only in dimensions of size 1 ([1, 3] and [3]) lay out their elements
        identically, so a stage may declare either.
        """
        return self.dtype == other.dtype and self.squeezed() == other.squeezed()

    def __str__(self) -> str:
        return f"{self.dtype}[{', '.join(map(str, self.shape))}]"

    def to_json(self) -> dict:
        return {"type": self.dtype.type_name, "dimensions": list(self.shape)}

    @classmethod
    def from_json(cls, data: dict) -> "TensorType":
        return cls(ElementType.parse(data["type"]), tuple(int(d) for d in data["dimensions"]))
