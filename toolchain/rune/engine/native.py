"""The engine's C runtime on this computer: built with gcc from firmware_templates/engine (the same
sources the firmware compiles) and driven through ctypes.

The shared library is cached in cache_dir()/engine/native/, named by a hash of every source, the
generated sigmoid table, the compiler and the flags, so a change to any of them rebuilds it.

The sanitizer build (AddressSanitizer + UndefinedBehaviorSanitizer) can only be loaded by a
process started with libasan preloaded: start one with `sanitizer_env()`; the test suite does
so in a subprocess.
"""

from __future__ import annotations

import ctypes
import fcntl
import os
import subprocess
import tempfile
from pathlib import Path

from rune.engine.sources import c_sources, include_dirs, sources_digest
from rune.paths import cache_dir

CC = os.environ.get("CC", "gcc")
# ISO C99: gcc then never fuses float multiply-adds, which bit-exactness with TFLM's float kernels needs.
FLAGS = ["-std=c99", "-O2", "-g", "-fPIC", "-shared", "-Wall", "-Wextra", "-Wpedantic", "-Wshadow", "-Wconversion",
         "-Wno-sign-conversion", "-Werror"]
SANITIZE_FLAGS = ["-fsanitize=address,undefined", "-fno-sanitize-recover=all", "-fno-omit-frame-pointer"]
MAX_ARENA = 1 << 26  # what a damaged plan may make us allocate: it then fails init instead


class EngineError(RuntimeError):
    """The C runtime refused a plan or failed; `status` is its rune_engine_status."""

    def __init__(self, status: int, message: str, operator: int = -1):
        self.status, self.operator = status, operator
        super().__init__(message + (f" (operator {operator})" if operator >= 0 else ""))


def build_library(sanitize: bool = False) -> Path:
    """Compile the engine into a shared library (if not cached) and return its path."""
    flags = FLAGS + (SANITIZE_FLAGS if sanitize else [])
    compiler = subprocess.run([CC, "--version"], capture_output=True, text=True).stdout
    folder = cache_dir() / "engine" / "native"
    folder.mkdir(parents=True, exist_ok=True)
    library = folder / f"librune_engine-{sources_digest(compiler, *flags)}{'-asan' if sanitize else ''}.so"
    with open(folder / ".lock", "w") as lock:
        fcntl.flock(lock, fcntl.LOCK_EX)  # one process builds, the others wait and use its library
        if library.exists():
            return library
        fd, tmp = tempfile.mkstemp(dir=folder, suffix=".so")
        os.close(fd)
        includes = [arg for d in include_dirs() for arg in ("-I", str(d))]
        command = [CC, *flags, *includes, *map(str, c_sources()), "-o", tmp, "-lm"]
        result = subprocess.run(command, capture_output=True, text=True)
        if result.returncode != 0:
            os.unlink(tmp)
            raise RuntimeError(f"building the engine failed:\n{' '.join(command)}\n{result.stderr}")
        os.replace(tmp, library)
    return library


def sanitizer_env(env: dict | None = None) -> dict:
    """The environment for a process that loads the sanitizer build."""
    env = dict(os.environ if env is None else env)
    libasan = subprocess.run([CC, "-print-file-name=libasan.so"], capture_output=True, text=True).stdout.strip()
    env["LD_PRELOAD"] = libasan
    env.setdefault("ASAN_OPTIONS", "detect_leaks=0:abort_on_error=1")
    env.setdefault("UBSAN_OPTIONS", "print_stacktrace=1:halt_on_error=1")
    return env


class _Engine(ctypes.Structure):  # struct rune_engine
    _fields_ = [("plan", ctypes.c_void_p), ("model", ctypes.c_void_p), ("arena", ctypes.c_void_p),
                ("status", ctypes.c_int16), ("error_op", ctypes.c_int16)]


_LIBRARIES: dict[bool, ctypes.CDLL] = {}


