"""plan_model: .tflite bytes -> a validated, memory-planned Plan for the C runtime."""

from __future__ import annotations

from rune.engine import arena
from rune.engine.dtypes import numpy_dtype
from rune.engine.errors import Unsupported, UnsupportedOperator
from rune.engine.ops import OpPlan, plan_operator
from rune.engine.plan import (FLAG_VARIABLE, STORE_ARENA, STORE_MODEL, STORE_STAGED, Plan, PlanOp, PlanTensor,
                              TensorInfo, fnv1a)
from rune.engine.requirements import check_model
from rune.tflite.flatbuffer import FlatBufferError
from rune.tflite.model import ModelError, ModelInfo, Tensor, read_model
from rune.tflite.opcodes import TypeCode

_IO_TYPES = (TypeCode.FLOAT32, TypeCode.INT8, TypeCode.UINT8, TypeCode.INT16, TypeCode.INT32)
_MAX_RECORDS = 0xFFFF  # tensors and operators are counted in u16 fields


def plan_model(data: bytes) -> Plan:
    """Raises ModelError for a malformed model, Unsupported (a ModelError) for one the engine cannot
    run, UnsupportedOperator (an Unsupported) when that is down to one operator."""
    model = read_model(data)
    check_model(model)
    _check_io(model)
    try:  # operators' options are read only now
        op_plans = [plan_operator(model, data, op) for op in model.operators]
    except FlatBufferError as e:
        raise ModelError(f"the model is malformed: {e}") from None
    for op, p in zip(model.operators, op_plans):
        for t in p.inputs + p.outputs:
            if t >= 0 and model.tensors[t].count == 0:
                raise UnsupportedOperator(op.name, op.index, f"empty tensor {model.tensors[t].label()}")
    return _Builder(model, bytes(data), op_plans).build()


def _check_io(model: ModelInfo) -> None:
    for kind, tensors in (("input", model.inputs), ("output", model.outputs)):
        for t in tensors:
            if t.type_code not in _IO_TYPES:
                raise Unsupported(f"model {kind} {t.label()} has a type the engine does not support")
            if t.is_constant and kind == "input":
                raise ModelError(f"model input {t.label()} is a constant")
    if len({t.index for t in model.inputs}) != len(model.inputs):
        raise ModelError("a tensor is listed twice as a model input")


class _Groups:
    """Union-find over model tensors: aliased tensors share one buffer."""

    def __init__(self):
        self.parent = {}

    def find(self, t):
        self.parent.setdefault(t, t)
        while self.parent[t] != t:
            self.parent[t] = self.parent[self.parent[t]]
            t = self.parent[t]
        return t

    def union(self, a, b):
        ra, rb = self.find(a), self.find(b)
        if ra != rb:
            self.parent[rb] = ra


