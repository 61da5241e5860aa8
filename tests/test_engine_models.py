"""The engine on the real models (byte for byte against TFLM, memory against TFLM's), its plan
format and arena planner, and its C API used from C as a firmware uses it."""

from __future__ import annotations

import re
import shutil
import struct
import subprocess
from pathlib import Path

import numpy as np
import pytest

from engine_helpers import assert_same, inferences, load_model, random_inputs, sample
from rune.engine import kernels
from rune.engine.arena import Buf, plan_arena
from rune.engine.native import SANITIZE_FLAGS, NativeEngine, build_library
from rune.engine.ops.geometry import out_size, pad_amount, sliding_window_slack
from rune.engine.plan import HEADER_BYTES, MAGIC, STORE_ARENA, STORE_MODEL
from rune.engine.planner import plan_model
from rune.engine.sources import source_dir

HERE = Path(__file__).resolve().parent

# (model, inferences with RUNE_ENGINE_FULL=0, by default, range of float inputs)
MODELS = [
    ("hello_world_int8", 50, 500, None),
    ("hello_world_float", 50, 500, (0.0, 6.2832)),
    ("micro_speech_quantized", 30, 300, None),
    ("person_detect", 10, 200, None),
    ("keyword_scrambled", 40, 300, None),
    ("trained_lstm_int8", 30, 300, None),
]


@pytest.mark.parametrize("name,ci,full,float_range", MODELS, ids=[m[0] for m in MODELS])
def test_real_model_is_bit_exact(name, ci, full, float_range):
    model = load_model(name)
    batches = random_inputs(model, np.random.default_rng(1234), inferences(ci, full), float_range or (-4.0, 4.0))
    # one long sequence, so that SVDF and LSTM state carried across inferences is compared too
    assert_same(model, batches, label=name)


def test_every_input_of_the_int8_sine_model():
    batches = [[np.array([[v]], dtype=np.int8)] for v in range(-128, 128)]
    assert_same(load_model("hello_world_int8"), batches, label="hello_world_int8")


@pytest.mark.parametrize("name", ["keyword_scrambled", "trained_lstm_int8"])
def test_reset_clears_state_like_tflm(name):
    model = load_model(name)
    batches = random_inputs(model, np.random.default_rng(77), inferences(8, 40))
    assert_same(model, batches, reset_between=True, label=f"{name} with resets")


# TFLM's arena for these models on a Cortex-M4 (TFLM's own figures); the engine needs at least 25 %
# less RAM: arena and engine struct.
TFLM_ARENA = {"hello_world_int8": 672, "micro_speech_quantized": 6788, "person_detect": 82284}


@pytest.mark.parametrize("name", sorted(TFLM_ARENA))
def test_ram_at_least_a_quarter_below_tflm(name):
    plan = plan_model(load_model(name))
    assert plan.ram_bytes <= 0.75 * TFLM_ARENA[name], (plan.ram_bytes, TFLM_ARENA[name])


def test_kernel_ids_match_the_c_header():
    header = (source_dir() / "rune_plan.h").read_text()
    in_c = {m.group(1): int(m.group(2)) for m in re.finditer(r"#define RUNE_K_(\w+) (\d+)", header)}
    count = in_c.pop("COUNT")
    in_python = {name: value for name, value in vars(kernels).items() if name.isupper()}
    assert in_c == in_python
    assert max(in_c.values()) < count


def test_plan_header_and_weights_in_place():
    model = load_model("person_detect")
    plan = plan_model(model)
    data = plan.to_bytes()
    assert plan_model(model).to_bytes() == data  # deterministic
    assert struct.unpack_from("<IHHI", data) == (MAGIC, 1, HEADER_BYTES, len(data))
    assert len(data) < len(model) // 10  # the weights stay in the model
    constants = [t for t in plan.tensors if t.storage == STORE_MODEL]
    assert constants and all(t.offset % 4 == 0 for t in constants)
    assert all(t.offset % 4 == 0 for t in plan.tensors if t.storage == STORE_ARENA)


# -- the arena planner ------------------------------------------------------------------------------

def _brute_force_slack(n, ih, iw, ic, oh, ow, oc, fh, fw, sh, sw, dh, dw, ph, pw, in_size, out_size_):
    """Simulates raster-order pixels: pixel p's writes must stay below every input byte pixels >= p read."""
    reads = []
    for b in range(n):
        for y in range(oh):
            for x in range(ow):
                taps = [((b * ih + y * sh - ph + dh * fy) * iw + x * sw - pw + dw * fx) * ic * in_size
                        for fy in range(fh) for fx in range(fw)
                        if 0 <= y * sh - ph + dh * fy < ih and 0 <= x * sw - pw + dw * fx < iw]
                reads.append(min(taps) if taps else 1 << 62)
    best = min(min(reads[p:]) - (p + 1) * oc * out_size_ for p in range(len(reads)))
    return min(best, n * ih * iw * ic * in_size)


