"""PAD/PADV2, CONCATENATION and STRIDED_SLICE planning. All three only move bytes, so
one kernel each serves every element type (params carry the element size).

PAD           params: elem_size, in_dims[5], before[5], after[5], pad_value (raw bits)
CONCAT        params: elem_size, outer, out_inner, inner[n_inputs]
STRIDED_SLICE params: elem_size, in_dims[5], start[5], stride[5], count[5]
"""

from __future__ import annotations

import numpy as np

from rune.engine import kernels
from rune.engine.dtypes import numpy_dtype
from rune.engine.ops import OpPlan, register
from rune.engine.schema import BuiltinOptions
from rune.tflite.opcodes import Op, TypeCode as T


MAX_RANK = 5
COPY_TYPES = (T.FLOAT32, T.INT8, T.INT16, T.INT32)


def _pad5(values, fill):
    return [fill] * (MAX_RANK - len(values)) + list(values)


def _same_quant(ctx, a, b):
    if a.type_code in (T.INT8, T.INT16):
        sa, za = ctx.quant(a)
        sb, zb = ctx.quant(b)
        if sa != sb or za != zb:
            ctx.unsupported(f"{a.label()} and {b.label()} must share scale and zero point")


@register(Op.PAD, Op.PADV2)
def plan_pad(ctx):
    v2 = ctx.op.code == Op.PADV2
    ctx.counts((2, 3) if v2 else 2, 1)
    inp, out = ctx.input(0), ctx.output(0)
    ctx.check_type(inp, COPY_TYPES, "input")
    if out.type_code != inp.type_code:
        ctx.invalid("output type differs from input type")
    paddings = ctx.input(1)
    ctx.check_type(paddings, (T.INT32,), "paddings")
    pads = ctx.constant(paddings, "paddings").astype(np.int64)
    rank = len(inp.shape)
    if rank > MAX_RANK:
        ctx.unsupported(f"rank {rank} (at most {MAX_RANK})")
    if pads.shape != (rank, 2) or (pads < 0).any():
        ctx.invalid(f"paddings {pads.tolist()} must be {rank}x2 and non-negative")
    expected = tuple(int(d + a + b) for d, (a, b) in zip(inp.shape, pads))
    if tuple(out.shape) != expected:
        ctx.invalid(f"output shape {list(out.shape)} should be {list(expected)}")
    _same_quant(ctx, inp, out)
    value = ctx.input(2, optional=True) if v2 else None
    if value is not None:
        if value.type_code != inp.type_code or value.count != 1:
            ctx.invalid("constant_values must be one element of the input type")
        raw = ctx.constant(value, "constant_values").reshape(-1)[:1]
        _same_quant(ctx, value, out)
    elif inp.type_code in (T.INT8, T.INT16):
        raw = np.array([ctx.quant(out)[1]], dtype=numpy_dtype(out.type_code))
    else:
        raw = np.zeros(1, dtype=numpy_dtype(inp.type_code))
    pad_word = int.from_bytes(raw.astype(raw.dtype.newbyteorder("<")).tobytes().ljust(4, b"\0"), "little",
                              signed=True)
    params = [inp.element_size] + _pad5(inp.shape, 1) + _pad5(pads[:, 0].tolist(), 0) + \
        _pad5(pads[:, 1].tolist(), 0) + [pad_word]
    return OpPlan(kernels.PAD, [inp.index], [out.index], [int(v) for v in params])


@register(Op.CONCATENATION)
def plan_concat(ctx):
    if not ctx.op.inputs:
        ctx.invalid("needs at least one input")
    ctx.counts((1, 255), 1)
    opts = ctx.options(BuiltinOptions.ConcatenationOptions)
    axis = opts.i32(0) if opts else 0
    act = opts.u8(1) if opts else 0
    if act:
        ctx.unsupported("fused activation on CONCATENATION")
    out = ctx.output(0)
    ins = [ctx.input(i) for i in range(len(ctx.op.inputs))]
    rank = len(out.shape)
    if not -rank <= axis < rank:
        ctx.invalid(f"axis {axis} outside rank {rank}")
    axis %= rank
    ctx.check_type(out, COPY_TYPES + (T.INT64,), "output")
    total = 0
    for t in ins:
        if t.type_code != out.type_code or len(t.shape) != rank:
            ctx.invalid(f"{t.label()} does not match the output's type and rank")
        if any(t.shape[d] != out.shape[d] for d in range(rank) if d != axis):
            ctx.invalid(f"{t.label()} differs from the output outside the axis")
        _same_quant(ctx, t, out)
        total += t.shape[axis]
    if total != out.shape[axis]:
        ctx.invalid("input sizes along the axis do not add up to the output's")
    outer = int(np.prod(out.shape[:axis], dtype=np.int64))
    inner_after = int(np.prod(out.shape[axis + 1:], dtype=np.int64))
    params = [out.element_size, outer, out.shape[axis] * inner_after] + [t.shape[axis] * inner_after for t in ins]
    return OpPlan(kernels.CONCAT, [t.index for t in ins], [out.index], params)


