"""Every operator the engine supports, on single-operator models, byte for byte against TFLM:
types, padding, strides, dilations, fused activations, broadcasting, per-channel quantization,
state. Every case runs, with the larger inference counts; RUNE_ENGINE_FULL=0 runs an even sample
with few (engine_helpers.py)."""

from __future__ import annotations

import itertools

import numpy as np
import pytest

from engine_helpers import assert_same, inferences, random_inputs, sample, seed_of
from engine_testmodels import (binary_model, concat_model, conv_model, fc_model, lstm_model, mean_model, pad_model,
                               pool_model, rand_scale, rand_zp, softmax_model, strided_slice_model, svdf_model)
from rune.engine.errors import UnsupportedOperator
from rune.engine.planner import plan_model
from rune.tflite.opcodes import Op
from rune.tflite.writer import options, unary_model

F32, I8, U8, I16, I32 = np.float32, np.int8, np.uint8, np.int16, np.int32
SAME, VALID = 0, 1


def names(value):
    """Test ids that name operators rather than print their codes."""
    return value.name if isinstance(value, Op) else None


# -- CONV_2D and DEPTHWISE_CONV_2D ----------------------------------------------------------------

# (n, h, w, cin, cout, kh, kw, stride, dilation)
GEOMETRIES = [
    (1, 8, 8, 3, 4, 3, 3, (1, 1), (1, 1)),
    (1, 9, 7, 2, 5, 3, 3, (2, 2), (1, 1)),
    (2, 10, 6, 4, 3, 1, 1, (1, 1), (1, 1)),
    (1, 11, 11, 3, 2, 5, 3, (2, 1), (1, 1)),
    (1, 12, 10, 2, 3, 3, 3, (1, 1), (2, 2)),
    (1, 13, 9, 1, 4, 2, 4, (3, 2), (2, 1)),
    (1, 5, 5, 8, 8, 5, 5, (1, 1), (1, 1)),
    (1, 1, 1, 6, 4, 1, 1, (1, 1), (1, 1)),
    (1, 5, 7, 6, 5, 1, 1, (1, 1), (1, 1)),      # pointwise: pixel pairs, channels not a multiple of 4
    (1, 7, 6, 13, 6, 1, 1, (2, 2), (1, 1)),     # strided pointwise, an odd number of output pixels
]


def _window_fits(geometry, padding) -> bool:
    n, h, w, cin, cout, kh, kw, s, d = geometry
    return padding == SAME or ((kh - 1) * d[0] + 1 <= h and (kw - 1) * d[1] + 1 <= w)


CONV = [c for c in itertools.product(["float32", "int8"], range(len(GEOMETRIES)), [SAME, VALID], [0, 1, 2, 3])
        if _window_fits(GEOMETRIES[c[1]], c[2])]


@pytest.mark.parametrize("dtype,geometry,padding,act", sample(CONV, 12))
def test_conv2d(dtype, geometry, padding, act):
    g = GEOMETRIES[geometry]
    rng = np.random.default_rng(seed_of("conv", dtype, geometry, padding, act))
    n, h, w, cin, cout, kh, kw, s, d = g
    model = conv_model(rng, dtype, n, h, w, cin, cout, kh, kw, s, d, padding, act,
                       bias=geometry % 3 != 2, per_channel=geometry % 2 == 0)
    assert_same(model, random_inputs(model, rng, inferences(4, 12)), label=f"conv {dtype} {g} pad{padding} act{act}")


@pytest.mark.parametrize("dtype,groups", sample(list(itertools.product(["float32", "int8"], [2, 3])), 2))
def test_grouped_conv2d(dtype, groups):
    rng = np.random.default_rng(seed_of("gconv", dtype, groups))
    model = conv_model(rng, dtype, 1, 7, 6, 2 * groups, 2 * groups, 3, 3, (1, 1), (1, 1), SAME, 1, groups=groups)
    assert_same(model, random_inputs(model, rng, inferences(4, 12)), label=f"grouped conv {dtype} groups={groups}")


