"""Capabilities: the inputs a rune asks its host for (RAND, SOUND, ACCEL, IMAGE, RAW).

Each kind declares its arguments and how its output type follows from them; the compiler checks
a Runefile against these, and every host (desktop runtime, firmware) provides the data.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Callable

from rune.blocks.arguments import ArgSpec
from rune.tensors import ElementType, TensorType

PIXEL_FORMATS = ("RGB", "BGR", "GrayScale")
CHANNELS = {"RGB": 3, "BGR": 3, "GrayScale": 1}
SOURCE = ArgSpec("source", "u32", "Which host-provided source feeds this capability when several of its "
                 "kind exist (0 = the first).", default=None)


@dataclass
class CapabilityKind:
    name: str
    description: str
    types: list[ElementType]  # element types the host can provide
    default_type: ElementType
    args: dict[str, ArgSpec]
    # (args, declared TensorType or None) -> inferred TensorType; raises ValueError with a message
    shape: Callable[[dict, TensorType | None], tuple[int, ...]]
    flag: str = ""  # the `rune run` flag that provides it
    notes: list[str] = field(default_factory=list)

    def arg_spec(self, name: str) -> ArgSpec | None:
        if name in self.args:
            return self.args[name]
        return next((a for a in self.args.values() if name in a.aliases), None)


def _args(*specs: ArgSpec) -> dict[str, ArgSpec]:
    return {s.name: s for s in (*specs, SOURCE)}


def _sound_shape(args, declared):
    samples = args["hz"] * args["sample_duration_ms"] // 1000
    if args["hz"] * args["sample_duration_ms"] % 1000:
        raise ValueError(f"{args['sample_duration_ms']} ms at {args['hz']} Hz is not a whole number of samples")
    return (samples,)


def _image_shape(args, declared):
    return (1, args["height"], args["width"], CHANNELS[args["pixel_format"]])


def _image_defaults(args: dict, declared: TensorType | None) -> None:
    """IMAGE may take its width, height and pixel format from declared dimensions [1, H, W, C]."""
    shape = declared.shape if declared else ()
    if len(shape) == 4:
        args.setdefault("height", shape[1])
        args.setdefault("width", shape[2])
        args.setdefault("pixel_format", "GrayScale" if shape[3] == 1 else "RGB")


def _declared_shape(args, declared):
    return declared.shape if declared else (1,)


KINDS: dict[str, CapabilityKind] = {
    "RAND": CapabilityKind(
        "RAND", "Random numbers, uniform in [min, max); deterministic with a seed.",
        [t for t in ElementType if t.is_numeric], ElementType.F32,
        _args(ArgSpec("min", "f64", "Smallest value (default 0, or the type's minimum for integers)."),
              ArgSpec("max", "f64", "Values stay below this (default 1, or the type's maximum for integers).")),
        _declared_shape, "--random SEED"),
    "SOUND": CapabilityKind(
        "SOUND", "16-bit PCM audio, mono, resampled to `hz`, exactly `sample_duration_ms` long.",
        [ElementType.I16], ElementType.I16,
        _args(ArgSpec("hz", "u32", "Sample rate in Hz.", default=16000, minimum=1000, maximum=192000,
                      aliases=["sample_rate"]),
              ArgSpec("sample_duration_ms", "u32", "Length of each clip in milliseconds.", default=1000,
                      minimum=1, maximum=60000)),
        _sound_shape, "--sound FILE.wav"),
    "ACCEL": CapabilityKind(
        "ACCEL", "Accelerometer samples: `samples` rows of x, y, z.",
        [ElementType.F32], ElementType.F32,
        _args(ArgSpec("samples", "u32", "Number of x, y, z rows.", default=128, minimum=1)),
        lambda args, declared: (args["samples"], 3), "--accel FILE.csv"),
    "IMAGE": CapabilityKind(
        "IMAGE", "A picture resized to width x height in the pixel format: u8 as is, i8 as pixel - 128, "
                 "f32 scaled to [0, 1].",
        [ElementType.U8, ElementType.I8, ElementType.F32], ElementType.U8,
        _args(ArgSpec("width", "u32", "Width in pixels.", required=True, minimum=1, maximum=4096),
              ArgSpec("height", "u32", "Height in pixels.", required=True, minimum=1, maximum=4096),
              ArgSpec("pixel_format", "enum", "Channel layout.", default="RGB", values=list(PIXEL_FORMATS),
                      enum="PixelFormat")),
        _image_shape, "--image FILE"),
    "RAW": CapabilityKind(
        "RAW", "Bytes from a file, `length` elements of the declared type.",
        [t for t in ElementType if t.is_numeric], ElementType.U8,
        _args(ArgSpec("length", "u32", "Number of elements.", required=True, minimum=1)),
        lambda args, declared: _raw_shape(args["length"], declared), "--raw FILE"),
}


def _raw_shape(length: int, declared: TensorType | None) -> tuple[int, ...]:
    """`[length]`, or the declared dimensions when they hold `length` elements (a model's [1, 96, 96, 1])."""
    if declared is not None and declared.count == length:
        return tuple(declared.shape)
    return (length,)


def prepare_args(kind: CapabilityKind, args: dict, declared: TensorType | None) -> None:
    """Fill in arguments that follow from the declared output (only IMAGE has such)."""
    if kind.name == "IMAGE":
        _image_defaults(args, declared)


def infer_output(kind: CapabilityKind, args: dict, declared_type: ElementType | None,
                 declared: TensorType | None) -> TensorType:
    dtype = declared_type or kind.default_type
    if dtype not in kind.types:
        raise ValueError(f"{kind.name} cannot provide {dtype} (it provides {', '.join(map(str, kind.types))})")
    return TensorType(dtype, tuple(kind.shape(args, declared)))


class RangeError(ValueError):
    def __init__(self, message: str, arg: str):
        super().__init__(message)
        self.arg = arg  # the argument to point at


def check_random_range(dtype: ElementType, low, high) -> None:
    """RAND's [min, max) must hold values of its type (docs/abi.md gives the formula): the host
    would otherwise draw numbers the type cannot hold. Raises RangeError."""
    import numpy as np

    if dtype.is_float:
        limit = float(np.finfo(dtype.numpy_name).max)
        for name, value in (("min", low), ("max", high)):
            if value is not None and not -limit <= float(value) <= limit:
                raise RangeError(f"RAND's {name} {float(value):g} is not a finite {dtype} number "
                                 f"(the largest is {limit:g})", name)
        low, high = (0.0 if low is None else float(low)), (1.0 if high is None else float(high))
    else:
        info = np.iinfo(dtype.numpy_name)
        bounds = (("min", low, info.min, info.max), ("max", high, info.min + 1, info.max + 1))
        for name, value, lowest, highest in bounds:
            if value is None:
                continue
            if float(value) != int(float(value)):
                raise RangeError(f"RAND's {name} {value} is not a whole number, and {dtype} values are", name)
            if not lowest <= int(float(value)) <= highest:
                raise RangeError(f"RAND's {name} {int(float(value))} is outside what {dtype} holds: [min, max) must "
                                 f"lie within [{info.min}, {info.max + 1})", name)
        low = info.min if low is None else int(float(low))
        high = info.max + 1 if high is None else int(float(high))
    if not low < high:
        raise RangeError(f"RAND draws from [min, max): min ({low:g}) must be less than max ({high:g})", "max")
