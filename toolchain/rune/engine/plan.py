"""The Plan object and its binary serialisation (layout: docs/engine.md, "Plan format")."""

from __future__ import annotations

import struct
from dataclasses import dataclass
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    import numpy as np

MAGIC = 0x454E5552          # "RUNE"
FORMAT_VERSION = 1
HEADER_BYTES = 64
TENSOR_RECORD = struct.Struct("<BBBBIII")     # dtype, storage, flags, fill, offset, bytes, source
OP_RECORD = struct.Struct("<HBBIIHBB")        # kernel, n_in, n_out, operands, params, n_params, code, n_tmp
STORE_ARENA, STORE_MODEL, STORE_STAGED = 1, 2, 3
FLAG_VARIABLE = 1

# sizeof(rune_engine) on a 32-bit target: three pointers + two int16 fields.
ENGINE_STRUCT_BYTES_32BIT = 16


def ram_bytes(arena_bytes: int) -> int:
    """What the engine needs in RAM on a 32-bit device: the arena and the engine struct."""
    return arena_bytes + ENGINE_STRUCT_BYTES_32BIT


def arena_bytes(plan: bytes) -> int:
    """The arena a serialised plan needs (from its header)."""
    return struct.unpack_from("<I", plan, 24)[0]


def plan_kernels(plan: bytes) -> set[int]:
    """The kernel ids a serialised plan's operators use (a firmware compiles in only these)."""
    op_count = struct.unpack_from("<H", plan, 30)[0]
    ops_at = struct.unpack_from("<I", plan, 40)[0]
    return {struct.unpack_from("<H", plan, ops_at + i * OP_RECORD.size)[0] for i in range(op_count)}


def fnv1a(data: bytes) -> int:
    h = 2166136261
    for b in data:
        h = ((h ^ b) * 16777619) & 0xFFFFFFFF
    return h


@dataclass
class TensorInfo:
    """A model input or output, as the engine exposes it."""

    name: str
    dtype: np.dtype
    shape: tuple[int, ...]
    scale: float
    zero_point: int


@dataclass
class PlanTensor:
    dtype: int
    storage: int
    offset: int
    nbytes: int
    flags: int = 0
    fill: int = 0
    source: int = 0


@dataclass
class PlanOp:
    kernel: int
    code: int
    inputs: list[int]       # plan tensor indices, -1 absent
    outputs: list[int]
    temps: list[int]
    params: list[int]


@dataclass
class Plan:
    model_len: int
    model_checksum: int
    arena_bytes: int
    tensors: list[PlanTensor]
    ops: list[PlanOp]
    input_tensors: list[int]     # plan tensor indices
    output_tensors: list[int]
    inputs: list[TensorInfo]
    outputs: list[TensorInfo]

    @property
    def ram_bytes(self) -> int:
        return ram_bytes(self.arena_bytes)

    def to_bytes(self) -> bytes:
        pool: list[int] = []
        op_records = []
        for op in self.ops:
            operands_at = len(pool)
            pool += op.inputs + op.outputs + op.temps
            params_at = len(pool)
            pool += op.params
            op_records.append(OP_RECORD.pack(op.kernel, len(op.inputs), len(op.outputs), operands_at,
                                             params_at, len(op.params), min(op.code, 255), len(op.temps)))
        tensors = b"".join(TENSOR_RECORD.pack(t.dtype, t.storage, t.flags, t.fill, t.offset, t.nbytes,
                                              t.source) for t in self.tensors)
        io = struct.pack(f"<{len(self.input_tensors) + len(self.output_tensors)}H",
                         *(self.input_tensors + self.output_tensors))
        io += b"\0" * (-len(io) % 4)
        pool_bytes = struct.pack(f"<{len(pool)}i", *pool)
        t_off = HEADER_BYTES
        o_off = t_off + len(tensors)
        io_off = o_off + len(op_records) * OP_RECORD.size
        p_off = io_off + len(io)
        body = tensors + b"".join(op_records) + io + pool_bytes
        total = HEADER_BYTES + len(body)
        head_tail = struct.pack("<IIIHHHHIIIIIII", self.model_len, self.model_checksum, self.arena_bytes,
                                len(self.tensors), len(self.ops), len(self.input_tensors),
                                len(self.output_tensors), t_off, o_off, io_off, p_off, len(pool), 0, 0)
        after_sum = head_tail + body
        checksum = fnv1a(after_sum)
        return struct.pack("<IHHII", MAGIC, FORMAT_VERSION, HEADER_BYTES, total, checksum) + after_sum
