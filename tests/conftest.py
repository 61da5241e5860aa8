"""Shared fixtures. Tests use the real toolchain (zig, wasmtime, wasm3, TFLM) throughout."""

from __future__ import annotations

from pathlib import Path

import pytest

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
