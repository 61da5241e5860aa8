"""Compile the generated glue and the blocks' C into the rune's wasm module.

The compiler is the clang inside the `ziglang` wheel (pip installs it; see docs/architecture.md).
The module has no libc imports, one memory sized to what the rune uses, and only the imports
of the rune ABI; anything else fails the build.
"""

from __future__ import annotations

import hashlib
import os
import re
import subprocess
from dataclasses import dataclass
from pathlib import Path

from rune import abi, cache
from rune.blocks.entry_points import missing_entry_points
from rune.container import wasm
from rune.diagnostics import Diagnostic, RuneError
from rune.paths import cache_dir, proc_blocks_dir

# MVP WebAssembly runs on every engine we target (wasmtime, wasm3, wasm2c); no fused
# multiply-add, so every engine computes floats identically. Link-time optimisation lets the
# compiler see each block's constant tensor types and drop the code for all the others (30%
# smaller runes).
COMPILE_FLAGS = [
    "--target=wasm32-wasi", "-mexec-model=reactor", "-mcpu=mvp", "-Os", "-flto", "-std=c11",
    "-ffp-contract=off", "-fno-exceptions", "-ffunction-sections", "-fdata-sections",
    "-Wall", "-Wextra", "-Wno-unused-parameter", "-Werror=implicit-function-declaration",
    "-Werror=incompatible-pointer-types", "-Werror=int-conversion", "-fno-color-diagnostics",
]
# The module is linked with as much memory as any --memory-limit allows, so that a rune within
# the limit always links (the memory budget, not the linker, judges its size); the memory is then
# shrunk to what is used. zig reads --initial-memory as a 32-bit number: one page short of the
# 4 GiB a 32-bit WebAssembly memory can address.
LINK_PAGES = 65535
DEFAULT_STACK_BYTES = 8192
DEFAULT_MEMORY_LIMIT = 64 * 1024
MAX_MEMORY_LIMIT = LINK_PAGES * wasm.PAGE_SIZE


@dataclass
class WasmModule:
    data: bytes
    used_bytes: int  # stack + data + tensors: the bytes of memory the rune touches
    stack_bytes: int
    pages: int
    cached: bool


def zig() -> list[str]:
    """The command that runs the zig toolchain's C compiler."""
    import ziglang

    executable = Path(ziglang.__file__).parent / ("zig.exe" if os.name == "nt" else "zig")
    return [str(executable), "cc"]


def zig_version() -> str:
    """The installed ziglang wheel's version, read from its metadata folder (cheaper than importlib.metadata)."""
    import ziglang

    site = Path(ziglang.__file__).resolve().parents[1]
    found = sorted(site.glob("ziglang-*.dist-info"))
    return found[-1].name[len("ziglang-"):-len(".dist-info")] if found else "unknown"