DEPTHWISE = [c for c in itertools.product(["float32", "int8"], range(len(GEOMETRIES)), [SAME, VALID], [1, 2, 3])
             if _window_fits(GEOMETRIES[c[1]], c[2])]


@pytest.mark.parametrize("dtype,geometry,padding,multiplier", sample(DEPTHWISE, 10))
def test_depthwise_conv2d(dtype, geometry, padding, multiplier):
    g = GEOMETRIES[geometry]
    rng = np.random.default_rng(seed_of("dw", dtype, geometry, padding, multiplier))
    n, h, w, cin, _, kh, kw, s, d = g
    args = (dtype, n, h, w, cin, 0, kh, kw, s, d, padding, (geometry + multiplier) % 4)
    kwargs = dict(per_channel=geometry % 2 == 1, depthwise=True, depth_multiplier=multiplier)
    no_bias = geometry % 3 == 1
    model = conv_model(np.random.default_rng(seed_of("dw-model", geometry)), *args, bias=not no_bias, **kwargs)
    # TFLM crashes on a depthwise convolution without bias: it runs an equivalent zero-bias twin
    twin = conv_model(np.random.default_rng(seed_of("dw-model", geometry)), *args, bias=True, zero_bias=True,
                      **kwargs) if no_bias else None
    assert_same(model, random_inputs(model, rng, inferences(4, 12)), label=f"dwconv {dtype} {g} pad{padding} "
                f"x{multiplier}", oracle_model=twin)


# -- FULLY_CONNECTED ------------------------------------------------------------------------------

FC_SHAPES = [((1, 16), 8), ((3, 10), 5), ((2, 3, 7), 4), ((1, 64), 1)]
FC = list(itertools.product(["float32", "int8"], [0, 1, 2, 3], [True, False], range(len(FC_SHAPES))))


@pytest.mark.parametrize("dtype,act,bias,shape", sample(FC, 8))
def test_fully_connected(dtype, act, bias, shape):
    rng = np.random.default_rng(seed_of("fc", dtype, act, bias, shape))
    in_shape, units = FC_SHAPES[shape]
    model = fc_model(rng, in_shape, units, dtype, act, bias)
    assert_same(model, random_inputs(model, rng, inferences(6, 25)), label=f"fc {dtype} act{act} {in_shape}")


@pytest.mark.parametrize("shape", sample(list(range(len(FC_SHAPES))), 2))
def test_fully_connected_keep_num_dims(shape):
    rng = np.random.default_rng(shape)
    in_shape, units = FC_SHAPES[shape]
    model = fc_model(rng, in_shape, units, "int8", 0, True, keep_num_dims=True)
    assert_same(model, random_inputs(model, rng, inferences(6, 20)), label=f"fc keep_num_dims {in_shape}")


@pytest.mark.parametrize("act", sample([0, 1, 2, 3], 2))
def test_fully_connected_per_channel(act):
    rng = np.random.default_rng(99)
    model = fc_model(rng, (2, 24), 6, "int8", act, True, per_channel=True)
    assert_same(model, random_inputs(model, rng, inferences(6, 25)), label=f"fc per-channel act{act}")


# -- pooling and SOFTMAX --------------------------------------------------------------------------

# (n, h, w, c, fh, fw, stride)
POOLS = [(1, 8, 8, 3, 2, 2, (2, 2)), (1, 9, 7, 4, 3, 3, (2, 2)), (2, 6, 6, 2, 3, 3, (1, 1)),
         (1, 10, 5, 1, 4, 2, (3, 1)), (1, 3, 3, 5, 3, 3, (1, 1)), (1, 7, 9, 3, 5, 1, (1, 3))]
POOL = [c for c in itertools.product([Op.AVERAGE_POOL_2D, Op.MAX_POOL_2D], ["float32", "int8", "int16"],
                                     range(len(POOLS)), [SAME, VALID], [0, 1, 2, 3])
        if c[3] == SAME or (POOLS[c[2]][4] <= POOLS[c[2]][1] and POOLS[c[2]][5] <= POOLS[c[2]][2])]


