"""CONV_2D and DEPTHWISE_CONV_2D planning (mirrors TFLM ConvPrepare / DepthwiseConvPrepare).

Params (int32 words): a 16-word geometry block
  N, IH, IW, IC, FH, FW, OH, OW, OC, SH, SW, DH, DW, PH, PW, X
(X = filter input depth for CONV_2D, depth multiplier for DEPTHWISE_CONV_2D), then
  float: act_min, act_max (f32 bits)
  int8 : input_offset, output_offset, act_min, act_max, mult[OC], shift[OC]
"""

from __future__ import annotations

from rune.engine import kernels, quant
from rune.engine.ops import OpPlan, register
from rune.engine.ops.geometry import sliding_window_slack, window
from rune.engine.schema import BuiltinOptions
from rune.tflite.opcodes import Op, TypeCode as T


@register(Op.CONV_2D)
def plan_conv(ctx):
    opts = ctx.options(BuiltinOptions.Conv2DOptions)
    padding = opts.i8(0) if opts else 0
    s_w, s_h = (opts.i32(1), opts.i32(2)) if opts else (0, 0)
    act = opts.u8(3) if opts else 0
    d_w, d_h = (opts.i32(4, 1), opts.i32(5, 1)) if opts else (1, 1)
    inp, filt, bias, out = _operands(ctx)
    if len(filt.shape) != 4:
        ctx.invalid(f"filter {filt.label()} must be 4-D [OC, FH, FW, IC/groups]")
    oc, f_h, f_w, f_ic = filt.shape
    n, i_h, i_w, i_c = inp.shape
    if f_ic < 1 or i_c % f_ic:
        ctx.invalid(f"input depth {i_c} is not a multiple of the filter depth {f_ic}")
    groups = i_c // f_ic
    if out.shape[3] != oc or oc % groups:
        ctx.invalid(f"output depth {out.shape[3]} does not fit {oc} filters in {groups} groups")
    return _finish(ctx, kernels.CONV_F32, kernels.CONV_I8, inp, filt, bias, out, padding, act,
                   (f_h, f_w, s_h, s_w, d_h, d_w), f_ic, quant_axis=0)


@register(Op.DEPTHWISE_CONV_2D)
def plan_depthwise(ctx):
    opts = ctx.options(BuiltinOptions.DepthwiseConv2DOptions)
    padding = opts.i8(0) if opts else 0
    s_w, s_h = (opts.i32(1), opts.i32(2)) if opts else (0, 0)
    mult = opts.i32(3) if opts else 0
    act = opts.u8(4) if opts else 0
    d_w, d_h = (opts.i32(5, 1), opts.i32(6, 1)) if opts else (1, 1)
    inp, filt, bias, out = _operands(ctx)
    if len(filt.shape) != 4 or filt.shape[0] != 1:
        ctx.invalid(f"filter {filt.label()} must be 4-D [1, FH, FW, OC]")
    _, f_h, f_w, oc = filt.shape
    i_c = inp.shape[3]
    if out.shape[3] != oc:
        ctx.invalid(f"output depth {out.shape[3]} differs from filter depth {oc}")
    if oc != i_c * mult:
        # TFLM derives the multiplier from the shapes' ratio; insist they agree.
        ctx.invalid(f"output depth {oc} is not input depth {i_c} x depth_multiplier {mult}")
    return _finish(ctx, kernels.DWCONV_F32, kernels.DWCONV_I8, inp, filt, bias, out, padding, act,
                   (f_h, f_w, s_h, s_w, d_h, d_w), mult, quant_axis=3)


def _operands(ctx):
    ctx.counts((2, 3), 1)
    inp, filt, out = ctx.input(0), ctx.input(1), ctx.output(0)
    bias = ctx.input(2, optional=True)
    ctx.check_type(inp, (T.FLOAT32, T.INT8), "input")
    if out.type_code != inp.type_code:
        ctx.invalid("output type differs from input type")
    if len(inp.shape) != 4 or len(out.shape) != 4:
        ctx.invalid("input and output must be 4-D NHWC")
    if inp.shape[0] != out.shape[0]:
        ctx.invalid("input and output batch sizes differ")
    ctx.constant(filt, "filter")
    ctx.check_type(filt, (T.FLOAT32,) if inp.type_code == T.FLOAT32 else (T.INT8,), "filter")
    if bias is not None:
        ctx.constant(bias, "bias")
        ctx.check_type(bias, (T.FLOAT32,) if inp.type_code == T.FLOAT32 else (T.INT32,), "bias")
    return inp, filt, bias, out


def _finish(ctx, k_float, k_int8, inp, filt, bias, out, padding, act, win, x, quant_axis):
    f_h, f_w, s_h, s_w, d_h, d_w = win
    n, i_h, i_w, i_c = inp.shape
    o_h, o_w, oc = out.shape[1:]
    if bias is not None and bias.count != oc:
        ctx.invalid(f"bias {bias.label()} must hold {oc} values")
    ctx.activation(act)
    p_h, p_w = window(ctx, padding, i_h, i_w, f_h, f_w, s_h, s_w, d_h, d_w, out.shape)
    geometry = [n, i_h, i_w, i_c, f_h, f_w, o_h, o_w, oc, s_h, s_w, d_h, d_w, p_h, p_w, x]
    operands = [inp.index, filt.index, bias.index if bias is not None else -1]
    size = inp.element_size
    slack = sliding_window_slack(n, i_h, i_w, i_c * size, o_h, o_w, oc * size,
                                 f_h, f_w, s_h, s_w, d_h, d_w, p_h, p_w)
    if inp.type_code == T.FLOAT32:
        lo, hi = quant.activation_range_float(act)
        params = geometry + [quant.f32_bits(lo), quant.f32_bits(hi)]
        return OpPlan(k_float, operands, [out.index], params, inplace={0: slack})

    in_scale, in_zp = ctx.quant(inp, "input")
    out_scale, out_zp = ctx.quant(out, "output")
    scales = ctx.channel_scales(filt, oc, quant_axis)
    if any(z != 0 for z in filt.quantization.zero_points):
        ctx.unsupported("int8 filters must be symmetric (zero point 0)")
    # PopulateConvolutionQuantizationParams: double(input) * double(filter) / double(output)
    mults = [quant.quantize_multiplier(in_scale * s / out_scale) for s in scales]
    if len(mults) == 1:
        mults = mults * oc
    act_min, act_max = quant.activation_range_quantized(act, out.type_code, out_scale, out_zp)
    for z, t in ((in_zp, inp), (out_zp, out)):
        if not -128 <= z <= 127:
            ctx.invalid(f"zero point {z} of {t.label()} is outside int8")
    params = geometry + [-in_zp, out_zp, act_min, act_max]
    params += [m for m, _ in mults] + [s for _, s in mults]
    # A pointwise convolution gets scratch for its per-channel sums (bias plus the input offset
    # times the filter's sum) and for its second pixel's outputs (conv.c).
    pointwise = k_int8 == kernels.CONV_I8 and f_h == f_w == 1 and x == i_c and p_h == p_w == 0
    return OpPlan(k_int8, operands, [out.index], params, scratch=[5 * oc] if pointwise else [],
                  inplace={0: slack})