def compile_module(generated, block_dirs: list[Path], *, stack_bytes: int = DEFAULT_STACK_BYTES,
                   log=None) -> WasmModule:
    """Compile the generated glue (a codegen.GeneratedSources) and the blocks' sources into a
    checked module with the memory it uses (compiler/memory_budget.py checks that against the
    limit); a module built from the same inputs before comes from the cache."""
    sources = _block_sources(block_dirs)
    key = _cache_key(generated.fingerprint, sources, stack_bytes)
    cached = cache_dir() / "wasm" / f"{key}.wasm"
    data = cache.load(cached)
    was_cached = data is not None
    if data is None:
        data = _compile(generated.render(), sources, block_dirs, stack_bytes, key, log, generated.blocks)
        cache.store(cached, data)
    check_abi(data)
    used = wasm.global_initial_i32(data, "__heap_base")
    if used is None:
        raise RuneError("internal error: the module does not export __heap_base")
    pages = max(1, -(-used // wasm.PAGE_SIZE))
    data = wasm.set_memory_limits(data, pages, pages)
    return WasmModule(data, used, stack_bytes, pages, was_cached)


def _block_sources(block_dirs: list[Path]) -> list[Path]:
    sources = []
    for folder in block_dirs:
        sources.extend(sorted(folder.glob("*.c")))
    return sources


def _cache_key(fingerprint: str, sources: list[Path], stack_bytes: int) -> str:
    digest = hashlib.sha256()
    digest.update(f"zig {zig_version()}\0{' '.join(COMPILE_FLAGS)}\0{stack_bytes}\0{fingerprint}\0".encode())
    headers = sorted((proc_blocks_dir() / "include").glob("*.h"))
    for folder in {s.parent for s in sources}:
        headers.extend(sorted(folder.glob("*.h")))
    for path in sources + headers:
        digest.update(str(path.name).encode() + b"\0" + path.read_bytes() + b"\0")
    return digest.hexdigest()[:32]


def _compile(files: dict[str, str], sources: list[Path], block_dirs: list[Path], stack_bytes: int, key: str,
             log, blocks=()) -> bytes:
    build = cache_dir() / "build" / key
    build.mkdir(parents=True, exist_ok=True)
    for name, text in files.items():
        (build / name).write_text(text)
    output = build / "module.wasm"
    includes = [build, proc_blocks_dir() / "include", *block_dirs]
    command = [
        *zig(), *COMPILE_FLAGS, *(f"-I{p}" for p in includes),
        str(build / "rune_glue.c"), *(str(s) for s in sources),
        f"-Wl,-z,stack-size={stack_bytes}",
        f"-Wl,--initial-memory={LINK_PAGES * wasm.PAGE_SIZE}", f"-Wl,--max-memory={LINK_PAGES * wasm.PAGE_SIZE}",
        "-Wl,--strip-all", "-Wl,--export=__heap_base", "-Wl,--export=__data_end", "-Wl,--gc-sections",
        "-o", str(output),
    ]
    env = dict(os.environ, ZIG_GLOBAL_CACHE_DIR=str(cache_dir() / "zig"), ZIG_LOCAL_CACHE_DIR=str(cache_dir() / "zig"))
    if log and not (cache_dir() / "zig").exists():
        log("preparing the C library for wasm32 (first build only, about 30 s)")
    try:
        result = subprocess.run(command, capture_output=True, text=True, env=env, cwd=build, timeout=600)
    except FileNotFoundError:
        raise RuneError(Diagnostic("the C compiler (zig) is not installed",
                                   hint="install Rune with 'pip install -e .', which installs ziglang")) from None
    except subprocess.TimeoutExpired:
        raise RuneError("the C compiler did not finish within 10 minutes") from None
    if result.returncode != 0:
        missing = missing_entry_points(result.stderr, blocks)  # the linker names only generated code
        if missing:
            raise RuneError(missing)
        too_small = re.search(r"initial memory too small, (\d+) bytes needed", result.stderr)
        if too_small:  # only when the constants take a rune within the largest limit beyond it
            raise RuneError(Diagnostic(f"the rune needs {int(too_small.group(1)):,} bytes of memory, more than the "
                                       f"{LINK_PAGES * wasm.PAGE_SIZE:,} a rune can have",
                                       hint="make its tensors smaller (shorter audio, smaller images)"))
        raise RuneError(Diagnostic("the C code did not compile:\n" + _clean(result.stderr, build),
                                   hint="the errors above point into the block's source file"))
    return output.read_bytes()


def _clean(stderr: str, build: Path) -> str:
    """Compiler output without zig's own noise, with generated files named plainly."""
    lines = [line for line in stderr.splitlines() if line.strip() and not line.startswith(("error: unable to",))]
    return "\n".join("    " + line.replace(str(build) + "/", "<generated>/") for line in lines)


def check_abi(data: bytes) -> None:
    """A rune may import only the ABI's functions and must export what hosts call."""
    problems = abi.module_problems(data)
    foreign = [p for p in problems if "imports" in p]
    if foreign:
        raise RuneError(Diagnostic(
            "the rune's code is not self-contained: " + "; ".join(foreign),
            hint="a block probably calls a function that needs an operating system (printf, malloc, "
                 "fopen, time) or one that is not defined anywhere; blocks must be self-contained"))
    if problems:
        raise RuneError(f"internal error: the generated module breaks the ABI: {'; '.join(problems)}")