def _start(begin, stride, size, masked):
    """StridedSliceStartForAxis."""
    start = begin + size if begin < 0 else begin
    start = min(max(start, 0), size) if stride > 0 else min(max(start, -1), size - 1)
    if masked:
        start = 0 if stride > 0 else size - 1
    return start


def _stop(end, start, stride, size, masked, shrink, offset):
    """StridedSliceEndForAxis."""
    if shrink:
        return start if start >= size else start + 1
    if offset:
        end += start
    end = end + size if end < 0 else end
    end = min(max(end, 0), size) if stride > 0 else min(max(end, -1), size - 1)
    if masked:
        end = size if stride > 0 else -1
    return end


@register(Op.STRIDED_SLICE)
def plan_strided_slice(ctx):
    ctx.counts(4, 1)
    opts = ctx.options(BuiltinOptions.StridedSliceOptions)
    get = (lambda i: opts.i32(i)) if opts else (lambda i: 0)
    begin_mask, end_mask, ellipsis, new_axis, shrink = (get(i) for i in range(5))
    offset = opts.bool(5) if opts else False
    if ellipsis or new_axis:
        ctx.unsupported("ellipsis_mask and new_axis_mask are not supported")
    if offset:
        ctx.unsupported("the offset option is not supported (TFLM rejects it too)")
    inp, out = ctx.input(0), ctx.output(0)
    ctx.check_type(inp, COPY_TYPES, "input")
    if out.type_code != inp.type_code:
        ctx.invalid("output type differs from input type")
    _same_quant(ctx, inp, out)
    rank = len(inp.shape)
    if rank > 4:  # TFLM's STRIDED_SLICE stops at 4-D (the kernel itself handles 5)
        ctx.unsupported(f"rank {rank} (at most 4)")
    vecs = []
    for i, what in ((1, "begin"), (2, "end"), (3, "strides")):
        t = ctx.input(i)
        ctx.check_type(t, (T.INT32,), what)
        v = ctx.constant(t, what).reshape(-1).astype(np.int64).tolist()
        if len(v) > rank:
            ctx.invalid(f"{what} has {len(v)} entries for rank {rank}")
        vecs.append(v)
    begin, end, strides = vecs
    if not len(begin) == len(end) == len(strides):
        ctx.invalid("begin, end and strides differ in length")
    # StridedSlicePadIndices: pad leading dims to 5 with full ranges
    pad = MAX_RANK - len(begin)
    dims = _pad5(inp.shape, 1)
    begin, end, strides = [0] * pad + begin, [1] * pad + end, [1] * pad + strides
    begin_mask = (begin_mask << pad) | ((1 << pad) - 1)
    end_mask = (end_mask << pad) | ((1 << pad) - 1)
    shrink <<= pad
    starts, counts = [], []
    for a in range(MAX_RANK):
        st = strides[a]
        if st == 0:
            ctx.invalid("stride 0")
        s = _start(begin[a], st, dims[a], begin_mask & (1 << a))
        e = _stop(end[a], s, st, dims[a], end_mask & (1 << a), shrink & (1 << a), offset)
        n = max(0, -(-(e - s) // st)) if st > 0 else max(0, -(-(s - e) // -st))
        starts.append(s)
        counts.append(n)
    if int(np.prod(counts)) != out.count:
        ctx.invalid(f"the slice has {int(np.prod(counts))} elements, output {out.label()} has {out.count}")
    if out.count == 0:
        ctx.unsupported("empty slices are not supported")
    params = [inp.element_size] + dims + starts + strides + counts
    return OpPlan(kernels.STRIDED_SLICE, [inp.index], [out.index], [int(v) for v in params])
