"""The desktop runtime on the real engines (wasmtime, wasm3) and TensorFlow Lite Micro."""

from __future__ import annotations

import collections
import io
import random
import re
import struct
import warnings
import zlib
from pathlib import Path

import numpy as np
import pytest

from rune.compiler.build import build
from rune.container import wasm
from rune.container.rune_file import RuneFile, write_rune
from rune.runtime import (BadRune, ImageSource, InputWarning, MissingSource, ModelFailure, RandomSource, RawSource,
                          RunError, Runtime, SoundSource, Source, SourceError, StageFailed, Timeout, Trap)
from rune.runtime.sources import SplitMix64

from conftest import EXAMPLES, PERSON_DETECTION_SCORES, shared_data

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


@pytest.mark.parametrize("image,label", [("person.png", "person"), ("no_person.png", "no person")])
def test_person_detection(built_examples, image, label):
    with Runtime.load(built_examples["person_detection"]) as runtime:
        runtime.set_source("image", ImageSource(shared_data() / "images" / image))
        text, detection = runtime.run()
        assert text.value == [label] and detection.value.reshape(-1).tolist() == PERSON_DETECTION_SCORES[image]


@pytest.mark.parametrize("size", [(192, 192), (128, 128), (300, 300), (200, 150)])
@pytest.mark.parametrize("kind", ["png", "colour jpeg"])
def test_no_person_at_another_size_and_as_colour_jpeg(built_examples, tmp_path, size, kind):
    """no_person.png enlarged by repeating pixels (at whole and fractional factors, also unevenly), as
    a grey PNG or a colour JPEG, is still "no person": shrinking averages areas, which undoes the
    enlargement (exactly at whole factors). The model's verdict on this picture is fragile: blurring it
    by a Gaussian of 0.3 pixels already turns it into "person", so a smoothly interpolated enlargement
    (bilinear, bicubic), which is blurred for good, is "person" whichever way it is shrunk."""
    from PIL import Image

    grey = Image.open(shared_data() / "images" / "no_person.png")
    if kind == "png":
        grey.resize(size, Image.NEAREST).save(tmp_path / "picture.png")
        path = tmp_path / "picture.png"
    else:
        colour = Image.merge("RGB", [grey, grey.point(lambda v: v * 0.9), grey.point(lambda v: v * 0.8)])
        colour.resize(size, Image.NEAREST).save(tmp_path / "picture.jpg", quality=85)
        path = tmp_path / "picture.jpg"
    with Runtime.load(built_examples["person_detection"]) as runtime:
        runtime.set_source("image", ImageSource(path))
        label, scores = runtime.run()
    assert label.value == ["no person"], scores.value


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
    assert generator.take(2) + generator.take(1) == [0xE220A8397B1DCDAF, 0x6E789E6AA1B965F4, 0x06C45D188009454F]


def test_sound_is_resampled_and_padded(tmp_path):
    from scipy.io import wavfile

    tone = (np.sin(np.arange(8000) * 2 * np.pi * 440 / 8000) * 0.5).astype(np.float32)
    wavfile.write(tmp_path / "tone.wav", 8000, tone)
    spec = _spec("SOUND", "i16", (16000,), {"hz": 16000, "sample_duration_ms": 1000})
    samples = SoundSource(tmp_path / "tone.wav").read(spec)
    assert samples.dtype == np.int16 and samples.shape == (16000,)
    assert 15000 < np.abs(samples).max() <= 16500  # half scale after resampling to 16 kHz
    with pytest.warns(InputWarning, match="yes_1000ms.wav holds 1000 ms of audio; capability 'cap' takes 2000 ms, "
                                          "so 1000 ms of silence were added"):
        short = SoundSource(shared_data() / "audio" / "yes_1000ms.wav").read(
            _spec("SOUND", "i16", (32000,), {"hz": 16000, "sample_duration_ms": 2000}))
    assert (short[16000:] == 0).all()


