"""What a TensorFlow Lite model contains: tensors, inputs, outputs, operators, quantization.

Read with the strict reader in flatbuffer.py, so a malformed model is a ModelError with a
message, never a crash. The vtable slots below are those of TensorFlow Lite's schema.fbs.
"""

from __future__ import annotations

from dataclasses import dataclass, field

from rune.planning import Allocation, plan_arena
from rune.tensors import ElementType, TensorType
from rune.tflite.flatbuffer import Buffer, FlatBufferError, Table
from rune.tflite.opcodes import BUILTIN_OPERATORS, TENSOR_TYPES

IDENTIFIER = b"TFL3"

_ELEMENT_TYPES = {
    "FLOAT32": ElementType.F32, "FLOAT64": ElementType.F64, "INT8": ElementType.I8, "UINT8": ElementType.U8,
    "INT16": ElementType.I16, "UINT16": ElementType.U16, "INT32": ElementType.I32, "UINT32": ElementType.U32,
    "INT64": ElementType.I64, "UINT64": ElementType.U64,
}
_SIZES = {"FLOAT16": 2, "BOOL": 1, "COMPLEX64": 8, "COMPLEX128": 16, "BFLOAT16": 2, "INT4": 1}


class ModelError(ValueError):
    """The model file is not a usable TensorFlow Lite model."""


@dataclass
class Quantization:
    scales: tuple[float, ...] = ()
    zero_points: tuple[int, ...] = ()
    dimension: int = 0

    def __bool__(self) -> bool:
        return bool(self.scales)

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
    type_name: str  # the schema's name, e.g. "INT8"
    shape: tuple[int, ...]
    buffer: int
    quantization: Quantization
    is_variable: bool
    constant_bytes: int  # bytes of constant data stored for it (0 for activations)

    @property
    def element_type(self) -> ElementType | None:
        return _ELEMENT_TYPES.get(self.type_name)

    @property
    def tensor_type(self) -> TensorType | None:
        dtype = self.element_type
        return TensorType(dtype, self.shape) if dtype else None

    @property
    def bytes(self) -> int:
        size = self.element_type.size if self.element_type else _SIZES.get(self.type_name, 1)
        count = 1
        for d in self.shape:
            count *= max(d, 1)
        return count * size

    def describe(self) -> str:
        dims = ", ".join(map(str, self.shape))
        dtype = self.element_type.type_name if self.element_type else self.type_name.lower()
        return f"{dtype}[{dims}]"


@dataclass
class Operator:
    index: int
    name: str  # builtin operator name, or the custom code
    version: int
    inputs: tuple[int, ...]
    outputs: tuple[int, ...]
    custom: bool = False


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
    model = buf.root()
    version = model.scalar(4, "I")
    if version != 3:
        raise ModelError(f"unsupported schema version {version} (expected 3)")
    codes = [_operator_name(code) for code in model.tables(6, "operator code")]
    buffers = model.tables(12, "buffer")
    subgraphs = model.tables(8, "subgraph")
    if not subgraphs:
        raise ModelError("the model has no subgraph")
    graph = subgraphs[0]

    tensors = [_tensor(i, t, buffers) for i, t in enumerate(graph.tables(4, "tensor"))]

    def tensor_list(indices, what) -> list[Tensor]:
        for i in indices:
            if not 0 <= i < len(tensors):
                raise ModelError(f"{what} refers to tensor {i}, but the model has {len(tensors)} tensors")
        return [tensors[i] for i in indices]

    operators = []
    for i, op in enumerate(graph.tables(10, "operator")):
        opcode = op.scalar(4, "I")
        if opcode >= len(codes):
            raise ModelError(f"operator {i} uses operator code {opcode}, but the model defines {len(codes)}")
        name, version, custom = codes[opcode]
        inputs = op.scalars(6, "i")
        outputs = op.scalars(8, "i")
        tensor_list([t for t in inputs if t >= 0], f"operator {i} ({name})")
        tensor_list(outputs, f"operator {i} ({name})")
        operators.append(Operator(i, name, version, inputs, outputs, custom))

    info = ModelInfo(
        version=version,
        description=model.string(10) or "",
        tensors=tensors,
        inputs=tensor_list(graph.scalars(6, "i"), "the subgraph's inputs"),
        outputs=tensor_list(graph.scalars(8, "i"), "the subgraph's outputs"),
        operators=operators,
        subgraphs=len(subgraphs),
        size=buf.size,
        weight_bytes=sum(t.constant_bytes for t in tensors),
    )
    if not info.inputs or not info.outputs:
        raise ModelError("the model declares no inputs or no outputs")
    info.activation_bytes = _plan_activations(info)
    return info


def _operator_name(code: Table) -> tuple[str, int, bool]:
    deprecated = code.scalar(4, "b")
    builtin = max(code.scalar(10, "i"), deprecated)
    version = code.scalar(8, "i", 1)
    custom = code.string(6)
    if custom and builtin == BUILTIN_OPERATORS.index("CUSTOM"):
        return custom, version, True
    if 0 <= builtin < len(BUILTIN_OPERATORS):
        return BUILTIN_OPERATORS[builtin], version, False
    return f"BUILTIN_{builtin}", version, False


def _tensor(index: int, table: Table, buffers: list[Table]) -> Tensor:
    type_code = table.scalar(6, "b")
    if not 0 <= type_code < len(TENSOR_TYPES):
        raise ModelError(f"tensor {index} has an unknown element type code {type_code}")
    shape = table.scalars(4, "i")
    if any(d < -1 for d in shape):
        raise ModelError(f"tensor {index} has a negative dimension {list(shape)}")
    buffer_index = table.scalar(8, "I")
    if buffer_index >= len(buffers) and buffer_index != 0:
        raise ModelError(f"tensor {index} refers to buffer {buffer_index}, but the model has {len(buffers)}")
    constant = 0
    if buffer_index < len(buffers):
        data = buffers[buffer_index].bytes_view(4)
        constant = len(data) if data is not None else int(buffers[buffer_index].scalar(8, "Q"))
    quant = table.table(12, f"tensor {index} quantization")
    quantization = Quantization()
    if quant is not None:
        quantization = Quantization(tuple(quant.scalars(8, "f")), tuple(quant.scalars(10, "q")),
                                    quant.scalar(16, "i"))
    return Tensor(index, table.string(10) or f"tensor_{index}", TENSOR_TYPES[type_code], tuple(shape),
                  buffer_index, quantization, bool(table.scalar(14, "B")), constant)


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
            if t >= 0 and not info.tensors[t].constant_bytes:
                first.setdefault(t, step)
                last[t] = step
    end = len(info.operators)
    for t in info.outputs:
        last[t.index] = end
    for t in info.tensors:
        if t.is_variable:
            first[t.index], last[t.index] = 0, end
    allocations = [Allocation(i, info.tensors[i].bytes, first[i], last.get(i, first[i])) for i in first
                   if not info.tensors[i].constant_bytes]
    return plan_arena(allocations)
