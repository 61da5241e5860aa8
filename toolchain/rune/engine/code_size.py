"""How much flash the engine's code takes on a Cortex-M4: the runtime and the kernels a model
needs, compiled as a firmware compiles them and linked with --gc-sections (so what the C library
gives the kernels, expf for instance, counts too). Measured once per kernel set, sources and
compiler, and cached."""

from __future__ import annotations

import shutil
import subprocess
import tempfile
from pathlib import Path

from rune import cache
from rune.engine.sources import DEVICE_FLAGS, export_sources, sources_digest
from rune.paths import cache_dir

CC = "arm-none-eabi-gcc"
CPU_FLAGS = ["-mcpu=cortex-m4", "-mthumb", "-mfloat-abi=hard", "-mfpu=fpv4-sp-d16"]
LINK_FLAGS = ["-nostartfiles", "-Wl,--gc-sections", "--specs=nano.specs", "--specs=nosys.specs", "-Wl,-e,main", "-lm"]

# The smallest program that keeps the whole engine: initialise, fill an input, invoke.
_PROGRAM = """#include "rune_engine.h"
extern const uint8_t plan[], model[];
extern uint8_t arena[];
int main(void) {
    static rune_engine e;
    uint32_t bytes;
    if (rune_engine_init(&e, plan, 64, model, 64, arena, 64) != RUNE_ENGINE_OK) return 1;
    rune_engine_input(&e, 0, &bytes)[0] = 1;
    return rune_engine_invoke(&e) + rune_engine_output(&e, 0, &bytes)[0];
}
const uint8_t plan[64], model[64];
uint8_t arena[64];
"""


def engine_code_bytes(kernels: set[int] | None = None) -> int | None:
    """Code and constant data (.text, .rodata, .data) of the runtime with `kernels` (all for None);
    None when arm-none-eabi-gcc is not installed."""
    if not shutil.which(CC) or not shutil.which("arm-none-eabi-size"):
        return None
    compiler = subprocess.run([CC, "--version"], capture_output=True, text=True).stdout
    selection = "all" if kernels is None else "-".join(map(str, sorted(kernels)))
    cached = cache_dir() / "engine" / f"code-bytes-{sources_digest(compiler, *CPU_FLAGS, *DEVICE_FLAGS)}-{selection}"
    stored = cache.load(cached)
    if stored is None:
        stored = str(_measure(kernels)).encode()
        cache.store(cached, stored)
    return int(stored)


def _measure(kernels: set[int] | None) -> int:
    with tempfile.TemporaryDirectory() as folder:
        engine = Path(folder) / "engine"
        sources = export_sources(engine, kernels)
        (Path(folder) / "program.c").write_text(_PROGRAM)
        elf = Path(folder) / "engine.elf"
        subprocess.run([CC, *CPU_FLAGS, *DEVICE_FLAGS, "-ffunction-sections", "-fdata-sections", "-I", str(engine),
                        *map(str, sources), str(Path(folder) / "program.c"), *LINK_FLAGS, "-o", str(elf)],
                       check=True, capture_output=True)
        subprocess.run([CC, *CPU_FLAGS, *DEVICE_FLAGS, "-I", str(engine), "-c", str(Path(folder) / "program.c"),
                        "-o", str(Path(folder) / "program.o")], check=True, capture_output=True)
        sizes = subprocess.run(["arm-none-eabi-size", str(elf), str(Path(folder) / "program.o")], check=True,
                               capture_output=True, text=True).stdout.strip().splitlines()
    total = _code(sizes[1])
    return total - _code(sizes[2])  # without the measuring program itself


def _code(line: str) -> int:
    text, data, _bss = line.split()[:3]
    return int(text) + int(data)
