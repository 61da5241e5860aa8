"""Typed arguments: how a Runefile value becomes the value a block or capability receives.

The same argument types describe proc-block arguments (and become fields of the block's C
argument struct) and capability arguments (which the host reads from the manifest).
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field
from typing import Any, Callable

from rune.runefile.document import EnumValue, ResourceRef

ARG_TYPES = ("f32", "f64", "i32", "u32", "bool", "str", "str_list", "f32_list", "i32_list", "enum", "bytes")

FLT_MAX = 3.4028234663852886e38
_INT_RANGES = {"i32": (-(2**31), 2**31 - 1), "u32": (0, 2**32 - 1)}


class ArgumentError(ValueError):
    def __init__(self, message: str, hint: str | None = None):
        super().__init__(message)
        self.hint = hint


@dataclass
class ArgSpec:
    name: str
    type: str
    description: str = ""
    default: Any = None
    required: bool = False
    values: list[str] = field(default_factory=list)  # the choices of an enum
    enum: str | None = None  # the enum's name in `@Enum::Value`
    aliases: list[str] = field(default_factory=list)
    minimum: float | None = None
    maximum: float | None = None
    default_expr: str | None = None  # a block argument's default computed from its inputs

    def describe_type(self) -> str:
        if self.type == "enum":
            return " | ".join(self.values)
        return self.type


ResourceReader = Callable[[str], bytes]


def convert(spec: ArgSpec, value: Any, read_resource: ResourceReader) -> Any:
    """Convert a Runefile value to the argument's type; raises ArgumentError with a hint."""
    if isinstance(value, ResourceRef):
        if spec.type not in ("str", "str_list", "bytes"):
            raise ArgumentError(f"a resource cannot be used for a {spec.type} argument",
                                "resources hold text or bytes; give a number directly")
        data = read_resource(value.name)
        if spec.type == "bytes":
            return data
        try:
            value = data.decode("utf-8")
        except UnicodeDecodeError:
            raise ArgumentError(f"resource ${value.name} is not UTF-8 text") from None
    converter = _CONVERTERS[spec.type]
    result = converter(spec, value)
    _check_range(spec, result)
    return result


def _number(spec: ArgSpec, value, integer: bool):
    if isinstance(value, bool) or not isinstance(value, (int, float, str)):
        raise ArgumentError(f"expected a number, got {_show(value)}")
    if isinstance(value, str):
        try:
            value = float(value) if not integer else int(value, 0)
        except ValueError:
            raise ArgumentError(f"expected a number, got {_show(value)}") from None
    if integer:
        if isinstance(value, float):
            if not value.is_integer():
                raise ArgumentError(f"expected a whole number, got {value}")
            value = int(value)
        low, high = _INT_RANGES[spec.type]
        if not low <= value <= high:
            raise ArgumentError(f"{value} is out of range for {spec.type} ({low}..{high})")
        return value
    value = float(value)
    if not math.isfinite(value):
        raise ArgumentError(f"expected a finite number, got {value}")
    if spec.type == "f32" and abs(value) > FLT_MAX:
        raise ArgumentError(f"{value} is out of range for f32")
    return value


def _bool(spec, value):
    if isinstance(value, bool):
        return value
    if isinstance(value, str) and value.lower() in ("true", "false", "yes", "no", "on", "off"):
        return value.lower() in ("true", "yes", "on")
    raise ArgumentError(f"expected true or false, got {_show(value)}")


def _str(spec, value):
    if isinstance(value, (list, EnumValue)):
        raise ArgumentError(f"expected a string, got {_show(value)}")
    return str(value) if not isinstance(value, bool) else str(value).lower()


def split_words(text: str) -> list[str]:
    """A word list: one per line, or comma-separated on a single line; blanks dropped."""
    parts = text.splitlines() if "\n" in text.strip() else text.split(",")
    return [p.strip() for p in parts if p.strip()]


def _str_list(spec, value):
    if isinstance(value, list):
        items = [_str(spec, v) for v in value]
    elif isinstance(value, str):
        items = split_words(value)
    else:
        raise ArgumentError(f"expected a list of strings, got {_show(value)}")
    if not items:
        raise ArgumentError("the list is empty")
    return items


def _number_list(integer: bool):
    def convert_list(spec, value):
        if isinstance(value, str):
            value = [v for v in value.split(",") if v.strip()]
        if not isinstance(value, list):
            value = [value]
        element = ArgSpec(spec.name, "i32" if integer else "f32")
        return [_number(element, v, integer) for v in value]
    return convert_list


def _enum(spec, value):
    if isinstance(value, EnumValue):
        if spec.enum and value.enum.lower() != spec.enum.lower():
            raise ArgumentError(f"expected a value of @{spec.enum}, got {value}",
                                f"use one of {', '.join(f'@{spec.enum}::{v}' for v in spec.values)}")
        value = value.value
    if not isinstance(value, str):
        raise ArgumentError(f"expected one of {', '.join(spec.values)}, got {_show(value)}")
    for choice in spec.values:
        if _enum_key(choice) == _enum_key(value):
            return choice
    raise ArgumentError(f"unknown value '{value}'", f"use one of {', '.join(spec.values)}")


def _enum_key(text: str) -> str:
    """'GrayScale', 'grayscale' and 'gray_scale' name the same choice."""
    return text.lower().replace("-", "").replace("_", "")


def _bytes(spec, value):
    if isinstance(value, bytes):
        return value
    if isinstance(value, str):
        return value.encode("utf-8")
    raise ArgumentError(f"expected a resource or a string, got {_show(value)}")


_CONVERTERS = {
    "f32": lambda s, v: _number(s, v, False), "f64": lambda s, v: _number(s, v, False),
    "i32": lambda s, v: _number(s, v, True), "u32": lambda s, v: _number(s, v, True),
    "bool": _bool, "str": _str, "str_list": _str_list,
    "f32_list": _number_list(False), "i32_list": _number_list(True),
    "enum": _enum, "bytes": _bytes,
}


def _check_range(spec: ArgSpec, value) -> None:
    if isinstance(value, (int, float)) and not isinstance(value, bool):
        if spec.minimum is not None and value < spec.minimum:
            raise ArgumentError(f"{value} is below the minimum {spec.minimum:g}")
        if spec.maximum is not None and value > spec.maximum:
            raise ArgumentError(f"{value} is above the maximum {spec.maximum:g}")


def _show(value) -> str:
    if isinstance(value, str):
        return repr(value if len(value) < 40 else value[:37] + "...")
    return str(value)


def to_json(value):
    """Argument values as the manifest stores them (bytes are not stored, only their size)."""
    if isinstance(value, bytes):
        return {"bytes": len(value)}
    return value
