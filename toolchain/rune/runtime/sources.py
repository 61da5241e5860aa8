"""Capability sources: where a rune's inputs come from on the desktop.

Each source turns a file (or a seed) into exactly the tensor a capability declares: the element
type, the shape, the sample rate, the image size and pixel format. `read(spec)` is called once
per inference; a sound source with a stride streams a long recording in windows.
"""

from __future__ import annotations

import math
import os
from contextlib import contextmanager
from dataclasses import dataclass
from fractions import Fraction
from pathlib import Path

import numpy as np

from rune.files import check_readable
from rune.runtime.errors import InputWarning, SourceError

NUMPY_TYPES = {"u8": np.uint8, "i8": np.int8, "u16": np.uint16, "i16": np.int16, "u32": np.uint32,
               "i32": np.int32, "u64": np.uint64, "i64": np.int64, "f32": np.float32, "f64": np.float64}


@dataclass
class CapabilitySpec:
    """A capability as the rune's manifest describes it."""

    index: int
    stage: str
    kind: str
    args: dict
    type_name: str
    dimensions: tuple[int, ...]
    bytes: int

    def __post_init__(self):
        self.count = math.prod(self.dimensions)  # read once per inference: worth keeping
        self.wire_dtype = np.dtype(self.dtype).newbyteorder("<")  # as the rune's memory holds it

    @classmethod
    def from_manifest(cls, entry: dict) -> "CapabilitySpec":
        return cls(entry["index"], entry["stage"], entry["kind"], dict(entry["args"]), entry["type"],
                   tuple(entry["dimensions"]), entry["bytes"])

    @property
    def dtype(self):
        return NUMPY_TYPES[self.type_name]


class Source:
    """Provides one capability's data, one inference at a time."""

    description = "source"

    def read(self, spec: CapabilitySpec) -> np.ndarray:
        raise NotImplementedError

    def remaining(self, spec: CapabilitySpec) -> int | None:
        """How many more inferences this source can feed (None: any number)."""
        return None


# -- RAND ------------------------------------------------------------------------------------

class SplitMix64:
    """The random generator of the RAND capability (docs/abi.md), identical on every host."""

    MASK = (1 << 64) - 1

    def __init__(self, seed: int):
        self.state = seed & self.MASK

    def take(self, count: int) -> list[int]:
        """The next `count` numbers, in one loop over local names (a RAND capability draws once per element)."""
        mask, state, numbers = self.MASK, self.state, []
        for _ in range(count):
            state = (state + 0x9E3779B97F4A7C15) & mask
            z = ((state ^ (state >> 30)) * 0xBF58476D1CE4E5B9) & mask
            z = ((z ^ (z >> 27)) * 0x94D049BB133111EB) & mask
            numbers.append(z ^ (z >> 31))
        self.state = state
        return numbers

    def take_array(self, count: int) -> np.ndarray:
        """The same numbers as take(count), as uint64s computed all at once (numpy's uint64
        arithmetic wraps as the generator's does): for large tensors."""
        states = np.arange(1, count + 1, dtype=np.uint64) * np.uint64(0x9E3779B97F4A7C15) + np.uint64(self.state)
        self.state = (self.state + count * 0x9E3779B97F4A7C15) & self.MASK
        z = (states ^ (states >> np.uint64(30))) * np.uint64(0xBF58476D1CE4E5B9)
        z = (z ^ (z >> np.uint64(27))) * np.uint64(0x94D049BB133111EB)
        return z ^ (z >> np.uint64(31))


UNIT = 1.0 / (1 << 53)
# From this many elements on, RAND draws with numpy (a Python loop costs about 0.5 us an element;
# numpy's cost per call dominates below it).
VECTOR_FROM = 64


