"""`rune model-check`: operator support, memory against a board, conformance with TFLM, exit codes."""

from __future__ import annotations

import json
import shutil
import subprocess
import sys

import numpy as np
from click.testing import CliRunner

from conftest import ROOT, shared_data
from rune.engine.planner import plan_model
from rune.tflite.opcodes import Op
from rune.tflite.writer import ModelBuilder, options


def model_check(*args):
    return subprocess.run([sys.executable, "-m", "rune", "model-check", *map(str, args)], capture_output=True,
                          text=True, cwd=ROOT, timeout=300)


def test_a_model_the_engine_runs(tmp_path):
    path = shared_data() / "models" / "micro_speech_quantized.tflite"
    result = model_check(path, "--json", "--inputs", "20", "--board", "netduinoplus2")
    assert result.returncode == 0, result.stderr
    found = json.loads(result.stdout)
    assert [(o["name"], o["supported"]) for o in found["operators"]] == [
        ("DEPTHWISE_CONV_2D", True), ("FULLY_CONNECTED", True), ("RESHAPE", True), ("SOFTMAX", True)]
    plan = plan_model(path.read_bytes())
    assert found["supported"] and found["arena_bytes"] == plan.arena_bytes and found["ram_bytes"] == plan.ram_bytes
    if shutil.which("arm-none-eabi-gcc"):
        assert 2_000 < found["engine_code_bytes"] < 30_000
        assert found["flash_bytes"] == path.stat().st_size + len(plan.to_bytes()) + found["engine_code_bytes"]
    else:
        assert found["engine_code_bytes"] is None and found["flash_bytes"] is None
    assert found["board"]["id"] == "netduinoplus2" and found["board"]["fits_ram"]
    assert found["inferences"] == 20 and found["identical_fraction"] == 1.0 and found["max_abs_diff"] == 0


def test_a_model_with_operators_the_engine_lacks():
    result = model_check(shared_data() / "models" / "audio_preprocessor_int8.tflite")
    assert result.returncode == 1, result.stderr
    assert "Rune's engine cannot run it: operator 0 (SignalWindow): custom operators are not supported" in result.stdout
    assert "ADD x2: supported" in result.stdout
    assert "CAST x4: not supported (operator 5: the engine has no kernel for this operator)" in result.stdout


def test_a_model_too_large_for_the_board(tmp_path):
    builder = ModelBuilder()
    rng = np.random.default_rng(0)
    x = builder.tensor((1, 1024), np.int8, scale=0.05, zero_point=0)
    weights = builder.const(rng.integers(-127, 127, (600, 1024)), np.int8, scale=0.01, zero_point=0)
    y = builder.tensor((1, 600), np.int8, scale=0.5, zero_point=0)
    builder.op(Op.FULLY_CONNECTED, [x, weights, -1], [y], options("FullyConnectedOptions"))
    (tmp_path / "big.tflite").write_bytes(builder.build([x], [y]))
    result = model_check(tmp_path / "big.tflite", "--board", "nucleo_f411re", "--inputs", "0")
    assert result.returncode == 1, result.stderr
    assert "nucleo_f411re" in result.stdout and "flash does NOT fit, RAM fits" in result.stdout


def test_outputs_that_differ_from_tflm_fail_the_check(monkeypatch):
    """The comparison can fail: the engine's outputs, altered, must be found out."""
    import rune.engine.check as check
    from rune.engine.cli import model_check_command

    real = check.create_backend

    class Off:
        def __init__(self, session):
            self.session = session

        def invoke(self, inputs):
            return [bytes([(b + 1) % 256 for b in out[:1]]) + out[1:] for out in self.session.invoke(inputs)]

    def altered(name):
        backend = real(name)
        if name == "rune":
            load = backend.load
            backend.load = lambda *args: Off(load(*args))
        return backend

    monkeypatch.setattr(check, "create_backend", altered)
    path = shared_data() / "models" / "hello_world_int8.tflite"
    result = CliRunner().invoke(model_check_command, [str(path), "--json", "--inputs", "5"])
    assert result.exit_code == 1, result.output
    found = json.loads(result.output)
    assert found["identical_fraction"] == 0.0 and found["max_abs_diff"] > 0


def test_a_malformed_model_is_a_user_error(tmp_path):
    (tmp_path / "bad.tflite").write_bytes((shared_data() / "models" / "hello_world_int8.tflite").read_bytes()[:1000])
    result = model_check(tmp_path / "bad.tflite")
    assert result.returncode == 2 and "Traceback" not in result.stderr
    assert "bad.tflite: the model is malformed" in result.stderr
