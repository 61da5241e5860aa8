"""The engine's C runtime as a build sees it: the sources in firmware_templates/engine, the include
folders (the sources and the generated sigmoid table, see tables.py), a hash that changes with any
of them, and a copy of it all for a firmware project. Compile every .c with -std=c99 (ISO C: gcc
then never fuses float multiply-adds, which bit-exactness with TFLM's float kernels needs)."""

from __future__ import annotations

import hashlib
import shutil
from pathlib import Path

from rune.engine.tables import sigmoid_header
from rune.paths import firmware_templates_dir


def source_dir() -> Path:
    return firmware_templates_dir() / "engine"


def c_sources() -> list[Path]:
    return sorted(source_dir().glob("*.c")) + sorted(source_dir().glob("kernels/*.c"))


def include_dirs() -> list[Path]:
    return [source_dir(), sigmoid_header().parent]


def sources_digest(*extra: str) -> str:
    """A hash of every source and header, the generated table and `extra` (compiler, flags)."""
    digest = hashlib.sha256()
    for text in extra:
        digest.update(text.encode() + b"\0")
    files = sorted(source_dir().glob("*.[ch]")) + sorted(source_dir().glob("kernels/*.[ch]"))
    for path in files + [sigmoid_header()]:
        digest.update(path.name.encode() + b"\0" + path.read_bytes())
    return digest.hexdigest()[:16]


def export_sources(folder: Path) -> list[Path]:
    """Copy the sources, headers and the generated sigmoid table into `folder` (kernels/ stays a
    subfolder): a firmware compiles the returned .c files with `folder` as its include path."""
    folder = Path(folder)
    for path in sorted(source_dir().glob("*.[ch]")) + sorted(source_dir().glob("kernels/*.[ch]")):
        target = folder / path.relative_to(source_dir())
        target.parent.mkdir(parents=True, exist_ok=True)
        shutil.copyfile(path, target)
    sigmoid_header(folder)
    return sorted(folder.glob("*.c")) + sorted(folder.glob("kernels/*.c"))
