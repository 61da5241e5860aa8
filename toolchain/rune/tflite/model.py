"""What a TensorFlow Lite model contains: tensors, inputs, outputs, operators, quantization.

The one reader of .tflite files in Rune: the compiler's checker, `rune model-info`, the model
backends and the engine's planner all read models through `read_model`. It checks the file's
structure (strict reader in flatbuffer.py, every index in range), so a malformed model is a
ModelError with a message, never a crash; what a consumer cannot handle (custom operators,
dynamic shapes, ...) is left for that consumer to refuse. Field indices below are those of
TensorFlow Lite's schema.fbs.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field

from rune.planning import Allocation, plan_arena
from rune.tensors import ElementType, TensorType
from rune.tflite.flatbuffer import Buffer, FlatBufferError, Table
from rune.tflite.opcodes import BUILTIN_OPERATORS, TENSOR_TYPES, Op

IDENTIFIER = b"TFL3"

_ELEMENT_TYPES = {
    "FLOAT32": ElementType.F32, "FLOAT64": ElementType.F64, "INT8": ElementType.I8, "UINT8": ElementType.U8,
    "INT16": ElementType.I16, "UINT16": ElementType.U16, "INT32": ElementType.I32, "UINT32": ElementType.U32,
    "INT64": ElementType.I64, "UINT64": ElementType.U64,
}
# Sizes of the schema's types that have no Rune element type.
_OTHER_SIZES = {"FLOAT16": 2, "BOOL": 1, "COMPLEX64": 8, "COMPLEX128": 16, "BFLOAT16": 2, "INT4": 1}


class ModelError(ValueError):
    """The model file is not a usable TensorFlow Lite model."""


@dataclass
class Quantization:
    scales: tuple[float, ...] = ()
    zero_points: tuple[int, ...] = ()
    dimension: int = 0
    custom: bool = False  # the schema's custom quantization details are present

    def __bool__(self) -> bool:
        return bool(self.scales)

    @property
    def per_channel(self) -> bool:
        return len(self.scales) > 1

    def describe(self) -> str:
        if not self.scales:
            return ""
        if len(self.scales) == 1:
            return f"scale {self.scales[0]:.6g}, zero point {self.zero_points[0] if self.zero_points else 0}"
        return f"per-channel on axis {self.dimension} ({len(self.scales)} scales)"


@dataclass
class Tensor:
    index: int
    name: str
    type_code: int  # the schema's TensorType
    shape: tuple[int, ...]
    buffer: int
    quantization: Quantization
    is_variable: bool
    data_offset: int | None = None  # where its constant data starts in the file (None: not a constant)
    constant_bytes: int = 0
    sparse: bool = False

    @property
    def type_name(self) -> str:
        """The schema's name of the element type, e.g. "INT8"."""
        return TENSOR_TYPES[self.type_code]

    @property
    def element_type(self) -> ElementType | None:
        return _ELEMENT_TYPES.get(self.type_name)

    @property
    def tensor_type(self) -> TensorType | None:
        dtype = self.element_type
        return TensorType(dtype, self.shape) if dtype else None

    @property
    def is_constant(self) -> bool:
        return self.data_offset is not None

    @property
    def element_size(self) -> int:
        return self.element_type.size if self.element_type else _OTHER_SIZES.get(self.type_name, 1)

    @property
    def count(self) -> int:
        """Elements; a dynamic dimension (-1) counts as 1."""
        return math.prod(d if d >= 0 else 1 for d in self.shape)

    @property
    def bytes(self) -> int:
        return self.count * self.element_size

    @property
    def scale(self) -> float:
        return self.quantization.scales[0] if self.quantization.scales else 0.0

    @property
    def zero_point(self) -> int:
        return self.quantization.zero_points[0] if self.quantization.zero_points else 0

    def describe(self) -> str:
        dims = ", ".join(map(str, self.shape))
        dtype = self.element_type.type_name if self.element_type else self.type_name.lower()
        return f"{dtype}[{dims}]"

    def label(self) -> str:
        """The tensor as error messages name it."""
        return f"tensor {self.index} '{self.name}' ({self.describe()})"