def test_an_empty_recording_is_silence_with_a_warning(tmp_path):
    from scipy.io import wavfile

    wavfile.write(tmp_path / "empty.wav", 16000, np.zeros(0, np.int16))
    with pytest.warns(InputWarning, match="empty.wav holds no audio"):
        samples = SoundSource(tmp_path / "empty.wav").read(SOUND_1S)
    assert samples.shape == (16000,) and not samples.any()


def test_input_a_capability_leaves_unused_is_warned_about_once(tmp_path):
    from scipy.io import wavfile

    from rune.runtime import AccelSource

    wavfile.write(tmp_path / "long.wav", 16000, np.ones(40000, np.int16))
    (tmp_path / "a.csv").write_text("1,2,3\n4,5,6\n7,8,9\n")
    (tmp_path / "r.bin").write_bytes(bytes(10))
    cases = [(SoundSource(tmp_path / "long.wav"), SOUND_1S,
              "long.wav holds 2500 ms of audio; capability 'cap' takes 1000 ms, so only its beginning is used "
              "(--stride-ms streams all of it)"),
             (AccelSource(tmp_path / "a.csv"), _spec("ACCEL", "f32", (2, 3), {"samples": 2}),
              "a.csv has 3 rows of x, y, z; capability 'cap' takes the first 2"),
             (RawSource(tmp_path / "r.bin"), _spec("RAW", "u8", (4,), {"length": 4}),
              "r.bin has 10 bytes; capability 'cap' takes the first 4")]
    for source, spec, message in cases:
        with warnings.catch_warnings(record=True) as caught:
            warnings.simplefilter("always")
            source.read(spec)
            source.read(spec)
        assert [str(w.message) for w in caught if w.category is InputWarning] == [f"{tmp_path}/{message}"]
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        streamed = SoundSource(tmp_path / "long.wav", stride_ms=500)
        while streamed.remaining(SOUND_1S):
            streamed.read(SOUND_1S)  # streaming uses all of it: nothing to say


def test_unusual_sample_rates(tmp_path):
    from scipy.io import wavfile

    from rune.runtime.sources import resampling_ratio

    assert resampling_ratio(44100, 16000) == (160, 441)
    assert resampling_ratio(8000, 16000) == (2, 1)
    # Exactly 16000/16001 would take a filter of 320,000 taps; 1/1 is within 0.01%.
    assert resampling_ratio(16001, 16000) == (1, 1)
    up, down = resampling_ratio(999_983, 192000)
    assert max(up, down) <= 1000 and abs(up / down / (192000 / 999_983) - 1) < 1e-3
    wavfile.write(tmp_path / "odd.wav", 16001, np.full(16001, 1000, np.int16))
    samples = SoundSource(tmp_path / "odd.wav").read(SOUND_1S)
    assert abs(int(samples[8000]) - 1000) <= 2
    wavfile.write(tmp_path / "fast.wav", 2_000_000, np.zeros(100, np.int16))
    with pytest.raises(SourceError, match="fast.wav is not a readable WAV file .its header gives the sample rate "
                                          "2000000 Hz, outside 1000..1,000,000"):
        SoundSource(tmp_path / "fast.wav").read(SOUND_1S)


def test_float_recordings_with_nan_are_read_without_numpy_warnings(tmp_path):
    from scipy.io import wavfile

    wavfile.write(tmp_path / "nan.wav", 16000, np.array([np.nan, np.inf, -np.inf, 0.5] * 4000, np.float32))
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        samples = SoundSource(tmp_path / "nan.wav").read(SOUND_1S)
    assert samples[:4].tolist() == [0, 32767, -32768, 16384]


def _damaged(data: bytes, rng: random.Random, header: int) -> bytes:
    """`data` with 1 to 4 bytes changed, mostly in its first `header` bytes."""
    damaged = bytearray(data)
    for _ in range(rng.randint(1, 4)):
        position = rng.randrange(header) if rng.random() < 0.8 else rng.randrange(len(data))
        damaged[position] = rng.randrange(256)
    return bytes(damaged)


