"""How much flash the engine's code takes on a Cortex-M4: measured once (per sources and compiler)
by compiling the C runtime with arm-none-eabi-gcc as a firmware would, and cached."""

from __future__ import annotations

import shutil
import subprocess
import tempfile
from pathlib import Path

from rune.engine.sources import export_sources, sources_digest
from rune.paths import cache_dir

CC = "arm-none-eabi-gcc"
FLAGS = ["-mcpu=cortex-m4", "-mthumb", "-Os", "-std=c99", "-ffunction-sections", "-fdata-sections"]


def engine_code_bytes() -> int | None:
    """Code and constant data (.text, .rodata, .data) of all kernels and the runtime; None when
    arm-none-eabi-gcc is not installed. libm's expf and tanhf, which the float kernels call, come on top."""
    if not shutil.which(CC) or not shutil.which("arm-none-eabi-size"):
        return None
    compiler = subprocess.run([CC, "--version"], capture_output=True, text=True).stdout
    cached = cache_dir() / "engine" / f"code-bytes-{sources_digest(compiler, *FLAGS)}"
    if not cached.exists():
        cached.parent.mkdir(parents=True, exist_ok=True)
        cached.write_text(str(_measure()))
    return int(cached.read_text())


def _measure() -> int:
    """Compiled from a firmware's copy of the sources (export_sources), as a firmware compiles them."""
    with tempfile.TemporaryDirectory() as folder:
        sources = export_sources(Path(folder) / "engine")
        subprocess.run([CC, *FLAGS, "-I", str(Path(folder) / "engine"), "-c", *map(str, sources)], cwd=folder,
                       check=True, capture_output=True)
        objects = sorted(str(p) for p in Path(folder).glob("*.o"))
        sizes = subprocess.run(["arm-none-eabi-size", "-t", *objects], check=True, capture_output=True,
                               text=True).stdout
    text, data, _bss = sizes.strip().splitlines()[-1].split()[:3]  # the "(TOTALS)" line
    return int(text) + int(data)
