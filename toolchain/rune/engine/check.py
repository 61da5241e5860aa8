"""What `rune model-check` finds out about a model: whether Rune's engine supports each of its
operators, the RAM and flash it needs on a device, whether that fits a board, and how its outputs
compare with TensorFlow Lite Micro's on random inputs."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Callable

import numpy as np

from rune.boards import Board
from rune.engine.code_size import engine_code_bytes
from rune.engine.errors import Unsupported, UnsupportedOperator
from rune.engine.ops import plan_operator, require_planner
from rune.engine.plan import plan_kernels, ram_bytes
from rune.engine.planner import plan_model
from rune.engine.requirements import check_model
from rune.runtime.errors import ModelFailure
from rune.runtime.models import create_backend
from rune.runtime.sources import NUMPY_TYPES
from rune.tflite.model import ModelInfo, Operator, read_model

FLOAT_RANGE = (-4.0, 4.0)  # where random float inputs are drawn from (integers span their type)


@dataclass
class OperatorSupport:
    name: str
    count: int
    supported: bool
    reason: str | None = None  # why not, for the first instance the engine refuses


@dataclass
class Conformance:
    inferences: int
    identical: int  # inferences whose outputs are identical byte for byte
    max_abs_diff: float  # the largest difference of an output element, in its type's units

    @property
    def identical_fraction(self) -> float:
        return self.identical / self.inferences if self.inferences else 1.0


@dataclass
class ModelCheck:
    model_bytes: int
    operators: list[OperatorSupport]
    problem: str | None  # why the engine cannot run the model; None if it can
    plan_bytes: int | None
    arena_bytes: int | None
    engine_code_bytes: int | None  # the runtime and this model's kernels; None: unknown (no arm-none-eabi-gcc)
    conformance: Conformance | None = None
    conformance_problem: str | None = None  # why there is no comparison with TFLM

    @property
    def supported(self) -> bool:
        return self.problem is None

    @property
    def ram_bytes(self) -> int | None:
        return None if self.arena_bytes is None else ram_bytes(self.arena_bytes)

    @property
    def flash_bytes(self) -> int | None:
        """Model, plan and engine code, when all are known."""
        if self.plan_bytes is None or self.engine_code_bytes is None:
            return None
        return self.model_bytes + self.plan_bytes + self.engine_code_bytes

    def fits(self, board: Board) -> dict:
        """Whether the model and the engine fit the board (None where unknown)."""
        flash = None if self.flash_bytes is None else self.flash_bytes <= board.flash.bytes
        ram = None if self.ram_bytes is None else self.ram_bytes <= board.ram.bytes
        return {"flash": flash, "ram": ram, "both": flash and ram}


def check_model_file(data: bytes, inputs: int, name: str = "model") -> ModelCheck:
    """Raises ModelError if the model is malformed (or its operators invalid, as TFLM would find)."""
    model = read_model(data)
    try:
        check_model(model)
    except Unsupported as e:  # then only whether the engine has each operator at all is known
        return _cannot_run(data, _operator_support(model, require_planner), e)
    operators = _operator_support(model, lambda op: plan_operator(model, data, op))
    try:
        plan = plan_model(data)
    except Unsupported as e:
        return _cannot_run(data, operators, e)
    serialised = plan.to_bytes()
    found = ModelCheck(len(data), operators, None, len(serialised), plan.arena_bytes,
                       engine_code_bytes(plan_kernels(serialised)))
    if inputs:
        try:
            found.conformance = _compare_with_tflm(data, serialised, model, inputs, name)
        except ModelFailure as e:
            found.conformance_problem = e.message
    return found


def _cannot_run(data: bytes, operators: list[OperatorSupport], why: Unsupported) -> ModelCheck:
    return ModelCheck(len(data), operators, str(why), None, None, None,
                      conformance_problem="Rune's engine cannot run the model")


def _operator_support(model: ModelInfo, check: Callable[[Operator], object]) -> list[OperatorSupport]:
    """Each operator name, with whether `check` passes for all its instances."""
    found: dict[str, OperatorSupport] = {}
    for op in model.operators:
        entry = found.setdefault(op.name, OperatorSupport(op.name, 0, True))
        entry.count += 1
        try:
            check(op)
        except UnsupportedOperator as e:
            if entry.supported:
                entry.supported, entry.reason = False, f"operator {e.op_index}: {e.detail}"
    return sorted(found.values(), key=lambda o: o.name)


def _compare_with_tflm(data: bytes, plan: bytes, model: ModelInfo, count: int, name: str) -> Conformance:
    """`count` random inputs through TFLM and the engine, as one sequence (so state is compared too)."""
    entry = {"stage": name, "inputs": [t.tensor_type.to_json() for t in model.inputs],
             "outputs": [t.tensor_type.to_json() for t in model.outputs]}
    tflm = create_backend("tflm").load(data, entry, None)
    engine = create_backend("rune").load(data, entry, plan)
    rng = np.random.default_rng(0)
    identical, worst = 0, 0.0
    for _ in range(count):
        inputs = [_random_tensor(rng, t["type"], t["dimensions"]).tobytes() for t in entry["inputs"]]
        expected, actual = tflm.invoke(inputs), engine.invoke(inputs)
        identical += expected == actual
        for want, got, t in zip(expected, actual, entry["outputs"]):
            worst = max(worst, _max_abs_diff(want, got, NUMPY_TYPES[t["type"]]))
    return Conformance(count, identical, worst)


def _random_tensor(rng, type_name: str, shape) -> np.ndarray:
    dtype = np.dtype(NUMPY_TYPES[type_name])
    if dtype.kind == "f":
        return rng.uniform(*FLOAT_RANGE, size=shape).astype(dtype)
    info = np.iinfo(dtype)
    return rng.integers(info.min, info.max, size=shape, endpoint=True, dtype=dtype)


def _max_abs_diff(a: bytes, b: bytes, dtype) -> float:
    x = np.frombuffer(a, dtype=dtype).astype(np.float64)
    y = np.frombuffer(b, dtype=dtype).astype(np.float64)
    both_nan = np.isnan(x) & np.isnan(y)
    diff = np.where(both_nan, 0.0, np.abs(x - y))
    return float(np.nan_to_num(diff, nan=np.inf).max(initial=0.0))