class _Builder:
    def __init__(self, model: ModelInfo, data: bytes, op_plans: list[OpPlan]):
        self.model = model
        self.data = data
        self.op_plans = op_plans
        self.inputs = [t.index for t in model.inputs]
        self.outputs = [t.index for t in model.outputs]

    def build(self) -> Plan:
        model, n_ops = self.model, len(self.op_plans)
        self._check_dataflow()
        groups = _Groups()
        for p in self.op_plans:
            if p.alias:
                groups.union(p.inputs[0], p.outputs[0])

        # Which model tensors the runtime needs, in a stable order.
        used: list[int] = []
        seen = set()
        for t in self.inputs + self.outputs + [t for p in self.op_plans for t in p.inputs + p.outputs]:
            if t >= 0 and t not in seen:
                seen.add(t)
                used.append(t)

        # Buffers: one per alias group that lives in the arena, plus scratch.
        group_of = {t: groups.find(t) for t in used}
        const_groups = {group_of[t] for t in used if model.tensors[t].is_constant}
        first: dict[int, int] = {}
        last: dict[int, int] = {}

        def touch(g, step):
            first[g] = min(first.get(g, step), step)
            last[g] = max(last.get(g, step), step)

        for t in self.inputs:
            touch(group_of[t], 0)
        for k, p in enumerate(self.op_plans):
            for t in p.inputs + p.outputs:
                if t >= 0:
                    touch(group_of[t], k)
        for t in self.outputs:
            touch(group_of[t], max(n_ops - 1, 0))
        for t in used:
            tensor = model.tensors[t]
            if tensor.is_variable or (tensor.is_constant and not _aligned(tensor)):
                touch(group_of[t], 0)
                touch(group_of[t], max(n_ops - 1, 0))

        group_size: dict[int, int] = {}
        for t in used:
            g = group_of[t]
            group_size[g] = max(group_size.get(g, 0), model.tensors[t].bytes)
        arena_groups = [g for g in dict.fromkeys(group_of[t] for t in used)
                        if g not in const_groups or not _aligned(model.tensors[g])]
        buf_index = {g: i for i, g in enumerate(arena_groups)}
        bufs = [arena.Buf(arena.align_up(group_size[g]), first.get(g, 0), last.get(g, 0))
                for g in arena_groups]
        scratch_buf = []
        for k, p in enumerate(self.op_plans):
            ids = []
            for size in p.scratch:
                ids.append(len(bufs))
                bufs.append(arena.Buf(arena.align_up(size), k, k))
            scratch_buf.append(ids)
        self._allow_inplace(group_of, buf_index, bufs)
        offsets, arena_bytes = arena.plan_arena(bufs)

        # Plan tensor table.
        plan_index: dict[int, int] = {}
        tensors: list[PlanTensor] = []
        for t in used:
            tensor = model.tensors[t]
            g = group_of[t]
            if tensor.is_constant and _aligned(tensor):
                rec = PlanTensor(tensor.type_code, STORE_MODEL, tensor.data_offset, tensor.bytes)
            elif g in const_groups:
                src = model.tensors[g]
                rec = PlanTensor(tensor.type_code, STORE_STAGED, offsets[buf_index[g]], tensor.bytes,
                                 source=src.data_offset)
            else:
                rec = PlanTensor(tensor.type_code, STORE_ARENA, offsets[buf_index[g]], tensor.bytes)
                if tensor.is_variable:
                    rec.flags = FLAG_VARIABLE
                    rec.fill = (tensor.zero_point & 0xFF) if tensor.type_code == TypeCode.INT8 else 0
            plan_index[t] = len(tensors)
            tensors.append(rec)
        ops: list[PlanOp] = []
        for k, p in enumerate(self.op_plans):
            if p.alias:
                continue
            temps = []
            for b in scratch_buf[k]:
                temps.append(len(tensors))
                tensors.append(PlanTensor(TypeCode.INT8, STORE_ARENA, offsets[b], bufs[b].size))
            ops.append(PlanOp(p.kernel, model.operators[k].code, [plan_index[t] if t >= 0 else -1 for t in p.inputs],
                              [plan_index[t] for t in p.outputs], temps, [int(v) for v in p.params]))
        if len(tensors) > _MAX_RECORDS or len(ops) > _MAX_RECORDS:
            raise Unsupported("the model has too many tensors or operators for the plan format")
        for v in (w for op in ops for w in op.params):
            if not -(1 << 31) <= v < (1 << 31):
                raise ModelError(f"internal: parameter {v} does not fit in int32")
        return Plan(len(self.data), fnv1a(self.data), arena_bytes, tensors, ops,
                    [plan_index[t] for t in self.inputs], [plan_index[t] for t in self.outputs],
                    [_info(t) for t in model.inputs], [_info(t) for t in model.outputs])

    def _check_dataflow(self) -> None:
        """Every non-constant input must exist before its operator runs; each tensor
        is produced once, and never by overwriting a constant or a model input."""
        model = self.model
        ready = set(self.inputs)
        ready.update(t.index for t in model.tensors if t.is_constant or t.is_variable)
        written = set()
        for k, p in enumerate(self.op_plans):
            for t in p.inputs:
                if t >= 0 and t not in ready:
                    raise ModelError(f"operator {k} ({model.operators[k].name}) reads "
                                     f"{model.tensors[t].label()} before anything produces it")
            for t in p.outputs:
                tensor = model.tensors[t]
                if tensor.is_constant or t in self.inputs or t in written:
                    raise ModelError(f"operator {k} ({model.operators[k].name}) writes {tensor.label()}, "
                                     "which is a constant, a model input or already written")
                written.add(t)
                ready.add(t)
        for t in self.outputs:
            if t not in ready:
                raise ModelError(f"model output {model.tensors[t].label()} is never produced")

    def _allow_inplace(self, group_of, buf_index, bufs):
        model = self.model
        protected = set(group_of[t] for t in self.outputs)
        protected.update(group_of[t.index] for t in model.tensors if t.is_variable and t.index in group_of)
        for k, p in enumerate(self.op_plans):
            if p.alias or not p.inplace:
                continue
            out_g = group_of[p.outputs[0]]
            if out_g not in buf_index:
                continue
            ob = buf_index[out_g]
            for pos, slack in p.inplace.items():
                t = p.inputs[pos]
                if t < 0 or p.inputs.count(t) != 1:
                    continue
                in_g = group_of[t]
                if in_g not in buf_index or in_g in protected or in_g == out_g:
                    continue
                ib = buf_index[in_g]
                if bufs[ib].last != k or bufs[ob].first != k:
                    continue
                bufs[ob].below[ib] = slack
                bufs[ib].above[ob] = slack


def _aligned(t: Tensor) -> bool:
    return t.data_offset is not None and t.data_offset % min(t.element_size, 4) == 0


def _info(t: Tensor) -> TensorInfo:
    return TensorInfo(t.name, numpy_dtype(t.type_code), tuple(t.shape), t.scale, t.zero_point)