def random_values(generator: SplitMix64, type_name: str, count: int, low, high) -> np.ndarray:
    """`count` values: floats uniform in [low, high) from 53 random bits (then rounded to the type),
    integers low + r mod (high - low), or all bits of the type when no range is given."""
    dtype = NUMPY_TYPES[type_name]
    many = count >= VECTOR_FROM
    draws = generator.take_array(count) if many else generator.take(count)
    if type_name in ("f32", "f64"):
        low = 0.0 if low is None else float(low)
        span = (1.0 if high is None else float(high)) - low
        if many:  # the same double operations, in the same order, element by element
            return ((draws >> np.uint64(11)).astype(np.float64) * UNIT * span + low).astype(dtype)
        # Python floats are IEEE doubles: these are numpy's float64 operations, without numpy's
        # cost per call (which dominates for the usual handful of values).
        return np.array([low + (d >> 11) * UNIT * span for d in draws], dtype=dtype)
    bits = np.dtype(dtype).itemsize * 8
    unsigned = np.dtype(f"u{bits // 8}")
    if low is None and high is None:
        if many:
            return draws.astype(unsigned).view(dtype)  # the low bits
        return np.array([d & ((1 << bits) - 1) for d in draws], dtype=np.uint64).astype(unsigned).view(dtype)
    info = np.iinfo(dtype)
    low = info.min if low is None else int(low)
    high = info.max + 1 if high is None else int(high)
    if high <= low:
        raise SourceError(f"RAND needs min < max, got min={low}, max={high}")
    span = high - low
    if many:
        offsets = draws % np.uint64(span) if span < 1 << 64 else draws
        # low + offset lies in the type: its bits are those of the wrapping uint64 sum
        return (offsets + np.uint64(low % (1 << 64))).astype(unsigned).view(dtype)
    return np.array([low + d % span for d in draws], dtype=dtype)


class RandomSource(Source):
    def __init__(self, seed: int | None = None):
        self.seed = int.from_bytes(os.urandom(8), "little") if seed is None else int(seed)
        self.generators: dict[int, SplitMix64] = {}
        self.description = f"random numbers (seed {self.seed})"

    def read(self, spec: CapabilitySpec) -> np.ndarray:
        # Each RAND capability has its own stream, so adding one does not change the others.
        generator = self.generators.get(spec.index)
        if generator is None:
            generator = self.generators[spec.index] = SplitMix64(self.seed + spec.index)
        values = random_values(generator, spec.type_name, spec.count, spec.args.get("min"), spec.args.get("max"))
        return values.reshape(spec.dimensions)


def unused(source: Source, message: str) -> None:
    """Say once per source that part of its file is not used."""
    import warnings

    if not getattr(source, "said_unused", False):
        source.said_unused = True
        warnings.warn(message, InputWarning, stacklevel=3)


# -- decoding files --------------------------------------------------------------------------

@contextmanager
def decoding(path: Path, what: str, hint: str | None = None, telling: tuple[type, ...] = ()):
    """Turn every failure of a third-party decoder into a SourceError naming the file.

    Decoders (scipy's WAV reader, Pillow) meet damaged files with whatever their code trips on:
    ValueError, struct.error, UnboundLocalError, ZeroDivisionError, MemoryError... None of them is
    a bug in Rune, so all of them are the file's problem. Their warnings ("corrupt EXIF data") are
    silenced: the file either decodes or fails here. `telling`: more exception types whose message
    describes the file."""
    import warnings

    try:
        check_readable(path)  # a device or a pipe would never end, or never start
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            yield
    except FileNotFoundError:
        raise SourceError(f"{path} does not exist") from None
    except OSError as e:
        if e.filename is None:  # the decoder's, not the file system's
            raise SourceError(f"{path} is not a readable {what} ({_reason(e, path, telling)})", hint=hint) from None
        raise SourceError(f"cannot read {path}: {e.strerror}") from None
    except Exception as e:  # noqa: BLE001 -- see above
        raise SourceError(f"{path} is not a readable {what} ({_reason(e, path, telling)})", hint=hint) from None


def _reason(error: Exception, path: Path, telling: tuple[type, ...]) -> str:
    """The decoder's own words when they describe the file, else what the failure means."""
    if isinstance(error, MemoryError):
        return "its header asks for more memory than there is"
    if isinstance(error, (ValueError, OSError, EOFError, SyntaxError, *telling)) and str(error):
        return str(error).replace(f" '{path}'", "")  # the path is said already
    kind = type(error)
    name = kind.__name__ if kind.__module__ == "builtins" else f"{kind.__module__}.{kind.__name__}"
    return f"it is damaged: the decoder failed with {name}"


