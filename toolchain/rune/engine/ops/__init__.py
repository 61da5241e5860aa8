"""Per-operator planners: validate an operator against what the runtime supports and turn it into
a kernel id, operands and precomputed int32 parameters. One module per operator family; each
registers its planners for the operator codes it handles."""

from __future__ import annotations

import math
from dataclasses import dataclass, field

import numpy as np

from rune.engine.dtypes import numpy_dtype
from rune.engine.errors import UnsupportedOperator
from rune.engine.quant import QRANGE, ScaleError
from rune.engine.schema import Activation
from rune.tflite.model import ModelError, ModelInfo, Operator, Tensor
from rune.tflite.opcodes import TENSOR_TYPES


@dataclass
class OpPlan:
    kernel: int
    inputs: list[int]  # model tensor indices, -1 = absent
    outputs: list[int]
    params: list[int] = field(default_factory=list)  # int32 words
    scratch: list[int] = field(default_factory=list)  # scratch buffer sizes in bytes
    # input operand position -> slack s: the output may start at most s bytes after
    # that input (s may be negative) and still be computed correctly in place.
    inplace: dict[int, int] = field(default_factory=dict)
    alias: bool = False  # output 0 is input 0 reinterpreted: no kernel runs


class OpContext:
    """Access to one operator's tensors and options, with uniform error reporting."""

    def __init__(self, model: ModelInfo, data: bytes, op: Operator):
        self.model = model
        self.data = data
        self.op = op
        self.name = op.name
        self.index = op.index

    def unsupported(self, detail: str):
        raise UnsupportedOperator(self.name, self.index, detail)

    def invalid(self, detail: str):
        raise ModelError(f"operator {self.index} ({self.name}): {detail}")

    def counts(self, n_in, n_out: int) -> None:
        lo, hi = (n_in, n_in) if isinstance(n_in, int) else n_in
        if not lo <= len(self.op.inputs) <= hi:
            self.invalid(f"has {len(self.op.inputs)} inputs, expected {n_in}")
        if len(self.op.outputs) != n_out:
            self.invalid(f"has {len(self.op.outputs)} outputs, expected {n_out}")

    def input(self, i: int, optional: bool = False) -> Tensor | None:
        index = self.op.inputs[i] if i < len(self.op.inputs) else -1
        if index < 0:
            if optional:
                return None
            self.invalid(f"required input {i} is missing")
        return self.model.tensors[index]

    def output(self, i: int) -> Tensor:
        return self.model.tensors[self.op.outputs[i]]

    def options(self, expected_type: int):
        if self.op.options_type not in (0, expected_type):
            self.invalid(f"carries options of union type {self.op.options_type}, expected {expected_type}")
        return self.op.options

    def check_type(self, t: Tensor, allowed, what: str = "tensor") -> None:
        if t.type_code not in allowed:
            names = "/".join(TENSOR_TYPES[a].lower() for a in allowed)
            self.unsupported(f"{what} {t.label()} has type {t.type_name.lower()}; supported: {names}")

    def activation(self, act: int) -> int:
        if act not in (Activation.NONE, Activation.RELU, Activation.RELU_N1_TO_1, Activation.RELU6):
            names = {a.value: a.name for a in Activation}
            self.unsupported(f"fused activation {names.get(act, act)} is not supported")
        return act

    def constant(self, t: Tensor, what: str = "tensor") -> np.ndarray:
        """The constant data of `t` as an array of its shape."""
        if not t.is_constant:
            self.unsupported(f"{what} {t.label()} must be a constant")
        raw = self.data[t.data_offset:t.data_offset + t.constant_bytes]
        return np.frombuffer(raw, dtype=numpy_dtype(t.type_code).newbyteorder("<")).reshape(t.shape)

    def quant(self, t: Tensor, what: str = "tensor") -> tuple[float, int]:
        """Per-tensor (scale, zero point) of a quantized tensor."""
        q = t.quantization
        if not q:
            self.invalid(f"{what} {t.label()} lacks quantization parameters")
        s = q.scales[0]
        if not (math.isfinite(s) and s > 0):
            self.invalid(f"{what} {t.label()} has invalid scale {s}")
        zp = q.zero_points[0]
        lo, hi = QRANGE.get(t.type_code, QRANGE[2])
        if not lo <= zp <= hi:
            self.invalid(f"{what} {t.label()} zero point {zp} is outside its type's range")
        return s, zp

    def channel_scales(self, t: Tensor, channels: int, axis: int, what: str = "filter") -> list[float]:
        """Scales of a per-tensor or per-channel quantized weight tensor."""
        q = t.quantization
        if not q:
            self.invalid(f"{what} {t.label()} lacks quantization parameters")
        for s in q.scales:
            if not (math.isfinite(s) and s > 0):
                self.invalid(f"{what} {t.label()} has invalid scale {s}")
        if len(q.scales) == 1:
            return list(q.scales)
        if q.dimension != axis or len(q.scales) != channels:
            self.unsupported(f"{what} {t.label()} per-channel quantization along axis {q.dimension} with "
                             f"{len(q.scales)} scales (expected axis {axis}, {channels} scales)")
        return list(q.scales)

    def same_shape(self, a: Tensor, b: Tensor) -> None:
        if tuple(a.shape) != tuple(b.shape):
            self.invalid(f"{a.label()} and {b.label()} must have the same shape")


_REGISTRY = {}


def register(*codes):
    def decorate(planner):
        for code in codes:
            _REGISTRY[code] = planner
        return planner
    return decorate


def require_planner(op: Operator) -> None:
    """Raises UnsupportedOperator unless the engine has this operator at all (whatever its options)."""
    if op.custom:
        raise UnsupportedOperator(op.name, op.index, "custom operators are not supported")
    if op.options_2_type:
        raise UnsupportedOperator(op.name, op.index, "builtin_options_2 is not supported")
    if op.code not in _REGISTRY:
        raise UnsupportedOperator(op.name, op.index, "the engine has no kernel for this operator")


def plan_operator(model: ModelInfo, data: bytes, op: Operator) -> OpPlan:
    require_planner(op)
    try:
        return _REGISTRY[op.code](OpContext(model, data, op))
    except ScaleError as e:
        raise UnsupportedOperator(op.name, op.index, str(e)) from None


from rune.engine.ops import (activations, binary, conv, copy_ops, fully_connected, lstm,  # noqa: E402,F401
                             pooling, quantize, reduce, simple, svdf)  # (each registers its planners)
