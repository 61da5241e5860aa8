"""Where Rune finds its own files (built-in blocks, templates, boards) and keeps its cache."""

from __future__ import annotations

import os
from pathlib import Path

PACKAGE_DIR = Path(__file__).resolve().parent


def project_root() -> Path:
    """The checkout Rune runs from (it is installed editable: `pip install -e .`)."""
    override = os.environ.get("RUNE_HOME")
    if override:
        return Path(override).resolve()
    return PACKAGE_DIR.parents[1]


def proc_blocks_dir() -> Path:
    return project_root() / "proc_blocks"


def firmware_templates_dir() -> Path:
    return project_root() / "firmware_templates"


def boards_dir() -> Path:
    return project_root() / "boards"


def cache_dir() -> Path:
    """RUNE_CACHE_DIR, else $XDG_CACHE_HOME/rune, else ~/.cache/rune."""
    override = os.environ.get("RUNE_CACHE_DIR")
    if override:
        path = Path(override)
    else:
        base = os.environ.get("XDG_CACHE_HOME") or Path.home() / ".cache"
        path = Path(base) / "rune"
    try:
        path.mkdir(parents=True, exist_ok=True)
    except OSError as e:
        from rune.diagnostics import Diagnostic, RuneError

        why = "it is a file" if isinstance(e, (FileExistsError, NotADirectoryError)) else e.strerror
        raise RuneError(Diagnostic(f"cannot use {path} as Rune's cache: {why}",
                                   hint="set RUNE_CACHE_DIR to a folder Rune may write")) from None
    return path