# -- SOUND -----------------------------------------------------------------------------------

# Sample rates a recording may have. A damaged header can claim any number; beyond these a
# resampling filter would need gigabytes.
MIN_RATE, MAX_RATE = 1000, 1_000_000
# Resampling from `rate` to `hz` filters with up/down terms of hz/rate in lowest terms; an unusual
# rate (16001 Hz, say) gets the nearest ratio with terms up to this, within 0.1%.
MAX_RATIO_TERM = 1000

WAV_HINT = "convert it to PCM WAV, e.g. with 'sox in.mp3 -b 16 out.wav'"


def read_wav(path: Path) -> tuple[int, np.ndarray]:
    """(sample rate, mono float samples in [-1, 1] or int16 samples as they are)."""
    from scipy.io import wavfile

    with decoding(path, "WAV file", WAV_HINT):
        rate, data = wavfile.read(path)
    if not MIN_RATE <= rate <= MAX_RATE:
        raise SourceError(f"{path} is not a readable WAV file (its header gives the sample rate {rate} Hz, "
                          f"outside {MIN_RATE}..{MAX_RATE:,})", hint=WAV_HINT)
    if data.ndim == 2:  # several channels: mix down
        if data.shape[1] == 0:
            raise SourceError(f"{path} is not a readable WAV file (its header gives 0 channels)", hint=WAV_HINT)
        data = _to_unit(data).mean(axis=1)
    return rate, data


def _to_unit(data: np.ndarray) -> np.ndarray:
    """Samples as floats in [-1, 1] (8-bit WAV is unsigned, the wider integer formats are signed)."""
    if data.dtype.kind == "f":
        # A float WAV may hold NaN or infinities (damaged, or badly written): silence and full scale.
        return np.nan_to_num(data.astype(np.float64), nan=0.0, posinf=1.0, neginf=-1.0)
    if data.dtype == np.uint8:
        return (data.astype(np.float64) - 128.0) / 128.0
    return data.astype(np.float64) / -np.iinfo(data.dtype).min


def resampling_ratio(rate: int, hz: int) -> tuple[int, int]:
    """(up, down) for resampling from `rate` to `hz`: exact when the terms are small (44.1 kHz to
    16 kHz is 160/441), otherwise the nearest ratio whose terms are at most MAX_RATIO_TERM."""
    exact = Fraction(hz, rate)
    if max(exact.numerator, exact.denominator) <= MAX_RATIO_TERM:
        return exact.numerator, exact.denominator
    if exact < 1:
        near = exact.limit_denominator(MAX_RATIO_TERM)
        return near.numerator, near.denominator
    near = (1 / exact).limit_denominator(MAX_RATIO_TERM)
    return near.denominator, near.numerator


def to_pcm16(rate: int, data: np.ndarray, hz: int) -> np.ndarray:
    """16-bit PCM at `hz`: exact when the recording already is; otherwise resampled and rounded."""
    if data.dtype == np.int16 and rate == hz:
        return data
    unit = _to_unit(data)
    if rate != hz and len(unit):
        from scipy.signal import resample_poly

        up, down = resampling_ratio(rate, hz)
        unit = resample_poly(unit, up, down)
    return np.clip(np.round(unit * 32768.0), -32768, 32767).astype(np.int16)


