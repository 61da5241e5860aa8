"""The desktop runtime on the real engines (wasmtime, wasm3) and TensorFlow Lite Micro."""

from __future__ import annotations

import struct
from pathlib import Path

import numpy as np
import pytest

from rune.compiler.build import build
from rune.container import wasm
from rune.container.rune_file import RuneFile, write_rune
from rune.runtime import ImageSource, RandomSource, RawSource, Runtime, SoundSource
from rune.runtime.errors import BadRune, MissingSource, ModelFailure, RunError, StageFailed, Timeout, Trap
from rune.runtime.sources import SplitMix64

from conftest import EXAMPLES, shared_data

ENGINES = ["wasmtime", "wasm3"]


def outputs(rune_path, engine, **sources):
    with Runtime.load(rune_path, engine=engine) as runtime:
        for name, source in sources.items():
            runtime.set_source(name, source)
        return [o.json_line() for o in runtime.run()]


# -- the examples ---------------------------------------------------------------------------

def test_sine_is_within_0_05_of_sin_for_100_seeds(built_examples):
    with Runtime.load(built_examples["sine"]) as runtime:
        for seed in range(100):
            runtime.set_source("rand", RandomSource(seed))
            x, y = (o.value.item() for o in runtime.run())
            assert 0 <= x < 2 * np.pi
            assert abs(np.sin(x) - y) < 0.05, (seed, x, y)


@pytest.mark.parametrize("clip,label", [("yes", "yes"), ("no", "no"), ("silence", "silence"), ("noise", "silence")])
def test_micro_speech_labels(built_examples, clip, label):
    wav = shared_data() / "audio" / f"{clip}_1000ms.wav"
    with Runtime.load(built_examples["micro_speech"]) as runtime:
        runtime.set_source("audio", SoundSource(wav))
        assert runtime.run()[0].value == [label]


@pytest.mark.parametrize("image,label,scores", [("person.png", "person", [-113, 113]),
                                                ("no_person.png", "no person", [57, -57])])
def test_person_detection(built_examples, image, label, scores):
    with Runtime.load(built_examples["person_detection"]) as runtime:
        runtime.set_source("image", ImageSource(shared_data() / "images" / image))
        text, detection = runtime.run()
        assert text.value == [label] and detection.value.reshape(-1).tolist() == scores


def test_person_detection_from_a_colour_jpeg_of_another_size(built_examples, tmp_path):
    from PIL import Image

    grey = Image.open(shared_data() / "images" / "person.png")
    colour = Image.merge("RGB", [grey, grey.point(lambda v: v * 0.9), grey.point(lambda v: v * 0.8)])
    colour.resize((200, 150), Image.BICUBIC).save(tmp_path / "person.jpg", quality=92)
    with Runtime.load(built_examples["person_detection"]) as runtime:
        runtime.set_source("image", ImageSource(tmp_path / "person.jpg"))
        assert runtime.run()[0].value == ["person"]


@pytest.mark.parametrize("clip", ["yes", "no", "silence", "noise"])
def test_engines_agree_bit_for_bit_on_micro_speech(built_examples, clip):
    wav = shared_data() / "audio" / f"{clip}_1000ms.wav"
    results = [outputs(built_examples["micro_speech"], e, audio=SoundSource(wav)) for e in ENGINES]
    assert results[0] == results[1]


def test_engines_agree_bit_for_bit_on_sine_and_person_detection(built_examples):
    for seed in range(5):
        assert len({tuple(outputs(built_examples["sine"], e, rand=RandomSource(seed))) for e in ENGINES}) == 1
    for image in ("person.png", "no_person.png"):
        source = shared_data() / "images" / image
        results = [outputs(built_examples["person_detection"], e, image=ImageSource(source)) for e in ENGINES]
        assert results[0] == results[1]


def test_stateful_runs_and_reset(built_examples):
    with Runtime.load(built_examples["sine"]) as runtime:
        runtime.set_source("rand", RandomSource(3))
        first = [o.json_line() for o in runtime.run()]
        second = [o.json_line() for o in runtime.run()]
        assert first != second  # the random stream moves on


# -- capabilities -----------------------------------------------------------------------------

def test_splitmix64_is_the_documented_generator():
    # Reference values of SplitMix64 seeded with 0 (Vigna's splitmix64.c).
    generator = SplitMix64(0)
    assert [generator.next() for _ in range(3)] == [0xE220A8397B1DCDAF, 0x6E789E6AA1B965F4, 0x06C45D188009454F]


