"""The desktop runtime (`rune run` and the Python API): wasmtime or wasm3, TensorFlow Lite Micro,
capabilities fed from files."""

from rune.runtime.errors import MissingSource, RunError, StageFailed, Timeout, Trap
from rune.runtime.outputs import Output
from rune.runtime.runtime import Runtime
from rune.runtime.sources import AccelSource, ImageSource, RandomSource, RawSource, SoundSource, Source

__all__ = ["AccelSource", "ImageSource", "MissingSource", "Output", "RandomSource", "RawSource", "RunError",
           "Runtime", "SoundSource", "Source", "StageFailed", "Timeout", "Trap"]