class SoundSource(Source):
    """A WAV file as `sample_duration_ms` of audio at `hz`; with `stride_ms`, successive windows."""

    def __init__(self, path: Path | str, stride_ms: int | None = None):
        self.path = Path(path)
        self.stride_ms = stride_ms
        self.position = 0
        self.samples: np.ndarray | None = None
        self.rate: int | None = None
        self.description = f"sound from {self.path}"

    def _load(self, hz: int) -> np.ndarray:
        if self.samples is None or self.rate != hz:
            rate, data = read_wav(self.path)
            self.samples, self.rate = to_pcm16(rate, data, hz), hz
        return self.samples

    def window(self, spec: CapabilitySpec) -> int:
        return spec.count

    def remaining(self, spec: CapabilitySpec) -> int | None:
        if not self.stride_ms:
            return None
        samples = self._load(int(spec.args["hz"]))
        stride = max(1, int(spec.args["hz"]) * self.stride_ms // 1000)
        left = len(samples) - self.position - spec.count
        return 0 if left < 0 else left // stride + 1

    def read(self, spec: CapabilitySpec) -> np.ndarray:
        hz = int(spec.args["hz"])
        samples = self._load(hz)
        window = samples[self.position:self.position + spec.count]
        if len(window) < spec.count:  # a short recording is padded with silence
            self._warn_padding(len(window), spec.count, hz, spec.stage)
            window = np.concatenate([window, np.zeros(spec.count - len(window), np.int16)])
        elif not self.stride_ms and len(samples) > spec.count * 1.01:  # (not resampling's extra sample)
            unused(self, f"{self.path} holds {len(samples) * 1000 / hz:g} ms of audio; capability '{spec.stage}' "
                         f"takes {spec.count * 1000 / hz:g} ms, so only its beginning is used (--stride-ms streams "
                         "all of it)")
        if self.stride_ms:
            self.position += max(1, hz * self.stride_ms // 1000)
        return window.reshape(spec.dimensions)

    def _warn_padding(self, have: int, need: int, hz: int, stage: str) -> None:
        import warnings

        held = "no audio" if not have else f"{have * 1000 / hz:g} ms of audio"
        where = f" from {self.position * 1000 / hz:g} ms" if self.position else ""
        warnings.warn(f"{self.path} holds {held}{where}; capability '{stage}' takes {need * 1000 / hz:g} ms, so "
                      f"{(need - have) * 1000 / hz:g} ms of silence were added", InputWarning, stacklevel=2)


# -- IMAGE -----------------------------------------------------------------------------------

class ImageSource(Source):
    """A picture (PNG, JPEG, BMP, ...) turned upright (EXIF orientation), resized to the
    capability's size and converted to its pixel format."""

    def __init__(self, path: Path | str):
        self.path = Path(path)
        self.description = f"image from {self.path}"
        self.cache: dict[tuple, np.ndarray] = {}

    def read(self, spec: CapabilitySpec) -> np.ndarray:
        key = (spec.args["width"], spec.args["height"], spec.args["pixel_format"], spec.type_name)
        if key not in self.cache:
            self.cache[key] = self._load(spec).reshape(spec.dimensions)
        return self.cache[key]

    def _load(self, spec: CapabilitySpec) -> np.ndarray:
        from PIL import Image, ImageOps

        width, height, fmt = int(spec.args["width"]), int(spec.args["height"]), spec.args["pixel_format"]
        # Only Pillow's decoding is the file's problem; what Rune does with the pixels is not.
        # Pillow refuses pictures beyond about 179 megapixels (a damaged header can claim any size).
        with decoding(self.path, "image", telling=(Image.DecompressionBombError,)):
            with Image.open(self.path) as image:
                image.load()
                image.getexif()  # decoded on first use, and kept: EXIF is the file's data too
        image = ImageOps.exif_transpose(image)  # as the camera was held
        image = to_8_bits(image).convert("L" if fmt == "GrayScale" else "RGB")
        pixels = np.asarray(fit(image, width, height), dtype=np.uint8)
        if fmt == "BGR":
            pixels = pixels[..., ::-1]
        if spec.type_name == "u8":
            return pixels
        if spec.type_name == "i8":  # the int8 models' convention
            return (pixels.astype(np.int16) - 128).astype(np.int8)
        return (pixels.astype(np.float32) / np.float32(255.0)).astype(np.float32)


def to_8_bits(image):
    """16-bit greyscale (Pillow's modes I;16* and I, as PNG, TIFF and PGM give it) scaled to 8 bits:
    Pillow's own conversion clips it, so everything above 255 would be white."""
    from PIL import Image

    if image.mode.startswith("I;16") or image.mode == "I":
        wide = np.clip(np.asarray(image).astype(np.int64), 0, 65535)
        return Image.fromarray(((wide + 128) // 257).astype(np.uint8), "L")  # round(v * 255 / 65535)
    return image


def fit(image, width: int, height: int):
    """The picture at width x height. Shrinking averages the area each new pixel covers (Pillow's
    BOX filter: no aliasing, and no more blur than the change of size requires); growing
    interpolates bilinearly. An axis that shrinks and one that grows are resized in turn."""
    from PIL import Image

    def filter_for(new: int, old: int):
        return Image.BOX if new < old else Image.BILINEAR

    old_width, old_height = image.size
    if (width, height) == (old_width, old_height):
        return image
    if (width <= old_width) == (height <= old_height):  # both shrink, or both grow
        return image.resize((width, height), Image.BOX if width <= old_width else Image.BILINEAR)
    image = image.resize((width, old_height), filter_for(width, old_width))
    return image.resize((width, height), filter_for(height, old_height))


# -- ACCEL and RAW ---------------------------------------------------------------------------

class AccelSource(Source):
    """Rows of x, y, z from a CSV file (a header row is skipped)."""

    def __init__(self, path: Path | str):
        self.path = Path(path)
        self.description = f"accelerometer samples from {self.path}"
        self.rows: np.ndarray | None = None

    def read(self, spec: CapabilitySpec) -> np.ndarray:
        if self.rows is None:
            self.rows = self._load()
        needed = spec.count // 3
        if len(self.rows) < needed:
            raise SourceError(f"{self.path} has {len(self.rows)} rows of x, y, z; the capability needs {needed}",
                              stage=spec.stage)
        if len(self.rows) > needed:
            unused(self, f"{self.path} has {len(self.rows)} rows of x, y, z; capability '{spec.stage}' takes the "
                         f"first {needed}")
        return self.rows[:needed].astype(np.float32).reshape(spec.dimensions)

    def _load(self) -> np.ndarray:
        import csv

        with decoding(self.path, "CSV file", hint="write one x,y,z row of numbers per line"):
            with open(self.path, newline="", encoding="utf-8-sig") as f:  # (a byte-order mark is no header)
                lines = list(csv.reader(f))
        rows = []
        for number, line in enumerate(lines, start=1):
            fields = [v.strip() for v in line if v.strip()]
            if not fields:
                continue
            try:
                values = [float(v) for v in fields]
            except ValueError:
                if number == 1 and not any(_is_number(v) for v in fields):
                    continue  # a header: names, not numbers
                raise SourceError(f"{self.path}:{number}: expected numbers x, y, z, got {line}") from None
            if len(values) != 3:
                raise SourceError(f"{self.path}:{number}: expected 3 values (x, y, z), got {len(values)}")
            if not all(abs(v) <= F32_MAX for v in values):  # (false for nan too)
                raise SourceError(f"{self.path}:{number}: {line} is not three finite 32-bit float numbers")
            rows.append(values)
        return np.array(rows, dtype=np.float64).reshape(-1, 3)


class RawSource(Source):
    """The bytes of a file, as little-endian elements of the capability's type."""

    def __init__(self, path: Path | str):
        self.path = Path(path)
        self.description = f"raw bytes from {self.path}"

    def read(self, spec: CapabilitySpec) -> np.ndarray:
        with decoding(self.path, "file"):
            data = self.path.read_bytes()
        if len(data) < spec.bytes:
            raise SourceError(f"{self.path} has {len(data)} bytes; the capability needs {spec.bytes}",
                              stage=spec.stage)
        if len(data) > spec.bytes:
            unused(self, f"{self.path} has {len(data)} bytes; capability '{spec.stage}' takes the first {spec.bytes}")
        return np.frombuffer(data[:spec.bytes], dtype=np.dtype(spec.dtype).newbyteorder("<")).reshape(spec.dimensions)


F32_MAX = float(np.finfo(np.float32).max)


def _is_number(text: str) -> bool:
    try:
        float(text)
        return True
    except ValueError:
        return False


FILE_SOURCES = {"SOUND": SoundSource, "IMAGE": ImageSource, "ACCEL": AccelSource, "RAW": RawSource}
