"""Write small TensorFlow Lite models: the engine measures TFLM with them, and the tests generate
single-operator models with them.

Uses the schema module and the flatbuffers library that come with the pinned tflite-micro wheel
(object API); constant buffers are 16-byte aligned, as the TFLite converter writes them.
"""

from __future__ import annotations

import flatbuffers
import numpy as np
from tflite_micro.tensorflow.lite.micro.python import schema_py_generated as tfl

_TYPES = {np.dtype(np.float32): tfl.TensorType.FLOAT32, np.dtype(np.int8): tfl.TensorType.INT8,
          np.dtype(np.uint8): tfl.TensorType.UINT8, np.dtype(np.int16): tfl.TensorType.INT16,
          np.dtype(np.int32): tfl.TensorType.INT32, np.dtype(np.int64): tfl.TensorType.INT64,
          np.dtype(np.bool_): tfl.TensorType.BOOL}


class _AlignedBuffer(tfl.BufferT):
    """A BufferT whose data vector is 16-byte aligned (the schema's force_align: 16)."""

    def Pack(self, builder):
        data = None
        if self.data is not None:
            raw = bytes(self.data)
            builder.StartVector(1, len(raw), 16)
            builder.head = builder.head - len(raw)
            builder.Bytes[builder.head:builder.head + len(raw)] = raw
            data = builder.EndVector()
        tfl.BufferStart(builder)
        if data is not None:
            tfl.BufferAddData(builder, data)
        return tfl.BufferEnd(builder)


class ModelBuilder:
    def __init__(self, description: str = "written by rune"):
        self.tensors = []
        self.buffers = [_AlignedBuffer()]
        self.ops = []
        self.opcodes: dict[int, int] = {}
        self.description = description

    def tensor(self, shape, dtype, data=None, scale=None, zero_point=None, qdim=0, variable=False) -> int:
        """Add a tensor; `data` makes it a constant, `scale` quantizes it. Returns its index."""
        dtype = np.dtype(dtype)
        t = tfl.TensorT()
        t.shape = [int(d) for d in shape]
        t.type = _TYPES[dtype]
        t.name = f"t{len(self.tensors)}".encode()
        t.isVariable = variable
        t.buffer = 0
        if data is not None:
            buffer = _AlignedBuffer()
            buffer.data = np.asarray(data, dtype=dtype).reshape(shape).astype(dtype.newbyteorder("<")).tobytes()
            self.buffers.append(buffer)
            t.buffer = len(self.buffers) - 1
        if scale is not None:
            q = tfl.QuantizationParametersT()
            q.scale = [float(s) for s in np.atleast_1d(scale)]
            zero_points = np.atleast_1d(0 if zero_point is None else zero_point)
            if len(zero_points) == 1 and len(q.scale) > 1:
                zero_points = np.zeros(len(q.scale), dtype=np.int64)
            q.zeroPoint = [int(z) for z in zero_points]
            q.quantizedDimension = qdim
            t.quantization = q
        self.tensors.append(t)
        return len(self.tensors) - 1

    def const(self, data, dtype, scale=None, zero_point=None, qdim=0) -> int:
        data = np.asarray(data)
        return self.tensor(data.shape, dtype, data, scale, zero_point, qdim)

    def op(self, code: int, inputs, outputs, options=None) -> None:
        """Add an operator; `options` is a tfl.<Name>OptionsT (see `options`)."""
        self.opcodes.setdefault(code, len(self.opcodes))
        o = tfl.OperatorT()
        o.opcodeIndex = self.opcodes[code]
        o.inputs = list(inputs)
        o.outputs = list(outputs)
        if options is not None:
            o.builtinOptionsType = getattr(tfl.BuiltinOptions, type(options).__name__[:-1])
            o.builtinOptions = options
        self.ops.append(o)

    def build(self, inputs, outputs) -> bytes:
        m = tfl.ModelT()
        m.version = 3
        m.description = self.description.encode()
        codes = [None] * len(self.opcodes)
        for code, index in self.opcodes.items():
            oc = tfl.OperatorCodeT()
            oc.builtinCode = code
            oc.deprecatedBuiltinCode = min(code, 127)  # 127: "look at builtinCode"
            oc.version = 1
            codes[index] = oc
        m.operatorCodes = codes
        graph = tfl.SubGraphT()
        graph.tensors = self.tensors
        graph.inputs = list(inputs)
        graph.outputs = list(outputs)
        graph.operators = self.ops
        m.subgraphs = [graph]
        m.buffers = self.buffers
        builder = flatbuffers.Builder(1024)
        builder.Finish(m.Pack(builder), file_identifier=b"TFL3")
        return bytes(builder.Output())


def options(name: str, **fields):
    """tfl.<name>T() with the given fields, e.g. options("Conv2DOptions", strideW=2)."""
    o = getattr(tfl, name + "T")()
    for key, value in fields.items():
        if not hasattr(o, key):
            raise AttributeError(f"{name} has no field {key}")
        setattr(o, key, value)
    return o


def unary_model(code: int, in_shape, in_dtype, out_dtype, in_q=None, out_q=None, opts=None, out_shape=None) -> bytes:
    """A model of one operator with one input and one output; in_q/out_q are (scale, zero_point) or None."""
    builder = ModelBuilder()
    i = builder.tensor(in_shape, in_dtype, scale=in_q and in_q[0], zero_point=in_q and in_q[1])
    o = builder.tensor(out_shape or in_shape, out_dtype, scale=out_q and out_q[0], zero_point=out_q and out_q[1])
    builder.op(code, [i], [o], opts)
    return builder.build([i], [o])
