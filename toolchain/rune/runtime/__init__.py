"""The desktop runtime (`rune run` and the Python API): wasmtime or wasm3, TensorFlow Lite Micro,
capabilities fed from files."""

from rune.runtime.errors import (BadRune, InputWarning, MissingSource, ModelFailure, RunError, SourceError,
                                 StageFailed, Timeout, Trap)
from rune.runtime.outputs import Output
from rune.runtime.runtime import Runtime
from rune.runtime.sources import AccelSource, ImageSource, RandomSource, RawSource, SoundSource, Source

__all__ = ["AccelSource", "BadRune", "ImageSource", "InputWarning", "MissingSource", "ModelFailure", "Output",
           "RandomSource", "RawSource", "RunError", "Runtime", "SoundSource", "Source", "SourceError", "StageFailed",
           "Timeout", "Trap"]
