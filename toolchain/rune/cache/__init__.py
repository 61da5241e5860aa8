"""Rune's cache (rune.paths.cache_dir): what each folder in it holds, how big it is, clearing it,
and entries that are made again when damaged.

Everything in the cache can be made again: `rune build` and `rune flash` recreate what they
need, at the cost of time (and, for the wasm3 sources, one download from PyPI).
"""

from __future__ import annotations

import hashlib
import os
import shutil
import tempfile
from dataclasses import dataclass
from pathlib import Path

from rune.paths import cache_dir

# folder -> what it holds (and what makes it again)
PARTS = {
    "firmware": "PlatformIO projects and their builds, one per rune, board and engine (rune flash)",
    "platformio": "PlatformIO's core folder and Rune's local toolchain packages (rune flash)",
    "wasm3": "the wasm3 interpreter's sources, from the pinned pywasm3 on PyPI (rune flash --engine wasm3)",
    "zig": "zig's compilation cache (rune build)",
    "build": "the generated C of each rune module compiled (rune build)",
    "wasm": "compiled rune modules, by a hash of everything that goes into them (rune build)",
    "templates": "compiled code-generation templates (rune build)",
    "derived": "processing blocks' constants derived from their arguments (rune build)",
    "validated": "manifests already checked against their schemas",
    "engine": "the model engine: plans, its native library, code sizes, TFLM's tables",
    "harness": "native builds of processing blocks for their tests (rune proc-block test)",
    "verified-models": "models TensorFlow Lite Micro ran once in a child process (rune run)",
}


@dataclass
class Part:
    name: str
    what: str
    path: Path
    bytes: int
    files: int


def parts(names: list[str] | None = None) -> list[Part]:
    """The named parts, all of them by default."""
    root = cache_dir()
    return [Part(name, PARTS[name], root / name, *_usage(root / name)) for name in names or PARTS]


def strangers() -> list[Path]:
    """Folders in the cache that are none of its parts: an older version's, or not Rune's at all
    (RUNE_CACHE_DIR may point anywhere), so never deleted."""
    return sorted(p for p in cache_dir().iterdir() if p.is_dir() and p.name not in PARTS)


def clear(part: Part) -> None:
    shutil.rmtree(part.path, ignore_errors=True)


def _usage(folder: Path) -> tuple[int, int]:
    """Bytes and files below `folder`, symbolic links not followed (PlatformIO's packages link to
    the system's compiler)."""
    total = files = 0
    for parent, _, names in os.walk(folder):
        for name in names:
            try:
                total += os.lstat(os.path.join(parent, name)).st_size
            except OSError:  # removed meanwhile
                continue
            files += 1
    return total, files


def load(path: Path) -> bytes | None:
    """A cache entry's content; None if it is missing or damaged (its digest does not match), so
    that the caller makes it again instead of failing on it."""
    try:
        data = path.read_bytes()
    except OSError:
        return None
    content, digest = data[:-32], data[-32:]
    return content if len(data) >= 32 and hashlib.sha256(content).digest() == digest else None


def store(path: Path, content: bytes) -> None:
    """Write an entry whole or not at all (a rename: concurrent builds never see half of one),
    followed by its digest."""
    path.parent.mkdir(parents=True, exist_ok=True)
    fd, temporary = tempfile.mkstemp(dir=path.parent, suffix=".tmp")
    with os.fdopen(fd, "wb") as f:
        f.write(content + hashlib.sha256(content).digest())
    os.replace(temporary, path)
