"""Shared fixtures and helpers. Tests use the real toolchain (zig, wasmtime, wasm3, TFLM) throughout."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest

from rune.runtime import Source

ROOT = Path(__file__).resolve().parents[1]
EXAMPLES = ROOT / "examples"
SHARED_DATA = ROOT.parent / "shared" / "data"
# person_detection's scores (no person, person) for the shared pictures, which several tests check.
PERSON_DETECTION_SCORES = {"person.png": [-113, 113], "no_person.png": [57, -57]}


def shared_data() -> Path:
    """../shared/data (models, WAVs, images) beside the checkout."""
    if not SHARED_DATA.is_dir():
        pytest.skip(f"the shared test data is not at {SHARED_DATA}")
    return SHARED_DATA


def wav(name: str) -> np.ndarray:
    """One of the one-second recordings in ../shared/data/audio: yes, no, silence, noise."""
    from scipy.io import wavfile

    return wavfile.read(shared_data() / "audio" / f"{name}_1000ms.wav")[1]


def rune_cli(*args, cwd=ROOT, timeout: float = 600) -> subprocess.CompletedProcess:
    """`rune ARGS...` as a user runs it, in `cwd`: exit status, stdout and stderr as text."""
    return subprocess.run([sys.executable, "-m", "rune", *map(str, args)], capture_output=True, text=True, cwd=cwd,
                          timeout=timeout)


def frontend():
    """The audio blocks' numpy front end (proc_blocks/lib/audio_frontend/frontend.py)."""
    from rune.blocks.python_modules import load_module
    from rune.paths import proc_blocks_dir

    return load_module(proc_blocks_dir() / "lib" / "audio_frontend" / "frontend.py", ["audio_frontend"])


class ArraySource(Source):
    """A capability's data from an array the test sets (`array`) before each run."""

    def __init__(self, array=None):
        self.array = array

    def read(self, spec):
        return self.array


@pytest.fixture(scope="session")
def built_examples(tmp_path_factory) -> dict[str, Path]:
    """Every example built once per session (into a temporary folder)."""
    from rune.compiler.build import build

    out = tmp_path_factory.mktemp("runes")
    return {name: build(EXAMPLES / name, out / f"{name}.rune").path
            for name in ("sine", "micro_speech", "person_detection")}


def pytest_terminal_summary(terminalreporter):
    """Figures tests record with record_property("report", text) are printed at the end of the run."""
    for report in terminalreporter.stats.get("passed", []) + terminalreporter.stats.get("failed", []):
        for name, text in getattr(report, "user_properties", []):
            if name == "report":
                terminalreporter.write_sep("-", f"report from {report.nodeid.split('::')[-1]}")
                terminalreporter.write_line(text)