@pytest.mark.parametrize("code,dtype,geometry,padding,act", sample(POOL, 10), ids=names)
def test_pool(code, dtype, geometry, padding, act):
    n, h, w, c, fh, fw, s = POOLS[geometry]
    rng = np.random.default_rng(seed_of("pool", int(code), dtype, geometry, padding, act))
    model = pool_model(rng, dtype, code, n, h, w, c, fh, fw, s, padding, act)
    assert_same(model, random_inputs(model, rng, inferences(4, 10)), label=f"{code.name} {dtype} {POOLS[geometry]}")


SOFTMAX = list(itertools.product([(1, 4), (3, 10), (2, 3, 17), (1, 1), (5, 300)],
                                 [("int8", "int8"), ("int8", "int16"), ("float32", "float32")], [1.0, 0.5, 2.5]))


@pytest.mark.parametrize("shape,io,beta", sample(SOFTMAX, 6))
def test_softmax(shape, io, beta):
    rng = np.random.default_rng(seed_of("softmax", shape, io, beta))
    for _ in range(inferences(1, 3)):
        model = softmax_model(rng, shape, io[0], io[1], beta)
        assert_same(model, random_inputs(model, rng, inferences(6, 15), (-10, 10)), label=f"softmax {io} {shape}")


# -- activations: 8-bit models see every one of the 256 input values --------------------------------

ACTIVATIONS = list(itertools.product([Op.RELU, Op.RELU6, Op.LEAKY_RELU, Op.LOGISTIC, Op.TANH],
                                     ["float32", "int8", "int16"]))
ALL_INT8 = np.arange(-128, 128, dtype=np.int8).reshape(1, 256)


def _activation_model(rng, code, dtype, alpha):
    dtype = np.dtype(dtype)
    opts = options("LeakyReluOptions", alpha=alpha) if code == Op.LEAKY_RELU else None
    shape = (1, 256) if dtype == np.int8 else (3, 41)
    if dtype.kind == "f":
        return unary_model(code, shape, dtype, dtype, None, None, opts)
    sigmoid_like = code in (Op.LOGISTIC, Op.TANH)
    if dtype == np.int16:
        in_q = (2.0 ** -int(rng.integers(9, 14)), 0) if sigmoid_like and rng.random() < 0.6 \
            else (rand_scale(rng, 1e-4, 1e-3), 0)
        out_q = (2.0 ** -15, 0) if sigmoid_like else (rand_scale(rng, 1e-4, 1e-3), 0)
        if code == Op.LEAKY_RELU:
            out_q = (rand_scale(rng, 1e-4, 1e-3), rand_zp(rng, np.int8) * 10)
            in_q = (in_q[0], rand_zp(rng, np.int8) * 10)
        return unary_model(code, shape, dtype, dtype, in_q, out_q, opts)
    in_q = (rand_scale(rng, 0.005, 0.2), rand_zp(rng, dtype))
    out_q = {Op.LOGISTIC: (1 / 256, -128), Op.TANH: (1 / 128, 0)}.get(
        code, (rand_scale(rng, 0.005, 0.2), rand_zp(rng, dtype)))
    return unary_model(code, shape, dtype, dtype, in_q, out_q, opts)


@pytest.mark.parametrize("code,dtype", sample(ACTIVATIONS, 15), ids=names)
def test_activation(code, dtype):
    rng = np.random.default_rng(seed_of("act", int(code), dtype))
    for trial in range(inferences(2, 8)):
        alpha = float(rng.choice([0.2, 0.01, -0.5, 1.5])) if code == Op.LEAKY_RELU else None
        model = _activation_model(rng, code, dtype, alpha)
        batches = [[ALL_INT8]] if dtype == "int8" else random_inputs(model, rng, inferences(5, 20), (-12.0, 12.0))
        assert_same(model, batches, label=f"{code.name} {dtype} trial {trial}")


