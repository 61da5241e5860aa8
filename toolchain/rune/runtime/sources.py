"""Capability sources: where a rune's inputs come from on the desktop.

Each source turns a file (or a seed) into exactly the tensor a capability declares: the element
type, the shape, the sample rate, the image size and pixel format. `read(spec)` is called once
per inference; a sound source with a stride streams a long recording in windows.
"""

from __future__ import annotations

import os
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from rune.runtime.errors import SourceError

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

    @classmethod
    def from_manifest(cls, entry: dict) -> "CapabilitySpec":
        return cls(entry["index"], entry["stage"], entry["kind"], dict(entry["args"]), entry["type"],
                   tuple(entry["dimensions"]), entry["bytes"])

    @property
    def dtype(self):
        return NUMPY_TYPES[self.type_name]

    @property
    def count(self) -> int:
        return int(np.prod(self.dimensions)) if self.dimensions else 1


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

    def next(self) -> int:
        self.state = (self.state + 0x9E3779B97F4A7C15) & self.MASK
        z = self.state
        z = ((z ^ (z >> 30)) * 0xBF58476D1CE4E5B9) & self.MASK
        z = ((z ^ (z >> 27)) * 0x94D049BB133111EB) & self.MASK
        return z ^ (z >> 31)


def random_values(generator: SplitMix64, type_name: str, count: int, low, high) -> np.ndarray:
    """`count` values: floats uniform in [low, high) from 53 random bits (then rounded to the type),
    integers low + r mod (high - low), or all bits of the type when no range is given."""
    dtype = NUMPY_TYPES[type_name]
    draws = [generator.next() for _ in range(count)]
    if type_name in ("f32", "f64"):
        low = 0.0 if low is None else float(low)
        high = 1.0 if high is None else float(high)
        unit = np.array([d >> 11 for d in draws], dtype=np.float64) * (1.0 / (1 << 53))
        return (low + unit * (high - low)).astype(dtype)
    bits = np.dtype(dtype).itemsize * 8
    if low is None and high is None:
        return np.array([d & ((1 << bits) - 1) for d in draws], dtype=np.uint64).astype(
            np.dtype(f"u{bits // 8}")).view(dtype)
    info = np.iinfo(dtype)
    low = info.min if low is None else int(low)
    high = info.max + 1 if high is None else int(high)
    if high <= low:
        raise SourceError(f"RAND needs min < max, got min={low}, max={high}")
    span = high - low
    return np.array([low + d % span for d in draws], dtype=dtype)


class RandomSource(Source):
    def __init__(self, seed: int | None = None):
        self.seed = int.from_bytes(os.urandom(8), "little") if seed is None else int(seed)
        self.generators: dict[int, SplitMix64] = {}
        self.description = f"random numbers (seed {self.seed})"

    def read(self, spec: CapabilitySpec) -> np.ndarray:
        # Each RAND capability has its own stream, so adding one does not change the others.
        generator = self.generators.setdefault(spec.index, SplitMix64(self.seed + spec.index))
        values = random_values(generator, spec.type_name, spec.count, spec.args.get("min"), spec.args.get("max"))
        return values.reshape(spec.dimensions)


# -- SOUND -----------------------------------------------------------------------------------

def read_wav(path: Path) -> tuple[int, np.ndarray]:
    """(sample rate, mono float samples in [-1, 1] or int16 samples as they are)."""
    import warnings

    from scipy.io import wavfile

    try:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore", wavfile.WavFileWarning)
            rate, data = wavfile.read(path)
    except FileNotFoundError:
        raise SourceError(f"{path} does not exist") from None
    except (ValueError, OSError, EOFError) as e:
        raise SourceError(f"{path} is not a readable WAV file ({e})",
                          hint="convert it to PCM WAV, e.g. with 'sox in.mp3 -b 16 out.wav'") from None
    if data.ndim == 2:  # several channels: mix down
        data = _to_unit(data).mean(axis=1)
    return rate, data


