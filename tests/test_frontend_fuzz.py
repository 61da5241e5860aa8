"""Generated and mutated Runefiles never crash the front ends or the checker: the only exception
is the project's own RuneError, and each of its diagnostics names a file and a position."""

from __future__ import annotations

from pathlib import Path

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from rune.compiler.checker import check
from rune.diagnostics import RuneError
from rune.runefile import parse_runefile

from conftest import EXAMPLES

SEEDS = [(EXAMPLES / name / file).read_text() for name in ("sine", "micro_speech", "person_detection")
         for file in ("Runefile.yml", "Runefile")]
FUZZ_DIR = EXAMPLES / "sine"  # so that relative model paths can resolve


def must_fail_cleanly(text: str, name: str) -> None:
    try:
        check(parse_runefile(text, FUZZ_DIR / name, name))
    except RuneError as e:
        assert e.diagnostics
        for d in e.diagnostics:
            assert d.location is not None and d.location.file == name, d.render()
            assert d.location.line >= 1, d.render()


@st.composite
def mutated(draw):
    text = draw(st.sampled_from(SEEDS))
    lines = text.splitlines()
    for _ in range(draw(st.integers(1, 4))):
        if not lines:
            break
        i = draw(st.integers(0, len(lines) - 1))
        action = draw(st.sampled_from(["delete", "duplicate", "truncate", "insert", "swap", "indent"]))
        if action == "delete":
            del lines[i]
        elif action == "duplicate":
            lines.insert(i, lines[i])
        elif action == "truncate":
            lines[i] = lines[i][: draw(st.integers(0, max(0, len(lines[i]) - 1)))]
        elif action == "insert":
            lines.insert(i, draw(st.text(st.characters(codec="utf-8", exclude_categories=("Cs",)), max_size=30)))
        elif action == "swap":
            j = draw(st.integers(0, len(lines) - 1))
            lines[i], lines[j] = lines[j], lines[i]
        else:
            lines[i] = " " * draw(st.integers(1, 3)) + lines[i]
    return "\n".join(lines)


YAML_SCALARS = st.one_of(st.integers(-5, 5), st.floats(allow_nan=True), st.booleans(), st.none(),
                         st.sampled_from(["rand", "RAND", "SERIAL", "modulo", "f32", "$X", "@A::B", "", "[", "{a"]))
YAML_VALUES = st.recursive(YAML_SCALARS, lambda inner: st.one_of(
    st.lists(inner, max_size=4), st.dictionaries(st.sampled_from(
        ["version", "pipeline", "capability", "model", "proc-block", "out", "inputs", "outputs", "args", "type",
         "dimensions", "resources", "path", "inline", "rand", "serial"]), inner, max_size=4)), max_leaves=20)


WIRED_STAGES = {
    "rand": {"capability": "RAND", "outputs": [{"type": "f32", "dimensions": [1, 1]}]},
    "a": {"proc-block": "modulo", "args": {"modulus": 2}},
    "b": {"proc-block": "modulo", "args": {"modulus": 2}},
    "c": {"proc-block": "argmax"},
    "model": {"model": "./sine.tflite"},
    "serial": {"out": "SERIAL"},
}


@st.composite
def wired(draw):
    """Valid stages wired at random: cycles fed from outside them, cycles after cycles, fan-in,
    stages reading themselves, an out stage or a stage that does not exist."""
    names = draw(st.permutations(list(WIRED_STAGES)))
    sources = st.sampled_from(list(WIRED_STAGES) + ["rand.1", "missing"])
    pipeline = {}
    for name in names:
        stage = dict(WIRED_STAGES[name])
        if name != "rand" or draw(st.booleans()):
            stage["inputs"] = draw(st.lists(sources, max_size=3))
        pipeline[name] = stage
    return {"version": 1, "pipeline": pipeline}


@settings(max_examples=200, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(wired())
def test_random_wiring(document):
    import json

    must_fail_cleanly(json.dumps(document), "Runefile.yml")


@settings(max_examples=300, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(mutated(), st.sampled_from(["Runefile.yml", "Runefile"]))
def test_mutated_runefiles(text, name):
    must_fail_cleanly(text, name)


@settings(max_examples=300, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(YAML_VALUES)
def test_generated_yaml_structures(value):
    import json

    must_fail_cleanly(json.dumps(value), "Runefile.yml")  # JSON is YAML


@settings(max_examples=200, deadline=None)
@given(st.text(max_size=200), st.sampled_from(["Runefile.yml", "Runefile"]))
def test_arbitrary_text(text, name):
    must_fail_cleanly(text, name)
