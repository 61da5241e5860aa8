"""Single-operator .tflite models with random weights and quantization, for the engine's operator
sweeps (test_engine_ops.py) and its malformed-input tests."""

from __future__ import annotations

import numpy as np

from rune.engine.ops.geometry import out_size
from rune.tflite.writer import ModelBuilder, options, unary_model

# ---------------------------------------------------------------- random quantization helpers

def rand_scale(rng, lo=1e-3, hi=0.2):
    return float(np.float32(np.exp(rng.uniform(np.log(lo), np.log(hi)))))


def rand_zp(rng, dtype):
    dtype = np.dtype(dtype)
    if dtype == np.int16:
        return 0
    info = np.iinfo(dtype)
    return int(rng.integers(info.min, info.max, endpoint=True))


def rand_weights(rng, shape, dtype):
    dtype = np.dtype(dtype)
    if dtype.kind == "f":
        return rng.normal(0, 0.5, size=shape).astype(dtype)
    return rng.integers(-127, 127, size=shape, endpoint=True).astype(dtype)


def _out_scale(rng, in_scale, w_scale, depth):
    """An output scale that keeps typical accumulators inside the int8 range."""
    return float(np.float32(in_scale * float(np.max(w_scale)) * 90.0 * np.sqrt(depth) * rng.uniform(0.3, 1.5)))


# ---------------------------------------------------------------- operator generators

def fc_model(rng, in_shape, units, dtype, act=0, bias=True, per_channel=False, keep_num_dims=False):
    dtype = np.dtype(dtype)
    depth = in_shape[-1]
    batches = int(np.prod(in_shape[:-1]))
    out_shape = (*in_shape[:-1], units) if keep_num_dims else (batches, units)
    mb = ModelBuilder()
    opts = options("FullyConnectedOptions", fusedActivationFunction=act, keepNumDims=keep_num_dims)
    w = rand_weights(rng, (units, depth), dtype)
    if dtype.kind == "f":
        i = mb.tensor(in_shape, dtype)
        wt = mb.const(w, dtype)
        bt = mb.const(rng.normal(0, 1, units).astype(dtype), dtype) if bias else -1
        o = mb.tensor(out_shape, dtype)
    else:
        s_in, zp_in = rand_scale(rng), rand_zp(rng, dtype)
        s_w = np.array([rand_scale(rng, 1e-3, 2e-2) for _ in range(units)]) if per_channel else rand_scale(rng, 1e-3, 2e-2)
        i = mb.tensor(in_shape, dtype, scale=s_in, zero_point=zp_in)
        wt = mb.const(w, dtype, scale=s_w, zero_point=0, qdim=0)
        bscale = np.float32(s_in) * np.atleast_1d(s_w).astype(np.float32)
        bt = mb.const(rng.integers(-3000, 3000, units).astype(np.int32), np.int32,
                      scale=bscale if per_channel else float(bscale[0])) if bias else -1
        o = mb.tensor(out_shape, dtype, scale=_out_scale(rng, s_in, s_w, depth), zero_point=rand_zp(rng, dtype))
    mb.op(9, [i, wt, bt], [o], opts)
    return mb.build([i], [o])