def _to_unit(data: np.ndarray) -> np.ndarray:
    """Samples as floats in [-1, 1] (8-bit WAV is unsigned, the wider integer formats are signed)."""
    if data.dtype.kind == "f":
        return data.astype(np.float64)
    if data.dtype == np.uint8:
        return (data.astype(np.float64) - 128.0) / 128.0
    return data.astype(np.float64) / -np.iinfo(data.dtype).min


def to_pcm16(rate: int, data: np.ndarray, hz: int) -> np.ndarray:
    """16-bit PCM at `hz`: exact when the recording already is; otherwise resampled and rounded."""
    if data.dtype == np.int16 and rate == hz:
        return data
    unit = _to_unit(data)
    if rate != hz:
        from math import gcd

        from scipy.signal import resample_poly

        g = gcd(rate, hz)
        unit = resample_poly(unit, hz // g, rate // g)
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
            window = np.concatenate([window, np.zeros(spec.count - len(window), np.int16)])
        if self.stride_ms:
            self.position += max(1, hz * self.stride_ms // 1000)
        return window.reshape(spec.dimensions)


# -- IMAGE -----------------------------------------------------------------------------------

class ImageSource(Source):
    """A picture (PNG, JPEG, BMP, ...) resized to the capability's size, in its pixel format."""

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
        from PIL import Image, UnidentifiedImageError

        width, height, fmt = int(spec.args["width"]), int(spec.args["height"]), spec.args["pixel_format"]
        try:
            with Image.open(self.path) as image:
                image = image.convert("L" if fmt == "GrayScale" else "RGB")
                if image.size != (width, height):
                    image = image.resize((width, height), Image.BILINEAR)
                pixels = np.asarray(image, dtype=np.uint8)
        except FileNotFoundError:
            raise SourceError(f"{self.path} does not exist") from None
        except (UnidentifiedImageError, OSError, ValueError) as e:
            raise SourceError(f"{self.path} is not a readable image ({e})") from None
        if fmt == "BGR":
            pixels = pixels[..., ::-1]
        if spec.type_name == "u8":
            return pixels
        if spec.type_name == "i8":  # the int8 models' convention
            return (pixels.astype(np.int16) - 128).astype(np.int8)
        return (pixels.astype(np.float32) / np.float32(255.0)).astype(np.float32)


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
        return self.rows[:needed].astype(np.float32).reshape(spec.dimensions)

    def _load(self) -> np.ndarray:
        import csv

        try:
            with open(self.path, newline="") as f:
                lines = list(csv.reader(f))
        except OSError as e:
            raise SourceError(f"cannot read {self.path}: {e.strerror}") from None
        rows = []
        for number, line in enumerate(lines, start=1):
            fields = [v.strip() for v in line if v.strip()]
            if not fields:
                continue
            try:
                values = [float(v) for v in fields]
            except ValueError:
                if not rows and number == 1:
                    continue  # a header
                raise SourceError(f"{self.path}:{number}: expected numbers x, y, z, got {line}") from None
            if len(values) != 3:
                raise SourceError(f"{self.path}:{number}: expected 3 values (x, y, z), got {len(values)}")
            rows.append(values)
        return np.array(rows, dtype=np.float64).reshape(-1, 3)


class RawSource(Source):
    """The bytes of a file, as little-endian elements of the capability's type."""

    def __init__(self, path: Path | str):
        self.path = Path(path)
        self.description = f"raw bytes from {self.path}"

    def read(self, spec: CapabilitySpec) -> np.ndarray:
        try:
            data = self.path.read_bytes()
        except OSError as e:
            raise SourceError(f"cannot read {self.path}: {e.strerror}") from None
        if len(data) < spec.bytes:
            raise SourceError(f"{self.path} has {len(data)} bytes; the capability needs {spec.bytes}",
                              stage=spec.stage)
        return np.frombuffer(data[:spec.bytes], dtype=np.dtype(spec.dtype).newbyteorder("<")).reshape(spec.dimensions)


FILE_SOURCES = {"SOUND": SoundSource, "IMAGE": ImageSource, "ACCEL": AccelSource, "RAW": RawSource}