def test_sound_is_resampled_and_padded(tmp_path):
    from scipy.io import wavfile

    tone = (np.sin(np.arange(8000) * 2 * np.pi * 440 / 8000) * 0.5).astype(np.float32)
    wavfile.write(tmp_path / "tone.wav", 8000, tone)
    spec = _spec("SOUND", "i16", (16000,), {"hz": 16000, "sample_duration_ms": 1000})
    samples = SoundSource(tmp_path / "tone.wav").read(spec)
    assert samples.dtype == np.int16 and samples.shape == (16000,)
    assert 15000 < np.abs(samples).max() <= 16500  # half scale after resampling to 16 kHz
    short = SoundSource(shared_data() / "audio" / "yes_1000ms.wav").read(
        _spec("SOUND", "i16", (32000,), {"hz": 16000, "sample_duration_ms": 2000}))
    assert (short[16000:] == 0).all()


def test_image_conversions():
    path = shared_data() / "images" / "person.png"
    args = {"width": 96, "height": 96, "pixel_format": "GrayScale"}
    u8 = ImageSource(path).read(_spec("IMAGE", "u8", (1, 96, 96, 1), args))
    i8 = ImageSource(path).read(_spec("IMAGE", "i8", (1, 96, 96, 1), args))
    f32 = ImageSource(path).read(_spec("IMAGE", "f32", (1, 96, 96, 1), args))
    assert (i8.astype(int) == u8.astype(int) - 128).all()
    assert np.allclose(f32 * 255, u8) and f32.max() <= 1.0
    rgb = ImageSource(path).read(_spec("IMAGE", "u8", (1, 48, 64, 3), {"width": 64, "height": 48, "pixel_format": "RGB"}))
    bgr = ImageSource(path).read(_spec("IMAGE", "u8", (1, 48, 64, 3), {"width": 64, "height": 48, "pixel_format": "BGR"}))
    assert rgb.shape == (1, 48, 64, 3) and (rgb[..., ::-1] == bgr).all()


def test_accel_and_raw(tmp_path):
    from rune.runtime import AccelSource

    (tmp_path / "a.csv").write_text("x,y,z\n1,2,3\n4,5,6\n7,8,9\n")
    rows = AccelSource(tmp_path / "a.csv").read(_spec("ACCEL", "f32", (2, 3), {"samples": 2}))
    assert rows.tolist() == [[1, 2, 3], [4, 5, 6]]
    (tmp_path / "r.bin").write_bytes(struct.pack("<3h", -1, 2, 300))
    assert RawSource(tmp_path / "r.bin").read(_spec("RAW", "i16", (3,), {"length": 3})).tolist() == [-1, 2, 300]
    with pytest.raises(RunError, match="has 6 bytes; the capability needs 8"):
        RawSource(tmp_path / "r.bin").read(_spec("RAW", "i16", (4,), {"length": 4}))


def _spec(kind, type_name, dims, args):
    from rune.runtime.sources import CapabilitySpec
    from rune.tensors import ElementType, TensorType

    tensor = TensorType(ElementType.parse(type_name), dims)
    return CapabilitySpec(0, "cap", kind, args, type_name, dims, tensor.bytes)


def test_a_missing_source_names_the_capability_and_the_flag(built_examples):
    with Runtime.load(built_examples["micro_speech"]) as runtime:
        with pytest.raises(MissingSource) as caught:
            runtime.run()
    text = caught.value.render()
    assert "capability 'audio' (SOUND) has no source" in text and "--sound FILE.wav" in text


# -- the sandbox ------------------------------------------------------------------------------

@pytest.fixture(scope="module")
def faulty_rune(tmp_path_factory):
    """A rune whose block misbehaves on request (tests/assets/faulty): returns (rune, folder of mode files)."""
    import shutil

    assets = Path(__file__).parent / "assets"
    folder = tmp_path_factory.mktemp("faulty")
    shutil.copytree(assets / "faulty", folder / "faulty")
    shutil.copy(assets / "faulty.Runefile.yml", folder / "Runefile.yml")
    for mode in range(5):
        (folder / f"mode{mode}.bin").write_bytes(bytes([mode]))
    return build(folder).path, folder


@pytest.mark.parametrize("engine", ENGINES)
def test_a_faulty_rune_cannot_take_the_host_down(faulty_rune, engine):
    path, folder = faulty_rune
    with Runtime.load(path, engine=engine, timeout=1.0) as runtime:
        def run(mode):
            runtime.set_source("mode", RawSource(folder / f"mode{mode}.bin"))
            return runtime.run()

        assert run(0)[0].value.tolist() == [0]
        with pytest.raises(Trap) as trap:
            run(1)
        assert trap.value.stage == "misbehave (faulty)" and "out of bounds" in trap.value.render()
        assert run(0)[0].value.tolist() == [0], "the next inference still works"
        with pytest.raises(StageFailed, match="faulty: asked to fail"):
            run(3)
        with pytest.raises(Trap):  # the stack runs below address 0, or out of call depth
            run(4)
        with pytest.raises(Timeout, match="ran longer than 1 s"):
            run(2)
        assert run(0)[0].value.tolist() == [0], "after a timeout the rune starts afresh"