def conv_model(rng, dtype, n, h, w, cin, cout, kh, kw, stride=(1, 1), dilation=(1, 1), padding=0, act=0,
               bias=True, per_channel=True, groups=1, depthwise=False, depth_multiplier=1, zero_bias=False):
    """CONV_2D (or DEPTHWISE_CONV_2D) with random weights; padding 0 = SAME, 1 = VALID.
    zero_bias: a bias tensor of zeros (equivalent to no bias)."""
    dtype = np.dtype(dtype)
    oh = out_size(padding, h, kh, stride[0], dilation[0])
    ow = out_size(padding, w, kw, stride[1], dilation[1])
    if depthwise:
        cout = cin * depth_multiplier
        wshape, qdim, depth = (1, kh, kw, cout), 3, kh * kw
        opts = options("DepthwiseConv2DOptions", padding=padding, strideH=stride[0], strideW=stride[1],
                       depthMultiplier=depth_multiplier, fusedActivationFunction=act,
                       dilationHFactor=dilation[0], dilationWFactor=dilation[1])
        code = 4
    else:
        wshape, qdim, depth = (cout, kh, kw, cin // groups), 0, kh * kw * cin // groups
        opts = options("Conv2DOptions", padding=padding, strideH=stride[0], strideW=stride[1],
                       fusedActivationFunction=act, dilationHFactor=dilation[0], dilationWFactor=dilation[1])
        code = 3
    mb = ModelBuilder()
    wdata = rand_weights(rng, wshape, dtype)
    if dtype.kind == "f":
        i = mb.tensor((n, h, w, cin), dtype)
        wt = mb.const(wdata, dtype)
        bvals = rng.normal(0, 1, cout).astype(dtype) * (0 if zero_bias else 1)  # drawn even if unused
        bt = mb.const(bvals, dtype) if bias else -1
        o = mb.tensor((n, oh, ow, cout), dtype)
    else:
        s_in, zp_in = rand_scale(rng), rand_zp(rng, dtype)
        s_w = np.array([rand_scale(rng, 1e-3, 2e-2) for _ in range(cout)]) if per_channel else rand_scale(rng, 1e-3, 2e-2)
        i = mb.tensor((n, h, w, cin), dtype, scale=s_in, zero_point=zp_in)
        wt = mb.const(wdata, dtype, scale=s_w, zero_point=0, qdim=qdim)
        bscale = np.float32(s_in) * np.atleast_1d(s_w).astype(np.float32)
        bvals = rng.integers(-3000, 3000, cout).astype(np.int32) * (0 if zero_bias else 1)  # drawn even if unused
        bt = mb.const(bvals, np.int32, scale=bscale if per_channel else float(bscale[0]), qdim=0) if bias else -1
        o = mb.tensor((n, oh, ow, cout), dtype, scale=_out_scale(rng, s_in, s_w, depth), zero_point=rand_zp(rng, dtype))
    mb.op(code, [i, wt, bt] if bias else [i, wt], [o], opts)
    return mb.build([i], [o])


def pool_model(rng, dtype, code, n, h, w, c, fh, fw, stride=(1, 1), padding=0, act=0):
    dtype = np.dtype(dtype)
    oh, ow = out_size(padding, h, fh, stride[0], 1), out_size(padding, w, fw, stride[1], 1)
    opts = options("Pool2DOptions", padding=padding, strideH=stride[0], strideW=stride[1], filterHeight=fh,
                   filterWidth=fw, fusedActivationFunction=act)
    q = None if dtype.kind == "f" else (rand_scale(rng, 0.01, 0.1), rand_zp(rng, dtype))
    return unary_model(code, (n, h, w, c), dtype, dtype, q, q, opts, out_shape=(n, oh, ow, c))


def softmax_model(rng, shape, in_dtype, out_dtype, beta=1.0):
    in_dtype, out_dtype = np.dtype(in_dtype), np.dtype(out_dtype)
    opts = options("SoftmaxOptions", beta=beta)
    if in_dtype.kind == "f":
        return unary_model(25, shape, in_dtype, out_dtype, None, None, opts)
    in_q = (rand_scale(rng, 0.01, 0.3), rand_zp(rng, in_dtype))
    out_q = (1.0 / 256, -128) if out_dtype == np.int8 else (1.0 / 65536, -32768)
    return unary_model(25, shape, in_dtype, out_dtype, in_q, out_q, opts)


def binary_model(rng, code, shape1, shape2, out_shape, dtype, act=0, const2=False):
    """ADD / SUB / MUL with optional broadcasting; `const2` makes input 2 a constant."""
    dtype = np.dtype(dtype)
    name = {0: "AddOptions", 41: "SubOptions", 18: "MulOptions"}[code]
    opts = options(name, fusedActivationFunction=act)
    mb = ModelBuilder()
    if dtype.kind == "f" or dtype == np.int32:
        q1 = q2 = qo = (None, None)
    elif dtype == np.int16:
        q1, q2, qo = [(rand_scale(rng, 1e-4, 1e-3), 0) for _ in range(3)]
    else:
        q1, q2 = (rand_scale(rng, 0.01, 0.1), rand_zp(rng, dtype)), (rand_scale(rng, 0.01, 0.1), rand_zp(rng, dtype))
        scale_o = (q1[0] * q2[0] * 128 if code == 18 else max(q1[0], q2[0])) * rng.uniform(0.8, 3.0)
        qo = (float(np.float32(scale_o)), rand_zp(rng, dtype))
    i1 = mb.tensor(shape1, dtype, scale=q1[0], zero_point=q1[1])
    if const2:
        data = rng.integers(-100, 100, size=shape2) if dtype.kind != "f" else rng.normal(0, 2, size=shape2)
        i2 = mb.tensor(shape2, dtype, data=np.asarray(data).astype(dtype), scale=q2[0], zero_point=q2[1])
    else:
        i2 = mb.tensor(shape2, dtype, scale=q2[0], zero_point=q2[1])
    o = mb.tensor(out_shape, dtype, scale=qo[0], zero_point=qo[1])
    mb.op(code, [i1, i2], [o], opts)
    return mb.build([i1] if const2 else [i1, i2], [o])


def pad_model(rng, shape, paddings, dtype, v2_value=None, q=None):
    """PAD (or PADV2 with a constant pad value) of a tensor; q = (scale, zp) or None."""
    dtype = np.dtype(dtype)
    out_shape = tuple(d + a + b for d, (a, b) in zip(shape, paddings))
    mb = ModelBuilder()
    qa = (None, None) if q is None else q
    i = mb.tensor(shape, dtype, scale=qa[0], zero_point=qa[1])
    p = mb.const(np.array(paddings, dtype=np.int32), np.int32)
    inputs = [i, p]
    if v2_value is not None:
        inputs.append(mb.tensor((1,), dtype, data=np.array([v2_value], dtype=dtype), scale=qa[0], zero_point=qa[1]))
    o = mb.tensor(out_shape, dtype, scale=qa[0], zero_point=qa[1])
    mb.op(60 if v2_value is not None else 34, inputs, [o])
    return mb.build([i], [o])


def concat_model(rng, shapes, axis, dtype, act=0, qs=None, out_q=None):
    dtype = np.dtype(dtype)
    rank = len(shapes[0])
    ax = axis % rank
    out_shape = list(shapes[0])
    out_shape[ax] = sum(s[ax] for s in shapes)
    mb = ModelBuilder()
    ins = []
    for k, s in enumerate(shapes):
        q = (None, None) if qs is None else qs[k]
        ins.append(mb.tensor(s, dtype, scale=q[0], zero_point=q[1]))
    q = (None, None) if out_q is None else out_q
    o = mb.tensor(out_shape, dtype, scale=q[0], zero_point=q[1])
    mb.op(2, ins, [o], options("ConcatenationOptions", axis=axis, fusedActivationFunction=act))
    return mb.build(ins, [o])


def strided_slice_model(shape, begin, end, strides, out_shape, dtype, begin_mask=0, end_mask=0,
                        shrink_axis_mask=0, offset=False, q=None):
    dtype = np.dtype(dtype)
    mb = ModelBuilder()
    qa = (None, None) if q is None else q
    i = mb.tensor(shape, dtype, scale=qa[0], zero_point=qa[1])
    b = mb.const(np.array(begin, np.int32), np.int32)
    e = mb.const(np.array(end, np.int32), np.int32)
    s = mb.const(np.array(strides, np.int32), np.int32)
    o = mb.tensor(out_shape, dtype, scale=qa[0], zero_point=qa[1])
    mb.op(45, [i, b, e, s], [o], options("StridedSliceOptions", beginMask=begin_mask, endMask=end_mask,
                                          shrinkAxisMask=shrink_axis_mask, offset=offset))
    return mb.build([i], [o])


def mean_model(rng, shape, axes, keep_dims, dtype, same_quant=False):
    dtype = np.dtype(dtype)
    rank = len(shape)
    resolved = sorted({a % rank for a in axes})
    out_shape = tuple(1 if i in resolved else d for i, d in enumerate(shape)) if keep_dims else \
        tuple(d for i, d in enumerate(shape) if i not in resolved)
    mb = ModelBuilder()
    if dtype.kind == "f":
        qi = qo = (None, None)
    else:
        qi = (rand_scale(rng, 0.01, 0.1), rand_zp(rng, dtype))
        qo = qi if same_quant else (rand_scale(rng, 0.01, 0.1), rand_zp(rng, dtype))
    i = mb.tensor(shape, dtype, scale=qi[0], zero_point=qi[1])
    a = mb.const(np.array(axes, np.int32), np.int32)
    o = mb.tensor(out_shape, dtype, scale=qo[0], zero_point=qo[1])
    mb.op(40, [i, a], [o], options("ReducerOptions", keepDims=keep_dims))
    return mb.build([i], [o])


def svdf_model(rng, batch, n_input, units, rank, memory, state_dtype=np.int16, bias=True, zero_bias=False):
    """Integer SVDF: int8 input/output/weights_feature, int16 or int8 weights_time/state.
    zero_bias: a bias of zeros (equivalent to no bias; TFLM crashes without one)."""
    state_dtype = np.dtype(state_dtype)
    filters = units * rank
    mb = ModelBuilder()
    s_in, zp_in = rand_scale(rng, 0.01, 0.1), rand_zp(rng, np.int8)
    s_wf, s_wt = rand_scale(rng, 0.003, 0.02), rand_scale(rng, 0.001, 0.005)
    s_state = rand_scale(rng, 0.0005, 0.005)
    zp_state = 0 if state_dtype == np.int16 else int(rng.integers(-20, 20))
    i = mb.tensor((batch, n_input), np.int8, scale=s_in, zero_point=zp_in)
    wf = mb.const(rand_weights(rng, (filters, n_input), np.int8), np.int8, scale=s_wf)
    wt_data = rng.integers(-3000, 3000, (filters, memory)) if state_dtype == np.int16 else \
        rng.integers(-127, 127, (filters, memory))
    wt = mb.const(wt_data.astype(state_dtype), state_dtype, scale=s_wt)
    b_scale = float(np.float32(s_state) * np.float32(s_wt))
    b_data = rng.integers(-2000, 2000, units).astype(np.int32) * (0 if zero_bias else 1)  # drawn even if unused
    b = mb.const(b_data, np.int32, scale=b_scale) if bias else -1
    st = mb.tensor((batch, memory * filters), state_dtype, scale=s_state, zero_point=zp_state, variable=True)
    o = mb.tensor((batch, units), np.int8, scale=rand_scale(rng, 0.02, 0.2), zero_point=rand_zp(rng, np.int8))
    mb.op(27, [i, wf, wt, b, st], [o], options("SVDFOptions", rank=rank, fusedActivationFunction=1))
    return mb.build([i], [o])


def lstm_model(rng, batch, steps, n_input, state, time_major=False, cell_clip=0.0, cell_log2=-12):
    """Integer UNIDIRECTIONAL_SEQUENCE_LSTM as the TFLite converter emits it (no
    peephole/projection/layer norm): int8 activations, int16 cell state."""
    mb = ModelBuilder()
    s_in, zp_in = rand_scale(rng, 0.003, 0.03), rand_zp(rng, np.int8)
    s_h, zp_h = rand_scale(rng, 0.004, 0.01), int(rng.integers(-30, 30))
    in_shape = (steps, batch, n_input) if time_major else (batch, steps, n_input)
    out_shape = (steps, batch, state) if time_major else (batch, steps, state)
    i = mb.tensor(in_shape, np.int8, scale=s_in, zero_point=zp_in)
    ins = [i]
    w_in, w_rec, biases = [], [], []
    for _gate in range(4):      # input, forget, cell, output
        s_w = rand_scale(rng, 0.004, 0.012)
        w_in.append(mb.const(rand_weights(rng, (state, n_input), np.int8), np.int8, scale=s_w))
        b_scale = float(np.float32(s_in) * np.float32(s_w))
        biases.append(mb.const(rng.integers(-8000, 8000, state).astype(np.int32), np.int32, scale=b_scale))
    for _gate in range(4):
        w_rec.append(mb.const(rand_weights(rng, (state, state), np.int8), np.int8, scale=rand_scale(rng, 0.004, 0.012)))
    hidden = mb.tensor((batch, state), np.int8, scale=s_h, zero_point=zp_h, variable=True)
    cell = mb.tensor((batch, state), np.int16, scale=2.0 ** cell_log2, zero_point=0, variable=True)
    ins += w_in + w_rec + [-1, -1, -1] + biases + [-1, -1, hidden, cell, -1, -1, -1, -1]
    o = mb.tensor(out_shape, np.int8, scale=s_h, zero_point=zp_h)
    mb.op(44, ins, [o], options("UnidirectionalSequenceLSTMOptions", fusedActivationFunction=4, cellClip=cell_clip,
                                projClip=0.0, timeMajor=time_major))
    return mb.build([i], [o])
