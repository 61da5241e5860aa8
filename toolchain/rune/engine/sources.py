"""The engine's C runtime as a build sees it: the sources in firmware_templates/engine, the include
folders (the sources and the generated sigmoid table, see tables.py), a hash that changes with any
of them, and a copy for a firmware project holding only the kernels its models use. Compile every
.c with -std=c99 (ISO C: gcc then never fuses float multiply-adds, which bit-exactness with TFLM's
float kernels needs)."""

from __future__ import annotations

import hashlib
import re
import shutil
from pathlib import Path

from rune.engine.tables import sigmoid_header
from rune.paths import firmware_templates_dir

# How a firmware compiles the engine (and how its code size is measured).
DEVICE_FLAGS = ["-O2", "-std=c99", "-ffp-contract=off"]
KERNEL_TABLE = "kernel_table.c"
_KERNEL_ID = re.compile(r"^#define (RUNE_K_\w+) (\d+)$", re.M)
_TABLE_ENTRY = re.compile(r"^\s*KERNEL\((RUNE_K_\w+), \w+\),\n", re.M)


def source_dir() -> Path:
    return firmware_templates_dir() / "engine"


def c_sources() -> list[Path]:
    return sorted(source_dir().glob("*.c")) + sorted(source_dir().glob("kernels/*.c"))


def include_dirs() -> list[Path]:
    return [source_dir(), sigmoid_header().parent]


def _engine_files() -> list[Path]:
    return sorted(source_dir().glob("*.[ch]")) + sorted(source_dir().glob("kernels/*.[ch]"))


def sources_digest(*extra: str) -> str:
    """A hash of every source and header, the generated table and `extra` (compiler, flags)."""
    digest = hashlib.sha256()
    for text in extra:
        digest.update(text.encode() + b"\0")
    for path in _engine_files() + [sigmoid_header()]:
        digest.update(path.name.encode() + b"\0" + path.read_bytes())
    return digest.hexdigest()[:16]


def kernel_table(kernels: set[int] | None) -> str:
    """kernel_table.c with only the entries of `kernels` (all of them for None): the linker then
    drops every other kernel, and a plan that needs one gets RUNE_ENGINE_ERR_UNKNOWN_KERNEL."""
    text = (source_dir() / KERNEL_TABLE).read_text()
    if kernels is None:
        return text
    ids = {name: int(number) for name, number in _KERNEL_ID.findall((source_dir() / "rune_plan.h").read_text())}
    return _TABLE_ENTRY.sub(lambda entry: entry.group(0) if ids[entry.group(1)] in kernels else "", text)


def export_sources(folder: Path, kernels: set[int] | None = None) -> list[Path]:
    """Copy the sources, headers and the generated sigmoid table into `folder` (kernels/ stays a
    subfolder), with the kernel table cut down to `kernels`; a firmware compiles the returned .c
    files with `folder` as its include path."""
    folder = Path(folder)
    for path in _engine_files():
        target = folder / path.relative_to(source_dir())
        target.parent.mkdir(parents=True, exist_ok=True)
        shutil.copyfile(path, target)
    (folder / KERNEL_TABLE).write_text(kernel_table(kernels))
    sigmoid_header(folder)
    return sorted(folder.glob("*.c")) + sorted(folder.glob("kernels/*.c"))