@dataclass
class Operator:
    index: int
    name: str  # builtin operator name, or the custom code
    version: int
    inputs: tuple[int, ...]  # tensor indices, -1 for an absent optional input
    outputs: tuple[int, ...]
    custom: bool = False
    code: int = 0  # the schema's BuiltinOperator
    intermediates: tuple[int, ...] = ()
    options_type: int = 0  # the BuiltinOptions union's type, 0 for none
    options: Table | None = None  # read field by field by whoever understands that type
    options_2_type: int = 0  # the newer BuiltinOptions2 union


@dataclass
class ModelInfo:
    version: int
    description: str
    tensors: list[Tensor]
    inputs: list[Tensor]
    outputs: list[Tensor]
    operators: list[Operator]
    subgraphs: int
    size: int
    weight_bytes: int = 0
    activation_bytes: int = field(default=0)

    @property
    def operator_names(self) -> list[str]:
        return sorted({op.name for op in self.operators})


def read_model(data: bytes) -> ModelInfo:
    """Parse a .tflite file; raises ModelError for anything that is not a well-formed model."""
    if len(data) < 8:
        raise ModelError(f"the file is too small to be a TensorFlow Lite model ({len(data)} bytes)")
    if bytes(data[4:8]) != IDENTIFIER:
        raise ModelError("not a TensorFlow Lite model (the file identifier is not 'TFL3')")
    try:
        return _read(Buffer(data))
    except FlatBufferError as e:
        raise ModelError(f"the model is malformed: {e}") from None


def _read(buf: Buffer) -> ModelInfo:
    model = buf.root("model")
    version = model.u32(0)
    if version != 3:
        raise ModelError(f"unsupported schema version {version} (expected 3)")
    codes = [_operator_code(code) for code in _tables(model, 1, "operator code")]
    buffers = _tables(model, 4, "buffer")
    subgraphs = _tables(model, 2, "subgraph")
    if not subgraphs:
        raise ModelError("the model has no subgraph")
    graph = subgraphs[0]
    tensors = [_tensor(buf, i, t, buffers) for i, t in enumerate(_tables(graph, 0, "tensor"))]

    def indices(vector_index: int, table: Table, what: str, optional: bool = False) -> tuple[int, ...]:
        vector = table.vector(vector_index, what)
        found = vector.scalars("i") if vector is not None else ()
        for i in found:
            if not (-1 if optional else 0) <= i < len(tensors):
                raise ModelError(f"{what} refers to tensor {i}, but the model has {len(tensors)} tensors")
        return found

    operators = []
    for i, op in enumerate(_tables(graph, 3, "operator")):
        opcode = op.u32(0)
        if opcode >= len(codes):
            raise ModelError(f"operator {i} uses operator code {opcode}, but the model defines {len(codes)}")
        name, version, custom, code = codes[opcode]
        what = f"operator {i} ({name})"
        options_type = op.u8(3)
        operators.append(Operator(
            i, name, version, indices(1, op, what, optional=True), indices(2, op, what), custom, code,
            indices(8, op, what, optional=True), options_type, op.table(4, f"{what} options") if options_type else None,
            op.u8(11)))

    info = ModelInfo(
        version=version,
        description=model.string(3, "description") or "",
        tensors=tensors,
        inputs=[tensors[i] for i in indices(1, graph, "the subgraph's inputs")],
        outputs=[tensors[i] for i in indices(2, graph, "the subgraph's outputs")],
        operators=operators,
        subgraphs=len(subgraphs),
        size=buf.size,
        weight_bytes=sum(t.constant_bytes for t in tensors),
    )
    if not info.inputs or not info.outputs:
        raise ModelError("the model declares no inputs or no outputs")
    info.activation_bytes = _plan_activations(info)
    return info