# -- ADD, SUB, MUL ----------------------------------------------------------------------------------

BINARY_SHAPES = [((2, 3), (2, 3), (2, 3)), ((4, 5), (5,), (4, 5)), ((1, 3, 1), (2, 1, 4), (2, 3, 4)),
                 ((2, 3, 4, 5), (1, 1, 4, 1), (2, 3, 4, 5)), ((1,), (3, 7), (3, 7)),
                 ((2, 3, 2, 2, 5), (1, 3, 1, 2, 1), (2, 3, 2, 2, 5)),
                 ((2, 1, 2, 1, 2, 1), (1, 2, 1, 2, 1, 2), (2, 2, 2, 2, 2, 2))]
BINARY = list(itertools.product([Op.ADD, Op.SUB, Op.MUL], ["float32", "int8", "int16", "int32"],
                                range(len(BINARY_SHAPES)), [0, 1, 3]))


@pytest.mark.parametrize("code,dtype,shapes,act", sample(BINARY, 14), ids=names)
def test_binary(code, dtype, shapes, act):
    rng = np.random.default_rng(seed_of("bin", int(code), dtype, shapes, act))
    if dtype == "int32" and code != Op.MUL and act:
        with pytest.raises(UnsupportedOperator, match="int32"):
            plan_model(binary_model(rng, code, *BINARY_SHAPES[shapes], dtype, act))
        return
    for constant in (False, True):
        model = binary_model(rng, code, *BINARY_SHAPES[shapes], dtype, act, const2=constant)
        assert_same(model, random_inputs(model, rng, inferences(3, 8), (-5, 5)),
                    label=f"{code.name} {dtype} {BINARY_SHAPES[shapes]} act{act} constant={constant}")


def test_int32_add_with_activation_is_refused():
    model = binary_model(np.random.default_rng(0), Op.ADD, (2, 3), (2, 3), (2, 3), "int32", 1)
    with pytest.raises(UnsupportedOperator, match="int32"):
        plan_model(model)


# -- MEAN -----------------------------------------------------------------------------------------

MEANS = [((1, 4, 5, 3), [1, 2], True), ((2, 3, 3, 4), [2, 1], True), ((1, 4, 5, 3), [1, 2], False),
         ((2, 3, 4), [1], False), ((2, 3, 4), [-1], True), ((3, 4, 5), [0, 2], False), ((6,), [0], True),
         ((2, 3, 2, 2, 3), [1, 3, 3], False), ((1, 4, 4, 2), [-3, -2], True)]
MEAN = [c for c in itertools.product(["float32", "int8", "int16"], range(len(MEANS)), [False, True])
        if not (c[0] == "float32" and c[2])]


@pytest.mark.parametrize("dtype,case,same", sample(MEAN, 8))
def test_mean(dtype, case, same):
    rng = np.random.default_rng(seed_of("mean", dtype, case, same))
    shape, axes, keep = MEANS[case]
    model = mean_model(rng, shape, axes, keep, dtype, same_quant=same)
    if dtype != "float32" and len(shape) > 4:
        with pytest.raises(UnsupportedOperator, match="rank"):
            plan_model(model)
        return
    assert_same(model, random_inputs(model, rng, inferences(4, 10), (-8, 8)), label=f"mean {dtype} {shape} {axes}")


# -- PAD, CONCATENATION, STRIDED_SLICE ------------------------------------------------------------

COPY_TYPES = ["float32", "int8", "int16", "int32"]
COPY_Q = {"int8": (0.1, 3), "int16": (0.01, 0)}
PADS = [((2, 3, 4), [(1, 0), (0, 2), (1, 1)]), ((5,), [(3, 2)]), ((1, 4, 4, 2), [(0, 0), (1, 1), (2, 0), (0, 0)]),
        ((2, 1, 2, 2, 3), [(1, 0), (0, 1), (0, 0), (2, 1), (0, 3)])]