@pytest.mark.parametrize("seed", sample(list(range(40)), 12))
def test_sliding_window_slack_matches_a_brute_force(seed):
    rng = np.random.default_rng(seed)
    n, ih, iw = int(rng.integers(1, 3)), int(rng.integers(1, 9)), int(rng.integers(1, 9))
    ic, oc = int(rng.integers(1, 4)), int(rng.integers(1, 4))
    fh, fw = int(rng.integers(1, 4)), int(rng.integers(1, 4))
    sh, sw, dh, dw = (int(v) for v in rng.integers(1, 3, 4))
    padding = int(rng.integers(0, 2))
    oh, ow = out_size(padding, ih, fh, sh, dh), out_size(padding, iw, fw, sw, dw)
    if oh < 1 or ow < 1:
        return
    ph, pw = pad_amount(sh, dh, ih, fh, oh), pad_amount(sw, dw, iw, fw, ow)
    isz, osz = int(rng.choice([1, 2, 4])), int(rng.choice([1, 2, 4]))
    assert sliding_window_slack(n, ih, iw, ic * isz, oh, ow, oc * osz, fh, fw, sh, sw, dh, dw, ph, pw) == \
        _brute_force_slack(n, ih, iw, ic, oh, ow, oc, fh, fw, sh, sw, dh, dw, ph, pw, isz, osz)


@pytest.mark.parametrize("seed", sample(list(range(30)), 10))
def test_arena_planner_respects_lifetimes(seed):
    rng = np.random.default_rng(seed)
    bufs = []
    for _ in range(int(rng.integers(2, 25))):
        first = int(rng.integers(0, 10))
        bufs.append(Buf(4 * int(rng.integers(1, 50)), first, first + int(rng.integers(0, 4))))
    for i in range(len(bufs) - 1):  # a few in-place pairs
        a, b = bufs[i], bufs[i + 1]
        if rng.random() < 0.3 and a.last == b.first:
            slack = int(rng.integers(-40, 40))
            b.below[i] = slack
            a.above[i + 1] = slack
    offsets, total = plan_arena(bufs)
    for i, a in enumerate(bufs):
        for j, b in enumerate(bufs[i + 1:], i + 1):
            overlap_in_time = a.first <= b.last and b.first <= a.last
            oa, ob = offsets[i], offsets[j]
            if not overlap_in_time or oa + a.size <= ob or ob + b.size <= oa:
                continue
            if j in a.below:
                assert oa <= ob + a.below[j]
            elif j in a.above:
                assert ob <= oa + a.above[j]
            else:
                raise AssertionError(f"buffers {i} and {j} overlap in space and time")
    assert total >= max(b.size for b in bufs)
    assert all(o % 4 == 0 for o in offsets)


# -- the C API from C -------------------------------------------------------------------------------

@pytest.fixture(scope="module")
def c_demo(tmp_path_factory) -> Path:
    """tests/engine_c_api_demo.c linked with the engine's AddressSanitizer and UBSan build."""
    exe = tmp_path_factory.mktemp("c_api") / "demo"
    library = build_library(sanitize=True)
    subprocess.run(["gcc", "-std=c99", "-g", "-Wall", "-Wextra", "-Werror", *SANITIZE_FLAGS, "-I", str(source_dir()),
                    str(HERE / "engine_c_api_demo.c"), str(library), f"-Wl,-rpath,{library.parent}", "-o", str(exe)],
                   check=True)
    return exe


@pytest.mark.parametrize("name", ["hello_world_int8", "hello_world_float", "micro_speech_quantized",
                                  "keyword_scrambled", "trained_lstm_int8"])
def test_a_c_program_gets_what_the_binding_gets(c_demo, tmp_path, name):
    model = load_model(name)
    plan = plan_model(model)
    (tmp_path / "model.tflite").write_bytes(model)
    (tmp_path / "model.plan").write_bytes(plan.to_bytes())
    run = subprocess.run([str(c_demo), str(tmp_path / "model.plan"), str(tmp_path / "model.tflite")],
                         capture_output=True, text=True, env={"ASAN_OPTIONS": "detect_leaks=1"})
    assert run.returncode == 0, run.stdout + run.stderr
    engine = NativeEngine(plan.to_bytes(), model)
    expected = engine.invoke([bytes(np.zeros(i.shape, i.dtype)) for i in plan.inputs])
    assert run.stdout.split() == [o.hex() for o in expected]


def test_the_header_compiles_as_cpp(tmp_path):
    if not shutil.which("g++"):
        pytest.skip("no C++ compiler")
    source = tmp_path / "t.cpp"
    source.write_text('#include "rune_engine.h"\n'
                      "int main() { rune_engine e; return rune_engine_invoke(&e) == RUNE_ENGINE_OK; }\n")
    subprocess.run(["g++", "-std=c++11", "-Wall", "-Werror", "-I", str(source_dir()), "-c", str(source), "-o",
                    str(tmp_path / "t.o")], check=True)
