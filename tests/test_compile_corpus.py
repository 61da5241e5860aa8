"""The compile-pass and compile-fail corpus: tests/runefiles/{pass,fail}.

A failing Runefile lists the diagnostics it must produce in `# expect:` comments (each a substring
of the rendered errors, file:line:column included); all of them must appear in one run.
"""

from __future__ import annotations

from pathlib import Path

import pytest

from rune.compiler.checker import check
from rune.diagnostics import RuneError
from rune.runefile import load_runefile

CORPUS = Path(__file__).parent / "runefiles"
FAILING = sorted((CORPUS / "fail").iterdir())
PASSING = sorted(p for p in (CORPUS / "pass").iterdir() if p.is_dir())


def expectations(path: Path) -> list[str]:
    return [line.split("# expect:", 1)[1].strip() for line in path.read_text().splitlines()
            if line.startswith("# expect:")]


@pytest.mark.parametrize("path", FAILING, ids=[p.name for p in FAILING])
def test_failing_runefile_reports_every_expected_error(path: Path, monkeypatch):
    monkeypatch.chdir(path.parent)
    expected = expectations(path)
    assert expected, f"{path.name} has no '# expect:' lines"
    with pytest.raises(RuneError) as caught:
        check(load_runefile(path.name))
    rendered = caught.value.render()
    for text in expected:
        assert text in rendered, f"expected {text!r} in:\n{rendered}"
    for diagnostic in caught.value.diagnostics:
        assert diagnostic.location is not None and diagnostic.location.line > 0, diagnostic.render()


@pytest.mark.parametrize("path", PASSING, ids=[p.name for p in PASSING])
def test_passing_runefile_checks(path: Path):
    pipeline = check(load_runefile(path))
    assert pipeline.stages
    for stage in pipeline.stages:
        for edge in stage.inputs:
            assert edge.stage < stage.index, "stages must run after their inputs"