@pytest.mark.parametrize("dtype,case,v2", sample(list(itertools.product(COPY_TYPES, range(len(PADS)), [False, True])),
                                                 6))
def test_pad(dtype, case, v2):
    rng = np.random.default_rng(seed_of("pad", dtype, case, v2))
    shape, pads = PADS[case]
    model = pad_model(rng, shape, pads, dtype, v2_value=(7 if v2 else None), q=COPY_Q.get(dtype))
    assert_same(model, random_inputs(model, rng, inferences(3, 6)), label=f"pad {dtype} {shape} v2={v2}")


CONCATS = [([(2, 3), (2, 4)], 1), ([(2, 3), (1, 3), (4, 3)], 0), ([(1, 2, 3, 4), (1, 2, 1, 4)], 2),
           ([(2, 2, 2), (2, 2, 3)], -1), ([(3,), (5,), (1,)], 0)]


@pytest.mark.parametrize("dtype,case", sample(list(itertools.product(COPY_TYPES, range(len(CONCATS)))), 5))
def test_concatenation(dtype, case):
    rng = np.random.default_rng(seed_of("concat", dtype, case))
    shapes, axis = CONCATS[case]
    q = COPY_Q.get(dtype)
    model = concat_model(rng, shapes, axis, dtype, qs=[q] * len(shapes) if q else None, out_q=q)
    assert_same(model, random_inputs(model, rng, inferences(3, 6)), label=f"concat {dtype} {shapes} axis {axis}")


# (shape, begin, end, strides, begin_mask, end_mask, shrink, offset, out_shape)
SLICES = [((4, 5), [1, 0], [3, 5], [1, 2], 0, 0, 0, False, (2, 3)),
          ((6,), [-1], [0], [-2], 0, 0, 0, False, (3,)),
          ((3, 4, 5), [0, 1, 1], [0, 3, -1], [1, 1, 1], 1, 1, 0, False, (3, 2, 3)),
          ((2, 3, 4), [1, 0, 2], [2, 3, 3], [1, 1, 1], 0, 0, 0b101, False, (3,)),
          ((1, 4, 6, 2), [0, 3, 5, 0], [1, 0, 0, 2], [1, -1, -2, 1], 0, 0b0110, 0, False, (1, 4, 3, 2)),
          ((2, 3, 2, 4), [0, 0, 0, 1], [2, 3, 2, 4], [2, 2, 1, 2], 0, 0, 0, False, (1, 2, 2, 2)),
          ((5, 4), [-4, 0], [-1, 9], [1, 3], 0, 0, 0, False, (3, 2))]


@pytest.mark.parametrize("dtype,case", sample(list(itertools.product(COPY_TYPES, range(len(SLICES)))), 7))
def test_strided_slice(dtype, case):
    rng = np.random.default_rng(seed_of("slice", dtype, case))
    shape, b, e, s, bm, em, sh, off, out_shape = SLICES[case]
    model = strided_slice_model(shape, b, e, s, out_shape, dtype, bm, em, sh, off, q=COPY_Q.get(dtype))
    assert_same(model, random_inputs(model, rng, inferences(3, 6)), label=f"strided_slice {dtype} case {case}")


def test_strided_slice_offset_is_refused():
    model = strided_slice_model((5, 4), [1, 1], [2, 2], [1, 1], (2, 2), "float32", offset=True)
    with pytest.raises(UnsupportedOperator, match="offset"):
        plan_model(model)


# -- QUANTIZE and DEQUANTIZE ----------------------------------------------------------------------

ZERO_POINTS = {I8: (-128, 127), U8: (0, 255), I16: (-300, 300), I32: (-1000, 1000)}
REQUANTIZE_PAIRS = [(I8, I8), (I8, U8), (I8, I16), (I8, I32), (U8, I8), (I16, I8), (I16, I16), (I16, I32),
                    (I32, I8), (I32, I16)]