def load_library(sanitize: bool = False) -> ctypes.CDLL:
    if sanitize and "libasan" not in Path("/proc/self/maps").read_text():
        raise RuntimeError("the sanitizer build needs libasan preloaded: start the process with sanitizer_env()")
    if sanitize not in _LIBRARIES:
        lib = ctypes.CDLL(str(build_library(sanitize)))
        P, U32, E = ctypes.c_void_p, ctypes.c_uint32, ctypes.POINTER(_Engine)
        for name, args, result in (
                ("rune_engine_init", [E, P, U32, P, U32, P, U32], ctypes.c_int),
                ("rune_engine_input", [E, U32, ctypes.POINTER(U32)], P),
                ("rune_engine_output", [E, U32, ctypes.POINTER(U32)], P),
                ("rune_engine_invoke", [E], ctypes.c_int),
                ("rune_engine_reset", [E], ctypes.c_int),
                ("rune_engine_error", [E], ctypes.c_char_p),
                ("rune_engine_input_count", [E], U32),
                ("rune_engine_output_count", [E], U32),
                ("rune_plan_arena_bytes", [P, U32], U32)):
            function = getattr(lib, name)
            function.argtypes, function.restype = args, result
        _LIBRARIES[sanitize] = lib
    return _LIBRARIES[sanitize]


def _aligned_copy(data: bytes, size: int | None = None):
    """A 16-byte aligned, writable ctypes buffer holding `data` (and the allocation that keeps it)."""
    n = max(len(data) if size is None else size, 1)
    raw = (ctypes.c_uint8 * (n + 16))()
    view = (ctypes.c_uint8 * n).from_buffer(raw, (-ctypes.addressof(raw)) % 16)
    ctypes.memmove(view, data, len(data))
    return raw, view


class NativeEngine:
    """One model and its plan in the C runtime: raw bytes in, raw bytes out.

    >>> engine = NativeEngine(plan.to_bytes(), model)
    >>> outputs = engine.invoke([input_bytes])
    """

    def __init__(self, plan: bytes, model: bytes, arena_bytes: int | None = None, sanitize: bool = False):
        self.lib = load_library(sanitize)
        self._buffers = [_aligned_copy(bytes(plan)), _aligned_copy(bytes(model))]
        plan_view, model_view = self._buffers[0][1], self._buffers[1][1]
        if arena_bytes is None:
            arena_bytes = min(self.lib.rune_plan_arena_bytes(plan_view, len(plan)), MAX_ARENA)
        self.arena_bytes = arena_bytes
        self._buffers.append(_aligned_copy(b"", self.arena_bytes))
        self._engine = _Engine()
        self._check(self.lib.rune_engine_init(self._ref, plan_view, len(plan), model_view, len(model),
                                              self._buffers[2][1], self.arena_bytes))
        self.input_sizes = [self._slot(self.lib.rune_engine_input, i)[1]
                            for i in range(self.lib.rune_engine_input_count(self._ref))]
        self.output_sizes = [self._slot(self.lib.rune_engine_output, i)[1]
                             for i in range(self.lib.rune_engine_output_count(self._ref))]

    @property
    def _ref(self):
        return ctypes.byref(self._engine)

    def _check(self, status: int) -> None:
        if status != 0:
            raise EngineError(status, self.lib.rune_engine_error(self._ref).decode(), self._engine.error_op)

    def _slot(self, function, index: int) -> tuple[int, int]:
        size = ctypes.c_uint32()
        return function(self._ref, index, ctypes.byref(size)), size.value

    def invoke(self, inputs: list[bytes]) -> list[bytes]:
        if [len(i) for i in inputs] != self.input_sizes:
            raise ValueError(f"the model takes inputs of {self.input_sizes} bytes, not {[len(i) for i in inputs]}")
        for index, data in enumerate(inputs):
            ctypes.memmove(self._slot(self.lib.rune_engine_input, index)[0], data, len(data))
        self._check(self.lib.rune_engine_invoke(self._ref))
        return [ctypes.string_at(*self._slot(self.lib.rune_engine_output, i)) for i in range(len(self.output_sizes))]

    def reset(self) -> None:
        """Clear the model's state (LSTM and SVDF), as at init."""
        self._check(self.lib.rune_engine_reset(self._ref))


def init_status(plan: bytes, model: bytes, arena_bytes: int | None = None, sanitize: bool = False) -> int:
    """Only rune_engine_init's status (0 = accepted), for tests of damaged plans."""
    try:
        NativeEngine(plan, model, arena_bytes, sanitize)
    except EngineError as e:
        return e.status
    return 0