def _tables(table: Table, index: int, what: str) -> list[Table]:
    vector = table.vector(index, what)
    return vector.tables(what) if vector is not None else []


def _operator_code(code: Table) -> tuple[str, int, bool, int]:
    """(name, version, custom, builtin code) of an OperatorCode."""
    builtin = max(code.i32(3), code.i8(0))  # the deprecated 8-bit field holds codes below 127
    version = code.i32(2, 1)
    if builtin == Op.CUSTOM:
        return code.string(1, "custom code") or "CUSTOM", version, True, builtin
    if 0 <= builtin < len(BUILTIN_OPERATORS):
        return BUILTIN_OPERATORS[builtin], version, False, builtin
    return f"BUILTIN_{builtin}", version, False, builtin


def _tensor(buf: Buffer, index: int, table: Table, buffers: list[Table]) -> Tensor:
    what = f"tensor {index}"
    type_code = table.i8(1)
    if not 0 <= type_code < len(TENSOR_TYPES):
        raise ModelError(f"{what} has an unknown element type code {type_code}")
    shape_vector = table.vector(0, f"{what} shape")
    shape = shape_vector.scalars("i") if shape_vector is not None else ()
    if any(d < -1 for d in shape):
        raise ModelError(f"{what} has a negative dimension {list(shape)}")
    buffer_index = table.u32(2)
    if buffer_index >= max(len(buffers), 1):
        raise ModelError(f"{what} refers to buffer {buffer_index}, but the model has {len(buffers)}")
    tensor = Tensor(index, table.string(3, f"{what} name") or f"tensor_{index}", type_code, tuple(shape),
                    buffer_index, _quantization(table.table(4, f"{what} quantization"), what), table.bool(5),
                    sparse=table.has(6))
    # Buffer 0 is the empty sentinel; data of a variable tensor is ignored, as TFLM does.
    if buffer_index and not tensor.is_variable:
        data_buffer = buffers[buffer_index]
        data = data_buffer.vector(0, f"buffer {buffer_index} data")
        offset, size = data_buffer.u64(1), data_buffer.u64(2)
        if data is not None and len(data):
            data.raw(1)  # bounds check
            tensor.data_offset, tensor.constant_bytes = data.start, len(data)
        elif offset > 1:  # data stored after the flatbuffer (models larger than 2 GB)
            buf.need(offset, size, f"buffer {buffer_index} data")
            tensor.data_offset, tensor.constant_bytes = offset, size
    return tensor


def _quantization(table: Table | None, what: str) -> Quantization:
    if table is None:
        return Quantization()
    scales = table.vector(2, f"{what} scales")
    zero_points = table.vector(3, f"{what} zero points")
    return Quantization(scales.scalars("f") if scales is not None else (),
                        zero_points.scalars("q") if zero_points is not None else (),
                        table.i32(6), custom=table.u8(4) != 0)


def _plan_activations(info: ModelInfo) -> int:
    """Bytes of activation memory with tensors reused across their lifetimes (inputs live from step 0)."""
    first: dict[int, int] = {}
    last: dict[int, int] = {}
    for t in info.inputs:
        first[t.index] = 0
    for step, op in enumerate(info.operators):
        for t in op.outputs:
            first.setdefault(t, step)
            last[t] = step
        for t in op.inputs:
            if t >= 0 and not info.tensors[t].is_constant:
                first.setdefault(t, step)
                last[t] = step
    end = len(info.operators)
    for t in info.outputs:
        last[t.index] = end
    for t in info.tensors:
        if t.is_variable:
            first[t.index], last[t.index] = 0, end
    allocations = [Allocation(i, info.tensors[i].bytes, first[i], last.get(i, first[i])) for i in first
                   if not info.tensors[i].is_constant]
    return plan_arena(allocations)
