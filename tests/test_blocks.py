"""Every processing block's C implementation against its numpy reference.

Inputs come from hypothesis (including zeros, the extremes of each element type, NaN and
infinities for floats) for every case, shapes from the cases (SIZE_ONE_CASES gives every block
dimensions of 1); the C runs natively, and a set of edge cases also runs under AddressSanitizer
and UndefinedBehaviorSanitizer with exactly-sized buffers. Outputs must be identical, except for
blocks that call the C library's exp, where the tolerance is stated with the case. Stateful
blocks (the streaming fft and noise_filtering) run one to six times in a row, init before the
first run only, against their reference carrying its state through the same inputs. The
comparison is rune.blocks.conformance's, as in `rune proc-block test`.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path

import numpy as np
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from rune.blocks.conformance import compare_sequence, draw_sequence, native_runs
from rune.blocks.harness import BlockInstance
from rune.blocks.manifest import BlockTypeError
from rune.blocks.registry import builtin_names, resolve
from rune.tensors import ElementType, TensorType

NUMERIC = [t for t in ElementType if t.is_numeric]


@dataclass
class Case:
    block: str
    args: dict
    inputs: list[tuple[str, tuple[int, ...]]]
    tolerance: float = 0.0  # relative, for blocks that use libm's transcendental functions
    # input index -> (lowest, highest): the values that input takes, for hypothesis and the edge cases
    bounds: dict = field(default_factory=dict)

    def elements(self) -> dict:
        """The hypothesis element strategies of the bounded inputs."""
        strategies = {}
        for index, (lowest, highest) in self.bounds.items():
            dtype = np.dtype(ElementType.parse(self.inputs[index][0]).numpy_name)
            strategies[index] = (st.floats(lowest, highest, width=dtype.itemsize * 8) if dtype.kind == "f"
                                 else st.integers(lowest, highest))
        return strategies

    @property
    def id(self) -> str:
        shapes = "_".join(f"{t}{list(s)}" for t, s in self.inputs)
        args = ",".join(f"{k}={v}" for k, v in self.args.items())
        return f"{self.block}-{shapes}-{args}"[:80]


CASES = [
    *[Case("modulo", {"modulus": m}, [(t, (3, 5))]) for t, m in
      [("f32", 6.283185307179586), ("f64", -2.5), ("i8", 7), ("i8", -1), ("u8", 3), ("i16", 100), ("u16", 9),
       ("i32", -13), ("u32", 1000), ("i64", 3), ("u64", 17),
       # each type's extremes: (T)-1 is the maximum of an unsigned type, an ordinary divisor
       ("u8", 255), ("u16", 65535), ("u32", 4294967295), ("u64", 2**64 - 2048), ("i8", -128), ("i8", 127),
       ("i64", -2**63)]],
    *[Case("normalize", {}, [(t, s)]) for t, s in
      [("f32", (4, 4)), ("f64", (7,)), ("u8", (1, 9)), ("i8", (1,)), ("i32", (5,)), ("u64", (3,)), ("i64", (2, 2))]],
    Case("softmax", {}, [("f32", (1, 4))], tolerance=1e-6),
    Case("softmax", {}, [("f32", (3, 7))], tolerance=1e-6),
    *[Case("argmax", {}, [(t, s)]) for t, s in [("f32", (1, 10)), ("i8", (4,)), ("u16", (1,)), ("f64", (2, 3))]],
    *[Case("most_confident_indices", {"count": c}, [(t, s)]) for t, s, c in
      [("f32", (1, 10), 3), ("i8", (5,), 5), ("u8", (1, 1), 1), ("f64", (8,), 2), ("i32", (2, 3), 4)]],
    Case("label", {"labels": ["zero", "one", "two", "three"]}, [("u32", (3,))],
         bounds={0: (0, 3)}),
    Case("label", {"labels": "a,b", "fallback": "?"}, [("i8", (2, 2))]),
    Case("label", {"labels": ["x"]}, [("u8", (1,))]),  # indices past the list: both must fail
    Case("fft", {}, [("i16", (16000,))]),
    Case("fft", {"sample_rate": 8000, "window_size_ms": 32, "window_stride_ms": 16, "num_channels": 20,
                 "upper_band_limit": 3800.0}, [("i16", (4000,))]),
    Case("noise_filtering", {}, [("u32", (49, 40))], bounds={0: (0, 2**22 - 1)}),
    Case("audio_float_conversion", {}, [("i16", (1, 100))]),
    *[Case("image_normalization", a, [(t, (1, 4, 5, 3))]) for t, a in
      [("u8", {}), ("i8", {}), ("u16", {}), ("i16", {}), ("f32", {}),
       ("u8", {"mean": [0.485, 0.456, 0.406], "std": [0.229, 0.224, 0.225]}), ("f32", {"mean": 0.5, "std": 0.25})]],
    *[Case("resize", {"width": w, "height": h, "method": m}, [(t, s)]) for t, s, w, h, m in
      [("u8", (1, 9, 7, 3), 4, 5, "bilinear"), ("u8", (1, 4, 4, 1), 9, 6, "bilinear"), ("f32", (1, 5, 8, 2), 3, 3, "bilinear"),
       ("i8", (6, 6, 1), 11, 13, "nearest"), ("u16", (1, 3, 7, 3), 7, 3, "nearest"), ("i16", (1, 1, 1, 1), 3, 2, "bilinear")]],
    *[Case("center_crop", {}, [(t, s)]) for t, s in [("u8", (1, 5, 8, 3)), ("f32", (7, 4, 1)), ("i16", (1, 3, 3, 2))]],
    *[Case("grayscale", {}, [(t, (1, 6, 5, 3))]) for t in ("u8", "f32")],
    *[Case("edge_detect", {}, [(t, s)]) for t, s in [("u8", (1, 8, 9, 1)), ("f32", (5, 6, 1)), ("u8", (1, 1, 1, 1))]],
    *[Case("binary_classification", {"threshold": th}, [(t, (1, 6))]) for t, th in
      [("f32", 0.5), ("u8", 100.0), ("i8", -3.0), ("f64", 0.25), ("i64", 7.0)]],
    *[Case("segment_output", {}, [(t, s)]) for t, s in [("f32", (1, 4, 5, 3)), ("i8", (1, 2, 2, 21)), ("u8", (3, 1))]],
    Case("object_filter", {}, [("f32", (8, 4)), ("f32", (8,))],
         bounds={0: (-1, 2), 1: (0, 1)}),
    Case("object_filter", {"score_threshold": 0.2, "iou_threshold": 0.3, "max_detections": 4},
         [("f32", (1, 12, 4)), ("f32", (1, 12))]),
    Case("noise_filtering", {"strength": 0.5, "offset": 10.0, "clamping": True, "odd_smoothing": 0.0},
         [("u32", (7, 16))]),
    # streaming fft: only the new audio each run, only the new frames out (state: the window's kept samples)
    Case("fft", {"frames": 49}, [("i16", (320,))]),
    Case("fft", {"num_frames": 5, "window_size_ms": 30, "window_stride_ms": 10, "num_channels": 16},
         [("i16", (160,))]),  # 320 samples kept, more than one run's new audio
    Case("fft", {"num_frames": 4, "window_size_ms": 30, "window_stride_ms": 10, "num_channels": 16},
         [("i16", (480,))]),  # 3 new frames a run
    Case("fft", {"num_frames": 3, "sample_rate": 8000, "window_size_ms": 16, "window_stride_ms": 20,
                 "num_channels": 20, "upper_band_limit": 3800.0}, [("i16", (320,))]),  # stride > window: no state
    # odd sample counts (copies that are not whole words): 441-sample strides, 220 kept, 2 frames a run;
    # 331 samples kept (odd), more than the 220 new ones
    Case("fft", {"num_frames": 3, "sample_rate": 22050, "window_size_ms": 30, "window_stride_ms": 20,
                 "num_channels": 16}, [("i16", (882,))]),
    Case("fft", {"num_frames": 6, "sample_rate": 11025, "window_size_ms": 40, "window_stride_ms": 10,
                 "num_channels": 16, "upper_band_limit": 5000.0}, [("i16", (220,))]),
    # streaming noise_filtering: every input row new, the last num_frames rows out (state: the
    # noise estimate and a ring of rows); rows of 16 and 40 bytes are copied as words, of 6 and 5 not
    Case("noise_filtering", {"num_frames": 49}, [("u32", (1, 40))], bounds={0: (0, 2**22 - 1)}),
    Case("noise_filtering", {"num_frames": 5, "clamping": True, "even_smoothing": 0.2}, [("u32", (3, 16))]),
    Case("noise_filtering", {"frames": 3}, [("u32", (3, 12))]),  # every row replaced each run
    Case("noise_filtering", {"num_frames": 7}, [("u32", (2, 6))], bounds={0: (0, 2**22 - 1)}),
    Case("noise_filtering", {"num_frames": 4}, [("u32", (3, 5))]),
]

# Size-1 dimensions: one window, frame, channel or detection, a last axis of one, images one
# pixel high or wide, and outputs of one pixel. Loops, borders and divisions by (n - 1) go wrong here.
SIZE_ONE_CASES = [
    Case("fft", {}, [("i16", (480,))]),  # exactly one window
    Case("fft", {"num_channels": 1}, [("i16", (800,))]),
    Case("noise_filtering", {}, [("u32", (1, 40))], bounds={0: (0, 2**22 - 1)}),
    Case("noise_filtering", {}, [("u32", (1, 1))]),
    Case("noise_filtering", {}, [("u32", (6, 1))]),
    Case("fft", {"num_frames": 1}, [("i16", (320,))]),  # streaming, one frame kept
    Case("noise_filtering", {"num_frames": 1}, [("u32", (1, 40))]),  # streaming, one row kept
    Case("noise_filtering", {"num_frames": 4}, [("u32", (1, 1))]),
    Case("audio_float_conversion", {}, [("i16", (1,))]),
    *[Case("softmax", {}, [("f32", s)], tolerance=1e-6) for s in [(3, 1), (1, 1), (1,)]],
    *[Case("normalize", {}, [(t, s)]) for t, s in [("f32", (1,)), ("u16", (1, 1))]],
    *[Case("argmax", {}, [(t, s)]) for t, s in [("f32", (1, 1)), ("i8", (1,))]],
    *[Case("modulo", {"modulus": m}, [(t, s)]) for t, s, m in [("f32", (1,), 2.5), ("i32", (1, 1), -7)]],
    Case("most_confident_indices", {"count": 1}, [("f32", (1,))]),
    Case("label", {"labels": ["only"]}, [("u32", (1, 1))], bounds={0: (0, 0)}),
    *[Case("image_normalization", a, [(t, s)]) for t, s, a in
      [("u8", (1, 1, 7, 3), {}), ("i16", (1, 4, 1, 3), {}), ("f32", (1, 1, 1, 1), {}),
       ("u8", (1, 1, 1, 3), {"mean": [0.485, 0.456, 0.406], "std": [0.229, 0.224, 0.225]})]],
    *[Case("resize", {"width": w, "height": h, "method": m}, [(t, s)]) for t, s, w, h, m in
      [("u8", (1, 1, 7, 3), 4, 5, "bilinear"), ("f32", (1, 5, 1, 2), 3, 3, "bilinear"),
       ("u8", (1, 6, 5, 3), 1, 1, "bilinear"), ("f32", (1, 6, 5, 1), 1, 4, "bilinear"),
       ("i8", (1, 1, 9, 1), 3, 1, "nearest"), ("u16", (1, 4, 1, 3), 1, 1, "nearest")]],
    *[Case("grayscale", {}, [(t, s)]) for t, s in [("u8", (1, 1, 5, 3)), ("f32", (1, 6, 1, 3)), ("u8", (1, 1, 1, 3))]],
    *[Case("center_crop", {}, [(t, s)]) for t, s in [("u8", (1, 1, 7, 3)), ("f32", (1, 5, 1, 2)), ("i8", (1, 1, 1, 1))]],
    *[Case("edge_detect", {}, [(t, s)]) for t, s in [("u8", (1, 1, 6, 1)), ("f32", (1, 5, 1, 1)), ("f32", (1, 1, 1, 1))]],
    *[Case("binary_classification", {"threshold": 0.5}, [(t, s)]) for t, s in [("f32", (1,)), ("u8", (1, 1))]],
    *[Case("segment_output", {}, [(t, s)]) for t, s in [("f32", (1, 1, 1, 3)), ("u8", (1, 2, 2, 1)), ("i16", (1, 1))]],
    Case("object_filter", {}, [("f32", (1, 4)), ("f32", (1,))],
         bounds={0: (-1, 2), 1: (0, 1)}),
    Case("object_filter", {"max_detections": 1, "score_threshold": 0.1}, [("f32", (1, 5, 4)), ("f32", (1, 5))],
         bounds={0: (-1, 2), 1: (0, 1)}),
]
CASES += SIZE_ONE_CASES


def test_every_builtin_block_has_cases_and_a_reference():
    assert {c.block for c in CASES} == set(builtin_names())
    assert {c.block for c in SIZE_ONE_CASES} == set(builtin_names())
    for name in builtin_names():
        assert resolve(name, Path(".")).manifest.reference_path.is_file(), name


@pytest.mark.parametrize("name, args", [("edge_detect", {}), ("center_crop", {}), ("resize", {"width": 2, "height": 2})])
def test_blocks_that_process_one_image_refuse_a_batch(name, args):
    block = resolve(name, Path(".")).manifest
    with pytest.raises(BlockTypeError, match="got a batch of 2|got \\[2, 4, 5, 1\\]"):
        BlockInstance(block, args, [TensorType(ElementType.U8, (2, 4, 5, 1))])


@pytest.mark.parametrize("dtype, modulus", [("u8", 256), ("u8", 300), ("u8", 65535), ("u8", -1), ("i8", 128),
                                            ("i8", -129), ("u16", 65536), ("u64", 2**64), ("i64", 2**63),
                                            ("f32", 1e-50), ("f32", 1e39)])
def test_modulo_refuses_a_modulus_its_input_type_cannot_hold(dtype, modulus):
    block = resolve("modulo", Path(".")).manifest
    with pytest.raises(BlockTypeError, match=f"for {dtype} input, modulus"):
        BlockInstance(block, {"modulus": modulus}, [TensorType(ElementType.parse(dtype), (3,))])


_instances: dict[str, tuple] = {}


def instance_for(case: Case):
    if case.id not in _instances:
        block = resolve(case.block, Path(".")).manifest
        inputs = [TensorType(ElementType.parse(t), s) for t, s in case.inputs]
        inst = BlockInstance(block, case.args, inputs)
        _instances[case.id] = (inst, inst.native())
    return _instances[case.id]


def edge_cases(dtype_name: str, shape) -> list[np.ndarray]:
    dtype = np.dtype(ElementType.parse(dtype_name).numpy_name)
    if dtype.kind == "f":
        info = np.finfo(dtype)
        specials = [0.0, -0.0, np.nan, np.inf, -np.inf, info.max, info.min, info.tiny, 1.0, -1.0]
    else:
        info = np.iinfo(dtype)
        specials = [0, info.min, info.max, 1, info.max - 1]
    count = int(np.prod(shape))
    arrays = [np.zeros(shape, dtype)]
    for value in specials:
        arrays.append(np.full(shape, value, dtype))
    mixed = np.array([specials[i % len(specials)] for i in range(count)], dtype).reshape(shape)
    arrays.append(mixed)
    return arrays


def stateful(case: Case) -> bool:
    block = resolve(case.block, Path(".")).manifest
    return BlockInstance(block, case.args, [TensorType(ElementType.parse(t), s) for t, s in case.inputs]).stateful


STATEFUL_CASES = [c for c in CASES if stateful(c)]


def test_the_streaming_cases_are_stateful():
    assert {c.block for c in STATEFUL_CASES} == {"fft", "noise_filtering"}


@pytest.mark.parametrize("case", CASES, ids=[c.id for c in CASES])
@settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture,
                                                                  HealthCheck.too_slow, HealthCheck.data_too_large])
@given(data=st.data())
def test_native_c_matches_the_reference(case, data):
    """One run after init; a stateful block one to six runs in a row, each output depending on the
    inputs of the runs before."""
    inst, native = instance_for(case)
    problem = compare_sequence(inst, native_runs(native), draw_sequence(data, inst, case.elements()),
                               tolerance=case.tolerance)
    assert problem is None, f"{case.id}: {problem}"


@pytest.mark.parametrize("case", CASES, ids=[c.id for c in CASES])
def test_edge_cases_under_address_and_undefined_behaviour_sanitizers(case):
    inst, _ = instance_for(case)
    rng = np.random.default_rng(0)
    input_sets = [[edge_cases(t, s)[k] for t, s in case.inputs] for k in range(len(edge_cases(*case.inputs[0])))]
    input_sets.append([rng.integers(-1000, 1000, s).astype(ElementType.parse(t).numpy_name) for t, s in case.inputs])
    # bounded inputs stay within their case's bounds (label indices, filterbank values, boxes)
    input_sets = [[np.clip(a, *case.bounds[i]).astype(a.dtype) if i in case.bounds else a for i, a in enumerate(arrays)]
                  for arrays in input_sets]
    for arrays in input_sets:
        problem = compare_sequence(inst, inst.sanitized_runs, [arrays], tolerance=case.tolerance)
        assert problem is None, f"{case.id}: {problem}"
    if inst.stateful:  # all of them in turn, in one process: the state carried from one to the next
        problem = compare_sequence(inst, inst.sanitized_runs, input_sets + input_sets[::-1], tolerance=case.tolerance)
        assert problem is None, f"{case.id}: {problem}"
