"""Malformed models and damaged plans: the planner raises only ModelError, rune_engine_init refuses
what it must, and the sanitizer build runs everything else without a memory error."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from engine_damage import (damaged_models, hostile_operator_plans, plan_if_possible_and_run, plan_or_none,
                           resealed_damaged_plans, run_once)
from engine_helpers import FULL, inferences, load_model
from rune.engine.native import init_status, sanitizer_env
from rune.engine.planner import plan_model

HERE = Path(__file__).resolve().parent
MODELS = ["hello_world_int8", "hello_world_float", "micro_speech_quantized", "keyword_scrambled",
          "trained_lstm_int8", "person_detect"]
EXAMPLES = inferences(60, 300)
DAMAGED_MODELS = {"person_detect": 12, "keyword_scrambled": 30}  # planning these takes longest


@pytest.mark.parametrize("name", MODELS)
def test_damaged_models_are_model_errors_or_run(name):
    model = load_model(name)
    count = DAMAGED_MODELS.get(name, 60)
    for data in damaged_models(model, np.random.default_rng(2), inferences(count, 10 * count)):
        plan_if_possible_and_run(data, sanitize=False)


@settings(max_examples=EXAMPLES, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(st.binary(max_size=512))
def test_random_bytes_are_model_errors(data):
    assert plan_or_none(data) is None


@settings(max_examples=EXAMPLES, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(st.sampled_from(MODELS[:5]),
       st.lists(st.tuples(st.integers(0, 1 << 20), st.binary(min_size=1, max_size=8)), min_size=1, max_size=4))
def test_overwritten_models_are_model_errors_or_run(name, edits):
    original = load_model(name)
    data = bytearray(original)
    for at, blob in edits:
        at %= len(data)
        data[at:at + len(blob)] = blob
    plan_if_possible_and_run(bytes(data[:len(original)]), sanitize=False)


def test_a_model_with_a_custom_operator_is_unsupported():
    from rune.engine.errors import UnsupportedOperator

    with pytest.raises(UnsupportedOperator, match="custom operators"):
        plan_model(load_model("audio_preprocessor_int8"))


@pytest.mark.parametrize("name", MODELS)
def test_truncated_or_altered_plans_fail_init(name):
    model = load_model(name)
    plan = plan_model(model)
    data = plan.to_bytes()
    assert init_status(data, model) == 0
    for cut in range(0, len(data), max(1, len(data) // inferences(30, 100))):
        assert init_status(data[:cut], model) != 0
    rng = np.random.default_rng(4)
    for _ in range(inferences(30, 100)):
        bad = bytearray(data)
        bad[int(rng.integers(0, len(bad)))] ^= 1 << int(rng.integers(0, 8))
        assert init_status(bytes(bad), model) != 0
    other_model = bytearray(model)
    other_model[len(model) // 2] ^= 1
    assert init_status(data, bytes(other_model)) != 0
    assert init_status(data, model, arena_bytes=max(plan.arena_bytes - 4, 0)) != 0


@pytest.mark.parametrize("name", MODELS)
def test_resealed_damaged_plans_are_refused_or_run(name):
    model = load_model(name)
    plan = plan_model(model).to_bytes()
    rng = np.random.default_rng(5)
    accepted = sum(run_once(bad, model, sanitize=False) for bad in resealed_damaged_plans(plan, rng, inferences(60, 400)))
    assert accepted < inferences(60, 400)  # init does refuse damage


@pytest.mark.parametrize("name", MODELS[:5])
def test_hostile_operator_words_are_refused_or_run(name):
    model = load_model(name)
    for bad in hostile_operator_plans(plan_model(model).to_bytes(), 24 if FULL else 6):
        run_once(bad, model, sanitize=False)


def test_no_memory_error_under_sanitizers():
    """The same, and the real models, with the AddressSanitizer + UBSan build, in its own process."""
    command = [sys.executable, str(HERE / "engine_sanitized.py")] + (["--full"] if FULL else [])
    result = subprocess.run(command, env=sanitizer_env(), capture_output=True, text=True, timeout=1800)
    assert result.returncode == 0, result.stdout + result.stderr[-6000:]
    assert "under AddressSanitizer and UBSan" in result.stdout