def _read_or_source_error(source, spec) -> str:
    """Read a capability's data; only a SourceError naming the file may stop it."""
    try:
        data = source.read(spec)
    except SourceError as e:
        assert str(source.path) in e.message, e.message
        return "refused"
    assert data.shape == spec.dimensions and data.dtype == spec.dtype
    return "read"


@pytest.mark.filterwarnings("error", "ignore::rune.runtime.errors.InputWarning")
def test_damaged_wav_files_give_source_errors(tmp_path):
    """Cut at every point of the header and a few beyond, and headers damaged at random (seeded):
    the only failure is a SourceError naming the file (scipy raises struct.error, UnboundLocalError,
    ZeroDivisionError, ... on such files)."""
    from scipy.io import wavfile

    flavours = [(shared_data() / "audio" / "yes_1000ms.wav").read_bytes()]
    for rate, samples in ((44100, (np.sin(np.arange(8820) / 5) * 0.3).astype(np.float32).reshape(-1, 2)),
                          (8000, (np.arange(4000) % 256).astype(np.uint8))):
        buffer = io.BytesIO()
        wavfile.write(buffer, rate, samples)
        flavours.append(buffer.getvalue())
    rng = random.Random(3)
    outcomes = collections.Counter()
    for number, data in enumerate(flavours):
        variants = [data[:cut] for cut in (*range(0, 64), 100, len(data) // 2, len(data) - 1)]
        variants += [_damaged(data, rng, 64) for _ in range(150)]
        for variant in variants:
            path = tmp_path / f"damaged{number}.wav"
            path.write_bytes(variant)
            outcomes[_read_or_source_error(SoundSource(path), SOUND_1S)] += 1
    assert outcomes["refused"] > 300 and outcomes["read"] > 20, outcomes


@pytest.mark.filterwarnings("error", "ignore::rune.runtime.errors.InputWarning")
def test_damaged_images_give_source_errors(tmp_path):
    from PIL import Image

    picture = Image.open(shared_data() / "images" / "person.png")
    spec = _spec("IMAGE", "i8", (1, 96, 96, 1), {"width": 96, "height": 96, "pixel_format": "GrayScale"})
    rng = random.Random(4)
    outcomes = collections.Counter()
    for kind, image in (("PNG", picture), ("JPEG", picture.convert("RGB")), ("BMP", picture), ("GIF", picture),
                        ("TIFF", picture)):
        buffer = io.BytesIO()
        image.save(buffer, kind)
        data = buffer.getvalue()
        variants = [data[:cut] for cut in (*range(0, 120, 3), len(data) // 2, len(data) - 1)]
        variants += [_damaged(data, rng, 120) for _ in range(60)]
        for variant in variants:
            path = tmp_path / f"damaged.{kind.lower()}"
            path.write_bytes(variant)
            outcomes[_read_or_source_error(ImageSource(path), spec)] += 1
    assert outcomes["refused"] > 200 and outcomes["read"] > 20, outcomes


def test_a_bug_in_rune_is_not_blamed_on_the_picture(monkeypatch):
    """Only Pillow's decoding turns failures into SourceErrors: Rune's own conversion code failing
    is a bug to report, not a damaged file."""
    import rune.runtime.sources as sources

    def broken_fit(image, width, height):
        raise ZeroDivisionError("a bug in fit")

    monkeypatch.setattr(sources, "fit", broken_fit)
    spec = _spec("IMAGE", "u8", (1, 48, 48, 1), {"width": 48, "height": 48, "pixel_format": "GrayScale"})
    with pytest.raises(ZeroDivisionError, match="a bug in fit"):
        ImageSource(shared_data() / "images" / "person.png").read(spec)


def test_an_image_claiming_a_huge_size_is_refused(tmp_path):
    """A PNG whose header claims 30000 x 30000 pixels (Pillow calls it a decompression bomb)."""
    data = bytearray((shared_data() / "images" / "person.png").read_bytes())
    data[16:24] = struct.pack(">II", 30000, 30000)  # IHDR's width and height, then its checksum
    data[29:33] = struct.pack(">I", zlib.crc32(data[12:29]))
    (tmp_path / "huge.png").write_bytes(bytes(data))
    spec = _spec("IMAGE", "u8", (1, 96, 96, 1), {"width": 96, "height": 96, "pixel_format": "GrayScale"})
    with pytest.raises(SourceError, match=r"huge.png is not a readable image \(Image size \(900000000 pixels\) "
                                          "exceeds limit"):
        ImageSource(tmp_path / "huge.png").read(spec)


def test_16_bit_pictures_are_scaled_to_8_bits(tmp_path):
    """Pillow opens 16-bit greyscale as mode I;16 (PNG, TIFF) or I (PGM) and its own conversion to 8
    bits clips, which made every such picture white."""
    from PIL import Image

    wide = (np.arange(64 * 64).reshape(64, 64) * 16).astype(np.uint16)  # 0 .. 65520
    Image.fromarray(wide).save(tmp_path / "wide.png")
    (tmp_path / "wide.pgm").write_bytes(b"P5\n64 64\n65535\n" + wide.astype(">u2").tobytes())
    spec = _spec("IMAGE", "u8", (1, 64, 64, 1), {"width": 64, "height": 64, "pixel_format": "GrayScale"})
    expected = np.round(wide / 257).astype(np.uint8).reshape(1, 64, 64, 1)
    for name in ("wide.png", "wide.pgm"):
        assert Image.open(tmp_path / name).mode in ("I;16", "I")
        pixels = ImageSource(tmp_path / name).read(spec)
        assert (pixels == expected).all(), name


def test_pictures_are_turned_as_their_exif_orientation_says(tmp_path):
    from PIL import Image

    # A picture stored sideways: dark on the left, light on the right; EXIF orientation 6 says
    # "rotate 90 degrees clockwise to view", so upright it is dark on top.
    stored = np.zeros((40, 60, 3), np.uint8)
    stored[:, 30:] = 255
    exif = Image.Exif()
    exif[0x0112] = 6
    Image.fromarray(stored).save(tmp_path / "sideways.jpg", exif=exif, quality=95)
    spec = _spec("IMAGE", "u8", (1, 60, 40, 1), {"width": 40, "height": 60, "pixel_format": "GrayScale"})
    upright = ImageSource(tmp_path / "sideways.jpg").read(spec)[0, :, :, 0].astype(int)
    assert upright[:25].mean() < 10 and upright[35:].mean() > 245


def test_shrinking_averages_areas_and_growing_interpolates():
    from PIL import Image

    from rune.runtime.sources import fit

    pixels = np.arange(64, dtype=np.uint8).reshape(8, 8) * 3
    shrunk = np.asarray(fit(Image.fromarray(pixels), 4, 4)).astype(int)
    blocks = pixels.reshape(4, 2, 4, 2).mean(axis=(1, 3))
    assert (np.abs(shrunk - blocks) <= 1).all()  # each pixel the mean of the 2 x 2 it covers
    mixed = fit(Image.fromarray(pixels), 4, 16)  # narrower and taller
    assert mixed.size == (4, 16)
    columns = np.asarray(mixed).astype(int).mean(axis=0)
    assert (np.abs(columns - pixels.reshape(8, 4, 2).mean(axis=(0, 2))) <= 1).all()


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
    with pytest.warns(InputWarning, match="a.csv has 3 rows of x, y, z; capability 'cap' takes the first 2"):
        rows = AccelSource(tmp_path / "a.csv").read(_spec("ACCEL", "f32", (2, 3), {"samples": 2}))
    assert rows.tolist() == [[1, 2, 3], [4, 5, 6]]
    (tmp_path / "r.bin").write_bytes(struct.pack("<3h", -1, 2, 300))
    assert RawSource(tmp_path / "r.bin").read(_spec("RAW", "i16", (3,), {"length": 3})).tolist() == [-1, 2, 300]
    with pytest.raises(RunError, match="has 6 bytes; the capability needs 8"):
        RawSource(tmp_path / "r.bin").read(_spec("RAW", "i16", (4,), {"length": 4}))


@pytest.mark.parametrize("text,message", [
    ("1,2,3x\n4,5,6\n7,8,9\n", r"a.csv:1: expected numbers x, y, z, got \['1', '2', '3x'\]"),
    ("x,y,z\n1,2,3\nnan,5,6\n", r"a.csv:3: \['nan', '5', '6'\] is not three finite 32-bit float numbers"),
    ("1,2,3\n4,inf,6\n", r"a.csv:2: .* is not three finite"),
    ("1,2,3\n4,5,1e39\n", r"a.csv:2: .* is not three finite"),
])
def test_accel_rows_are_numbers_or_a_header_of_names(tmp_path, text, message):
    """Only a first line of names is a header: a damaged first row is an error, not dropped."""
    from rune.runtime import AccelSource

    (tmp_path / "a.csv").write_text(text)
    with pytest.raises(SourceError, match=message):
        AccelSource(tmp_path / "a.csv").read(_spec("ACCEL", "f32", (2, 3), {"samples": 2}))


def test_a_byte_order_mark_does_not_make_the_first_row_a_header(tmp_path):
    from rune.runtime import AccelSource

    (tmp_path / "a.csv").write_text("\ufeff1,2,3\n4,5,6\n", encoding="utf-8")
    rows = AccelSource(tmp_path / "a.csv").read(_spec("ACCEL", "f32", (2, 3), {"samples": 2}))
    assert rows.tolist() == [[1, 2, 3], [4, 5, 6]]


@pytest.mark.parametrize("make", ["device", "pipe", "folder"])
def test_a_source_reads_only_regular_files(tmp_path, make):
    """/dev/zero would fill the memory and a pipe could block for ever: both are refused at once."""
    import os

    path = {"device": Path("/dev/zero"), "pipe": tmp_path / "pipe", "folder": tmp_path}[make]
    if make == "pipe":
        os.mkfifo(path)
    why = "it is a folder" if make == "folder" else "it is not a regular file"
    for source, spec in [(RawSource(path), _spec("RAW", "u8", (4,), {"length": 4})),
                         (SoundSource(path), _spec("SOUND", "i16", (16,), {"hz": 16000, "sample_duration_ms": 1})),
                         (ImageSource(path), _spec("IMAGE", "u8", (1, 2, 2, 1), {"width": 2, "height": 2,
                                                                                 "pixel_format": "GrayScale"}))]:
        with pytest.raises(SourceError, match=f"cannot read {re.escape(str(path))}: {why}"):
            source.read(spec)


def test_random_values_follow_the_documented_formula():
    """docs/abi.md's RAND: floats are min + (next >> 11) * 2^-53 * (max - min) in double precision,
    rounded to the type; integers min + next mod (max - min), or the low bits without a range."""
    from rune.runtime.sources import random_values

    for type_name, low, high in (("f32", None, 100.0), ("f64", -5.0, 5.0), ("f32", None, None), ("i8", -3, 9),
                                 ("u16", None, None), ("i64", None, None)):
        draws = SplitMix64(11).take(50)
        values = random_values(SplitMix64(11), type_name, 50, low, high)
        dtype = np.dtype({"f32": np.float32, "f64": np.float64, "i8": np.int8, "u16": np.uint16,
                          "i64": np.int64}[type_name])
        if dtype.kind == "f":
            base, top = (0.0 if low is None else low), (1.0 if high is None else high)
            unit = np.array([d >> 11 for d in draws], np.float64) * (1.0 / (1 << 53))
            expected = (base + unit * (top - base)).astype(dtype)
        elif low is None:
            expected = np.array([d & ((1 << (8 * dtype.itemsize)) - 1) for d in draws], np.uint64).astype(
                f"u{dtype.itemsize}").view(dtype)
        else:
            expected = np.array([low + d % (high - low) for d in draws], dtype)
        assert values.dtype == dtype and (values == expected).all(), type_name


@pytest.mark.parametrize("type_name,low,high", [
    ("f32", None, 100.0), ("f64", -5.0, 5.0), ("f32", 1e30, 3e38), ("f32", None, None), ("u8", None, None),
    ("i64", None, None), ("u64", None, None), ("i8", -3, 9), ("i16", None, 100), ("u32", 5, 2 ** 32),
    ("i64", -2 ** 63, 2 ** 63), ("u64", 0, 2 ** 64)])
def test_large_random_tensors_are_drawn_at_once_with_the_same_values(type_name, low, high, monkeypatch):
    """From VECTOR_FROM elements on, RAND draws with numpy: the values must be bit for bit those of
    the element-by-element loop (and of every other host)."""
    import rune.runtime.sources as sources

    generator = SplitMix64(3)
    assert [int(n) for n in generator.take_array(300)] == SplitMix64(3).take(300)
    monkeypatch.setattr(sources, "VECTOR_FROM", 10 ** 9)
    looped = sources.random_values(SplitMix64(3), type_name, 300, low, high)
    monkeypatch.setattr(sources, "VECTOR_FROM", 1)
    at_once, twice = SplitMix64(3), SplitMix64(3)
    drawn = sources.random_values(at_once, type_name, 300, low, high)
    assert drawn.dtype == looped.dtype and drawn.tobytes() == looped.tobytes()
    twice.take(300)
    assert at_once.state == twice.state, "the generator continues where the loop would"


def _spec(kind, type_name, dims, args):
    from rune.runtime.sources import CapabilitySpec
    from rune.tensors import ElementType, TensorType

    tensor = TensorType(ElementType.parse(type_name), dims)
    return CapabilitySpec(0, "cap", kind, args, type_name, dims, tensor.bytes)


SOUND_1S = _spec("SOUND", "i16", (16000,), {"hz": 16000, "sample_duration_ms": 1000})


def test_source_errors_name_the_capability(built_examples, tmp_path):
    with Runtime.load(built_examples["micro_speech"]) as runtime:
        runtime.set_source("audio", SoundSource(tmp_path / "nowhere.wav"))
        with pytest.raises(SourceError) as caught:
            runtime.run()
    assert caught.value.stage == "audio" and "nowhere.wav does not exist" in caught.value.render()


def test_a_source_giving_the_wrong_amount_is_an_error_naming_it(built_examples):
    class Short(Source):
        description = "my short source"

        def read(self, spec):
            return np.zeros(3, np.int16)

    with Runtime.load(built_examples["micro_speech"]) as runtime:
        runtime.set_source("audio", Short())
        with pytest.raises(SourceError, match=re.escape("my short source gave 3 values; the capability takes 16000 "
                                                        "(i16[16000])")):
            runtime.run()


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


READ = "(drop (call $read (i32.const 0) (i32.const 0) (i32.const 4)))"
WRITE = "(drop (call $write (i32.const 0) (i32.const 0) (i32.const 4)))"


@pytest.mark.parametrize("engine", ENGINES)
@pytest.mark.parametrize("body,message", [
    ("(drop (call $read (i32.const 7) (i32.const 0) (i32.const 4))) (i32.const 0)",
     "asked for capability 7, but its manifest declares 1"),
    (f"{READ} {WRITE} {WRITE} (i32.const 0)", "the rune wrote output channel 0 twice in one inference"),
    ("(i32.const 77)", "the rune returned status 77 (not a status of ABI v1) without saying why"),
])
def test_a_rune_that_carries_on_after_the_host_refuses_it_fails(engine, body, message, tmp_path):
    """The host's refusal stands even when the rune ignores it and returns 0; a runaway rune
    cannot make the host hoard outputs (docs/abi.md)."""
    data = hostile_rune(HOSTILE.format(body=body))
    (tmp_path / "four.bin").write_bytes(b"\x01\x02\x03\x04")
    with Runtime.load(data, engine=engine, timeout=2.0) as runtime:
        runtime.set_source(0, RawSource(tmp_path / "four.bin"))
        with pytest.raises(RunError, match=re.escape(message)):
            runtime.run()


@pytest.mark.parametrize("engine", ENGINES)
def test_a_rune_writing_outputs_for_ever_is_stopped_without_hoarding_them(engine, tmp_path):
    data = hostile_rune(HOSTILE.format(body=f"{READ} (loop $again {WRITE} (br $again)) (i32.const 0)"))
    (tmp_path / "four.bin").write_bytes(b"\x01\x02\x03\x04")
    with Runtime.load(data, engine=engine, timeout=0.5) as runtime:
        runtime.set_source(0, RawSource(tmp_path / "four.bin"))
        with pytest.raises(Timeout):
            runtime.run()
        assert len(runtime.host.outputs) == 1, "the writes after the first were refused, not kept"


HOSTILE_MODEL_CALLER = """
(module
  (import "rune_v1" "model_infer" (func $infer (param i32 i32 i32) (result i32)))
  (memory (export "memory") 1 1)
  ;; a table of {{u32 address; u32 bytes;}} at 1024: the input at 2048, the output at 2052
  (data (i32.const 1024) "\\00\\08\\00\\00\\04\\00\\00\\00\\04\\08\\00\\00\\04\\00\\00\\00")
  (func (export "_initialize"))
  (func (export "rune_init") (result i32) (i32.const 0))
  (func (export "rune_status") (result i32) (i32.const 0))
  (func (export "rune_call") (result i32) {prepare} (call $infer {arguments}))
)
"""


@pytest.mark.parametrize("engine", ENGINES)
@pytest.mark.parametrize("prepare,arguments,message", [
    ("", "(i32.const 0) (i32.const 1024) (i32.const 2)", None),
    ("", "(i32.const 1) (i32.const 1024) (i32.const 2)", "asked for model 1, but its manifest declares 1"),
    ("", "(i32.const 0) (i32.const 1024) (i32.const 3)",
     "passed 3 tensors to model 'sine', which has 1 input(s) and 1 output(s)"),
    ("", "(i32.const 0) (i32.const 65532) (i32.const 2)", "the memory range 65532..65548, outside its 65536"),
    ("(i32.store (i32.const 1028) (i32.const 8))", "(i32.const 0) (i32.const 1024) (i32.const 2)",
     "passed 8 bytes for tensor 'serving_default_dense_input:0' of model 'sine', which has 4"),
    ("(i32.store (i32.const 1032) (i32.const 65534))", "(i32.const 0) (i32.const 1024) (i32.const 2)",
     "the memory range 65534..65538, outside its 65536"),
    ("(i32.store (i32.const 1024) (i32.const -4))", "(i32.const 0) (i32.const 1024) (i32.const 2)",
     "the memory range 4294967292..4294967296, outside its 65536"),
])
def test_the_host_checks_the_tensors_a_rune_passes_to_a_model(engine, prepare, arguments, message, built_examples):
    """model_infer reads a table of tensors from the rune: its count, sizes and addresses are checked
    before the model reads or writes anything."""
    import wasmtime

    sine = RuneFile.load(built_examples["sine"])
    module = wasmtime.wat2wasm(HOSTILE_MODEL_CALLER.format(prepare=prepare, arguments=arguments))
    data = write_rune(module, sine.manifest, [("sine", sine.model_bytes(0), sine.plan_bytes(0))], [])
    with Runtime.load(data, engine=engine) as runtime:
        runtime.set_source("rand", RandomSource(1))  # (which this rune never reads)
        if message is None:
            assert runtime.run() == []
            prediction = runtime.models[0].invoke([bytes(4)])[0]  # sin(0), as the model says it
            assert prediction != bytes(4) and runtime.engine.read(2052, 4) == prediction
        else:
            with pytest.raises(RunError, match=re.escape(message)):
                runtime.run()


@pytest.mark.parametrize("engine", ENGINES)
def test_a_rune_importing_outside_the_abi_is_refused(engine):
    wat = HOSTILE.format(body="(i32.const 0)").replace(
        '(import "rune_v1" "output_write"', '(import "env" "system" (func (param i32) (result i32)))\n'
                                            '  (import "rune_v1" "output_write"')
    with pytest.raises(BadRune, match="imports env.system"):
        Runtime.load(hostile_rune(wat), engine=engine)


@pytest.mark.parametrize("engine", ENGINES)
def test_a_rune_with_a_growable_memory_or_wrongly_typed_exports_is_refused(engine):
    growable = HOSTILE.format(body="(i32.const 0)").replace('(memory (export "memory") 1 1)',
                                                             '(memory (export "memory") 1 2)')
    with pytest.raises(BadRune, match=re.escape("the rune's module breaks the ABI: its memory can grow (1 pages, "
                                                "at most 2)")):
        Runtime.load(hostile_rune(growable), engine=engine)
    unbounded = growable.replace('(memory (export "memory") 1 2)', '(memory (export "memory") 1)')
    with pytest.raises(BadRune, match=re.escape("its memory can grow (1 pages, no maximum)")):
        Runtime.load(hostile_rune(unbounded), engine=engine)
    typed = HOSTILE.format(body="(i32.const 0)").replace('(func (export "rune_init") (result i32) (i32.const 0))',
                                                          '(func (export "rune_init") (param i32) (result i32) '
                                                          '(i32.const 0))')
    with pytest.raises(BadRune, match=re.escape("the rune's module breaks the ABI: its export 'rune_init' has the "
                                                "type (i32) -> (i32), not () -> (i32)")):
        Runtime.load(hostile_rune(typed), engine=engine)


def test_truncated_and_corrupted_runes_are_refused(built_examples):
    data = built_examples["sine"].read_bytes()
    with pytest.raises(BadRune):
        Runtime.load(data[: len(data) // 2])
    with pytest.raises(BadRune):
        Runtime.load(b"not a rune at all")
    rune = RuneFile.from_bytes(data)
    module = bytearray(data[:rune.manifest["module"]["bytes"]])
    [types] = [s for s in wasm.sections(data) if s.id == wasm.TYPE]
    module[types.payload_start + 1] = 0x61  # the first type's form, after the count: 0x60 is a function
    with pytest.raises(BadRune, match="its code is corrupted"):
        Runtime.load(bytes(module) + data[len(module):])
    # With a checksum to match (written by whoever damaged it), the module's own checks refuse it.
    resealed = write_rune(bytes(module), rune.manifest, [("sine", rune.model_bytes(0), rune.plan_bytes(0))], [])
    with pytest.raises(BadRune, match="the rune's module is malformed: malformed function type"):
        Runtime.load(resealed)


def test_a_single_bit_flipped_anywhere_in_a_rune_is_refused(built_examples):
    """The module, the models and the plans carry checksums: a damaged byte is an error, never a
    rune that runs and says something else (one flipped bit in the code made sine print 0)."""
    data = built_examples["sine"].read_bytes()
    rune = RuneFile.from_bytes(data)
    regions = {"the code": (0, rune.manifest["module"]["bytes"])}
    for section in ("rune.model.sine", "rune.plan.sine"):
        regions[section] = (rune.sections[section].content_start, rune.sections[section].payload_end)
    rng = random.Random(7)
    for what, (start, end) in regions.items():
        for _ in range(20):
            damaged = bytearray(data)
            damaged[rng.randrange(start, end)] ^= 1 << rng.randrange(8)
            with pytest.raises(BadRune, match="corrupted|malformed|not a valid"):
                Runtime.load(bytes(damaged))


def test_a_manifest_name_is_a_rune_name(built_examples):
    """`rune inspect` prints the name: a name with terminal escape sequences is a corrupted manifest."""
    rune = RuneFile.load(built_examples["sine"])
    module = rune.data[:rune.manifest["module"]["bytes"]]
    manifest = {**rune.manifest, "name": "sine\x1b]0;pwned\x07"}
    data = write_rune(module, manifest, [("sine", rune.model_bytes(0), rune.plan_bytes(0))], [])
    with pytest.raises(BadRune, match="corrupted manifest: name"):
        Runtime.load(data)


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