def hostile_rune(wat: str, manifest_extra: dict | None = None) -> bytes:
    import wasmtime

    module = wasmtime.wat2wasm(wat)
    u8x4 = {"type": "u8", "dimensions": [4]}
    manifest = {"format": 1, "abi": 1, "name": "hostile",
                "memory": {"pages": 1, "used_bytes": 4, "stack_bytes": 0, "arena_bytes": 4, "state_bytes": 0},
                "stages": [{"name": "s", "kind": "capability", "target": "RAW", "inputs": [], "outputs": [u8x4],
                            "args": {"length": 4}},
                           {"name": "out", "kind": "out", "target": "SERIAL", "inputs": [{"stage": "s", "output": 0}],
                            "outputs": []}],
                "capabilities": [{"index": 0, "stage": "s", "kind": "RAW", "args": {"length": 4}, **u8x4, "bytes": 4}],
                "models": [], "outputs": [{"channel": 0, "stage": "out", "kind": "SERIAL",
                                           "source": {"stage": "s", "output": 0}, **u8x4, "bytes": 4}],
                "resources": []}
    manifest.update(manifest_extra or {})
    return write_rune(module, manifest, [], [])


HOSTILE = """
(module
  (import "rune_v1" "capability_read" (func $read (param i32 i32 i32) (result i32)))
  (import "rune_v1" "output_write" (func $write (param i32 i32 i32) (result i32)))
  (memory (export "memory") 1 1)
  (func (export "_initialize"))
  (func (export "rune_init") (result i32) (i32.const 0))
  (func (export "rune_status") (result i32) (i32.const 0))
  (func (export "rune_call") (result i32) {body})
)
"""


@pytest.mark.parametrize("engine", ENGINES)
@pytest.mark.parametrize("body,message", [
    ("(call $read (i32.const 7) (i32.const 0) (i32.const 4))", "asked for capability 7, but its manifest declares 1"),
    ("(call $read (i32.const 0) (i32.const 65534) (i32.const 4))", "outside its 65536 bytes of memory"),
    ("(call $read (i32.const 0) (i32.const 0) (i32.const 400))", "passed 400 bytes for capability 's'"),
    ("(call $write (i32.const 0) (i32.const -8) (i32.const 4))", "outside its 65536 bytes of memory"),
])
def test_the_host_checks_everything_a_rune_passes(engine, body, message, tmp_path):
    data = hostile_rune(HOSTILE.format(body=body))
    (tmp_path / "four.bin").write_bytes(b"\x01\x02\x03\x04")
    with Runtime.load(data, engine=engine) as runtime:
        runtime.set_source(0, RawSource(tmp_path / "four.bin"))
        with pytest.raises(RunError, match=message):
            runtime.run()


@pytest.mark.parametrize("engine", ENGINES)
def test_a_rune_importing_outside_the_abi_is_refused(engine):
    wat = HOSTILE.format(body="(i32.const 0)").replace(
        '(import "rune_v1" "output_write"', '(import "env" "system" (func (param i32) (result i32)))\n'
                                            '  (import "rune_v1" "output_write"')
    with pytest.raises(BadRune, match="imports env.system"):
        Runtime.load(hostile_rune(wat), engine=engine)


def test_truncated_and_corrupted_runes_are_refused(built_examples):
    data = built_examples["sine"].read_bytes()
    with pytest.raises(BadRune):
        Runtime.load(data[: len(data) // 2])
    with pytest.raises(BadRune):
        Runtime.load(b"not a rune at all")


def test_a_model_that_crashes_tflite_micro_is_an_error_not_a_crash(tmp_path, monkeypatch):
    """SOFTMAX with beta = 0 makes TFLM abort the process; the runtime must survive it."""
    from rune.tflite.opcodes import Op
    from rune.tflite.writer import options, unary_model

    model = unary_model(Op.SOFTMAX, (1, 1960), np.int8, np.int8, (0.1, 0), (1 / 256, -128),
                        options("SoftmaxOptions", beta=0.0))
    folder = tmp_path / "broken"
    folder.mkdir()
    (folder / "model.tflite").write_bytes(bytes(model))
    (folder / "Runefile.yml").write_text("""
version: 1
pipeline:
  x: {capability: RAW, outputs: [{type: i8, dimensions: [1, 1960]}], args: {length: 1960}}
  classify: {model: ./model.tflite, inputs: [x]}
  serial: {out: SERIAL, inputs: [classify]}
""")
    monkeypatch.setenv("RUNE_CACHE_DIR", str(tmp_path / "cache"))  # no verdict remembered from elsewhere
    path = build(folder).path
    with pytest.raises(ModelFailure) as caught:
        Runtime.load(path)
    assert caught.value.stage == "classify" and "TensorFlow Lite Micro crashed" in caught.value.render()
