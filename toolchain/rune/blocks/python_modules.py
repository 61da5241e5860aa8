"""Importing a block's Python files (its numpy reference, its derive script) by path.

A block folder is not a Python package; its files may import the block's libraries
(proc_blocks/lib/NAME/*.py) by module name.
"""

from __future__ import annotations

import importlib.util
import sys
from pathlib import Path
from types import ModuleType

from rune.paths import proc_blocks_dir


def library_dirs(names: list[str]) -> list[Path]:
    return [proc_blocks_dir() / "lib" / name for name in names]


def load_module(path: Path, libraries: list[str] = ()) -> ModuleType:
    """Import `path` as a module (once per path), with the block's libraries importable."""
    name = "rune_block_" + "_".join(path.resolve().with_suffix("").parts[-2:])
    if name in sys.modules:
        return sys.modules[name]
    for folder in library_dirs(list(libraries)):
        if str(folder) not in sys.path:
            sys.path.insert(0, str(folder))
    spec = importlib.util.spec_from_file_location(name, path)
    module = importlib.util.module_from_spec(spec)
    sys.modules[name] = module
    try:
        spec.loader.exec_module(module)
    except BaseException:
        del sys.modules[name]
        raise
    return module
