"""Rune's model engine on the board computes exactly what TensorFlow Lite Micro computes on the
desktop: the real models, and single-operator models that sweep the shapes the Cortex-M4 DSP
kernels treat differently (channel counts not a multiple of four, odd pixel counts, strides,
dilations, padding, groups, depth multipliers), plus the float kernels that call the C library."""

from __future__ import annotations

import sys

import numpy as np
import pytest

from conftest import ROOT, SHARED

sys.path.insert(0, str(ROOT / "tests"))
from engine_testmodels import conv_model, fc_model, softmax_model  # noqa: E402
from rune.boards import find_board  # noqa: E402
from rune.engine.on_device import run_on_board  # noqa: E402
from rune.tflite.opcodes import Op  # noqa: E402
from rune.tflite.writer import unary_model  # noqa: E402

SAME, VALID = 0, 1


def _models():
    rng = np.random.default_rng(7)
    yield "hello_world_int8", (SHARED / "models" / "hello_world_int8.tflite").read_bytes()
    yield "hello_world_float", (SHARED / "models" / "hello_world_float.tflite").read_bytes()
    yield "micro_speech_quantized", (SHARED / "models" / "micro_speech_quantized.tflite").read_bytes()
    yield "keyword_scrambled", (SHARED / "models" / "keyword_scrambled.tflite").read_bytes()
    yield "trained_lstm_int8", (SHARED / "models" / "trained_lstm_int8.tflite").read_bytes()
    # (h, w, cin, cout, kh, kw, stride, dilation, padding, groups)
    for h, w, cin, cout, kh, kw, stride, dilation, padding, groups in [
            (7, 5, 13, 6, 1, 1, (1, 1), (1, 1), VALID, 1),   # pointwise, odd pixels, channels % 4 != 0
            (8, 8, 16, 9, 1, 1, (2, 2), (1, 1), VALID, 1),   # strided pointwise, an odd number of filters
            (9, 7, 6, 5, 3, 3, (2, 1), (1, 1), SAME, 1),     # padding: partial tap rows
            (10, 10, 4, 4, 3, 3, (1, 1), (2, 2), SAME, 1),   # dilation: taps one at a time
            (7, 6, 6, 6, 3, 3, (1, 1), (1, 1), SAME, 3)]:    # grouped
        yield (f"conv {h}x{w}x{cin}->{cout} {kh}x{kw} s{stride} d{dilation} pad{padding} g{groups}",
               conv_model(rng, "int8", 1, h, w, cin, cout, kh, kw, stride, dilation, padding, 1, groups=groups,
                          per_channel=True))
    for h, w, cin, multiplier, kh, kw, stride, padding in [
            (9, 9, 8, 1, 3, 3, (1, 1), SAME),    # lanes of four channels
            (8, 7, 6, 1, 3, 3, (2, 2), SAME),    # four channels and two left over
            (11, 9, 1, 8, 4, 3, (2, 2), VALID),  # one input channel feeding eight (micro_speech's shape)
            (6, 6, 3, 2, 3, 3, (1, 1), SAME)]:   # a multiplier with several input channels: one at a time
        yield (f"dwconv {h}x{w}x{cin} x{multiplier} {kh}x{kw} s{stride} pad{padding}",
               conv_model(rng, "int8", 1, h, w, cin, 0, kh, kw, stride, (1, 1), padding, 1, per_channel=True,
                          depthwise=True, depth_multiplier=multiplier))
    yield "fc 1x37 -> 7", fc_model(rng, (1, 37), 7, "int8", 1, True)
    yield "fc 3x16 -> 5 per channel", fc_model(rng, (3, 16), 5, "int8", 0, True, per_channel=True)
    yield "softmax f32", softmax_model(rng, (1, 10), "float32", "float32")
    for code in (Op.LOGISTIC, Op.TANH):
        yield f"{code.name} f32", unary_model(code, (1, 16), np.float32, np.float32)


MODELS = dict(_models())
# TFLM's float kernels call the C library's expf and tanhf, which differ between glibc (the
# desktop) and newlib (the device) in the last place for some inputs (docs/engine.md).
LIBM_ULPS = {"softmax f32": 2, "LOGISTIC f32": 2, "TANH f32": 2}


@pytest.mark.parametrize("name", list(MODELS))
def test_the_engine_on_the_board_matches_tflm(name, board_port):
    board, port = board_port
    board = board or "netduinoplus2"
    run = run_on_board(MODELS[name], find_board(board), 4, port=port, seed=3)
    if name in LIBM_ULPS:
        assert run.max_ulp <= LIBM_ULPS[name], f"{name} differs by {run.max_ulp} ulp:\n{run.first_difference}"
    else:
        assert run.identical == run.inferences, f"{name} differs on {board}:\n{run.first_difference}"
    assert run.instructions > 0


def test_model_check_on_device(board_port):
    """`rune model-check --on-device` for a user's model: the board's outputs against TFLM's."""
    import json
    import subprocess

    board, port = board_port
    command = [sys.executable, "-m", "rune", "model-check", str(SHARED / "models" / "micro_speech_quantized.tflite"),
               "--board", board or "stm32f4", "--on-device", "--inputs", "3", "--json"]
    result = subprocess.run(command + (["--port", port] if port else []), capture_output=True, text=True, timeout=600,
                            cwd=ROOT)
    assert result.returncode == 0, result.stderr
    device = json.loads(result.stdout)["device"]
    assert device["inferences"] == 3 and device["identical_fraction"] == 1.0
    assert 100_000 < device["instructions"] < 10_000_000 and device["engine_code_bytes"] > 1000


def test_per_operator_profile(board_port):
    """A profiled firmware reports each operator's kernel and cycles, and they add up to the model's."""
    from rune.engine import kernels

    board, port = board_port
    run = run_on_board(MODELS["hello_world_int8"], find_board(board or "netduinoplus2"), 2, port=port, profile=True)
    assert [kernel for kernel, _ in run.profile] == [kernels.FC_I8] * 3
    assert all(instructions > 0 for _, instructions in run.profile)
    assert sum(instructions for _, instructions in run.profile) <= run.instructions