def _quantization(rng, dtype, scales=(1e-3, 1.0)):
    lo, hi = ZERO_POINTS[dtype]
    return float(np.float32(np.exp(rng.uniform(*np.log(scales))))), int(rng.integers(lo, hi, endpoint=True))


@pytest.mark.parametrize("out_dtype", [I8, I16], ids=["int8", "int16"])
def test_quantize_float(out_dtype):
    rng = np.random.default_rng(7)
    for _ in range(inferences(3, 12)):
        q = _quantization(rng, out_dtype, (1e-3, 0.5))
        model = unary_model(Op.QUANTIZE, (2, 37), F32, out_dtype, None, q)
        span = q[0] * 300
        batches = random_inputs(model, rng, inferences(10, 40), (-span, span))
        # exact ties (x / scale = k + 0.5) decide the rounding mode
        batches.append([(((np.arange(74).reshape(2, 37) - 37) + 0.5) * q[0]).astype(F32)])
        assert_same(model, batches, label=f"quantize float32->{np.dtype(out_dtype)} {q}")


@pytest.mark.parametrize("pair", sample(REQUANTIZE_PAIRS, 5), ids=lambda p: f"{np.dtype(p[0])}->{np.dtype(p[1])}")
def test_requantize(pair):
    rng = np.random.default_rng(11)
    a, b = pair
    for trial in range(inferences(3, 10)):
        qa, qb = _quantization(rng, a), _quantization(rng, b)
        if trial == 0:
            qb = (qa[0], qb[1])  # the same scale: TFLM's shift-only path
        model = unary_model(Op.QUANTIZE, (3, 5, 7), a, b, qa, qb)
        assert_same(model, random_inputs(model, rng, inferences(8, 30)), label=f"requantize {pair} {qa} {qb}")


@pytest.mark.parametrize("in_dtype", [I8, U8, I16], ids=["int8", "uint8", "int16"])
def test_dequantize(in_dtype):
    rng = np.random.default_rng(3)
    for _ in range(inferences(3, 10)):
        q = _quantization(rng, in_dtype, (1e-4, 10.0))
        model = unary_model(Op.DEQUANTIZE, (4, 33), in_dtype, F32, q, None)
        assert_same(model, random_inputs(model, rng, inferences(8, 30)), label=f"dequantize {q}")


# -- SVDF and LSTM: each model runs as one sequence, so the state carried between inferences is
# compared too ---------------------------------------------------------------------------------------

SVDF = list(itertools.product([(1, 16, 4, 1, 8), (2, 10, 3, 2, 5), (3, 7, 2, 3, 4)], ["int16", "int8"],
                              [True, False]))


@pytest.mark.parametrize("dims,state,bias", sample(SVDF, 4))
def test_svdf(dims, state, bias):
    rng = np.random.default_rng(seed_of("svdf", dims, state, bias))

    def make(**kwargs):
        return svdf_model(np.random.default_rng(seed_of("svdf-model", dims, state)), *dims, state_dtype=state, **kwargs)

    # TFLM dereferences a missing bias: it runs a zero-bias twin instead
    model, twin = make(bias=bias), None if bias else make(zero_bias=True)
    assert_same(model, random_inputs(model, rng, inferences(10, 30)), label=f"svdf {dims} {state} bias={bias}",
                oracle_model=twin)


LSTMS = [(1, 5, 6, 4, False, 0.0, -12), (2, 4, 3, 5, False, 10.0, -12), (3, 3, 4, 3, True, 0.0, -11),
         (2, 6, 5, 4, True, 3.0, -13), (1, 8, 2, 6, False, 1.5, -15)]


@pytest.mark.parametrize("case", sample(list(range(len(LSTMS))), 3))
def test_lstm(case):
    rng = np.random.default_rng(seed_of("lstm", case))
    model = lstm_model(rng, *LSTMS[case])
    assert_same(model, random_inputs(model, rng, inferences(8, 25)), label=f"lstm {LSTMS[case]}")
