"""The wasm3 interpreter's C sources, taken from the pinned pywasm3 source distribution on PyPI
into the Rune cache (never committed)."""

from __future__ import annotations

import shutil
import subprocess
import sys
import tarfile
import tempfile
from pathlib import Path

from rune.diagnostics import Diagnostic, RuneError
from rune.paths import cache_dir

PYWASM3_VERSION = "0.5.0"


def wasm3_sources(log=None) -> Path:
    """A folder with wasm3's .c and .h files (downloaded once)."""
    folder = cache_dir() / "wasm3" / PYWASM3_VERSION
    if (folder / "wasm3.h").is_file():
        return folder
    if log:
        log(f"fetching the wasm3 sources (pywasm3 {PYWASM3_VERSION} from PyPI)")
    with tempfile.TemporaryDirectory() as scratch:
        result = subprocess.run([sys.executable, "-m", "pip", "download", "--quiet", "--no-deps", "--no-binary",
                                 ":all:", f"pywasm3=={PYWASM3_VERSION}", "-d", scratch],
                                capture_output=True, text=True, timeout=300)
        archives = list(Path(scratch).glob("pywasm3-*.tar.gz"))
        if result.returncode != 0 or not archives:
            raise RuneError(Diagnostic("cannot download the wasm3 sources (the pywasm3 source distribution)",
                                       hint="connect to PyPI once; the sources are kept in the Rune cache"))
        staging = Path(scratch) / "staging"
        with tarfile.open(archives[0]) as archive:
            members = [m for m in archive.getmembers()
                       if "/wasm3/" in m.name and m.isfile() and m.name.endswith((".c", ".h"))]
            archive.extractall(staging, members=members, filter="data")
        extracted = next(staging.glob("*/wasm3"))
        folder.parent.mkdir(parents=True, exist_ok=True)
        if folder.exists():
            shutil.rmtree(folder)
        shutil.copytree(extracted, folder)
    return folder
