"""The engine in the product: `rune build` puts each model's plan in the .rune (or says why it
cannot), `rune build --target device` insists on one, and `rune run --model-engine rune` computes
exactly what TensorFlow Lite Micro computes."""

from __future__ import annotations

import hashlib

import pytest

from conftest import EXAMPLES, rune_cli, shared_data
from rune.container.rune_file import RuneFile, RuneFileError
from rune.engine.planner import plan_model
from rune.runtime import ImageSource, RandomSource, Runtime, SoundSource

EXAMPLES_WITH_SAMPLES = ["micro_speech", "person_detection", "sine"]


def samples(example: str) -> list:
    """Fresh sources (they keep their position) of each example's sample inputs."""
    if example == "sine":
        return [RandomSource(seed) for seed in (1, 2, 3)]
    if example == "micro_speech":
        return [SoundSource(EXAMPLES / example / "samples" / f"{word}_1000ms.wav")
                for word in ("yes", "no", "silence", "noise")]
    return [ImageSource(EXAMPLES / example / "samples" / name) for name in ("person.png", "no_person.png",
                                                                            "person_colour.jpg")]



@pytest.mark.parametrize("example", EXAMPLES_WITH_SAMPLES)
def test_every_example_carries_its_plans(built_examples, example):
    built = RuneFile.load(built_examples[example])
    for model in built.manifest["models"]:
        plan = plan_model(built.model_bytes(model["index"]))
        data = built.plan_bytes(model["index"])
        assert data == plan.to_bytes()
        assert model["plan"] == {"section": f"rune.plan.{model['stage']}", "bytes": len(data),
                                 "sha256": hashlib.sha256(data).hexdigest(), "arena_bytes": plan.arena_bytes,
                                 "ram_bytes": plan.ram_bytes}
        assert built.sections[model["plan"]["section"]].content_start % 16 == 0  # usable in place, from flash


def test_a_changed_plan_byte_is_detected(built_examples):
    built = RuneFile.load(built_examples["micro_speech"])
    data = bytearray(built.data)
    data[built.sections[built.manifest["models"][0]["plan"]["section"]].content_start + 20] ^= 1
    with pytest.raises(RuneFileError, match="the plan of stage 'model' is corrupted"):
        RuneFile.from_bytes(bytes(data))


@pytest.mark.parametrize("example", EXAMPLES_WITH_SAMPLES)
def test_rune_engine_and_tflm_give_identical_outputs(built_examples, example):
    outputs = {}
    for model_engine in ("tflm", "rune"):
        with Runtime.load(built_examples[example], model_engine=model_engine) as runtime:
            outputs[model_engine] = []
            for source in samples(example):
                runtime.set_source(0, source)
                outputs[model_engine] += [o.json_line() for o in runtime.run()]
    assert outputs["rune"] == outputs["tflm"]
    assert len(outputs["rune"]) >= len(samples(example))


@pytest.fixture(scope="module")
def unsupported(tmp_path_factory):
    """A pipeline whose model uses TFLM's custom signal operators, which the engine lacks."""
    folder = tmp_path_factory.mktemp("unsupported")
    (folder / "model.tflite").write_bytes((shared_data() / "models" / "audio_preprocessor_int8.tflite").read_bytes())
    (folder / "Runefile.yml").write_text("""version: 1
pipeline:
  audio: {capability: RAW, outputs: [{type: i16, dimensions: [1, 480]}], args: {length: 480}}
  features: {model: ./model.tflite, inputs: [audio]}
  serial: {out: SERIAL, inputs: [features]}
""")
    return folder


def test_a_model_the_engine_cannot_run_is_a_warning_for_the_desktop(unsupported):
    result = rune_cli("build", unsupported)
    assert result.returncode == 0, result.stderr
    assert ("warning: stage 'features': Rune's engine does not support operator 0 (SignalWindow) of the model: "
            "custom operators are not supported; this rune cannot run on a device") in result.stderr
    built = RuneFile.load(result.stdout.strip())
    assert "plan" not in built.manifest["models"][0] and built.plan_bytes(0) is None
    assert not any(name.startswith("rune.plan.") for name in built.sections)
    run = rune_cli("run", result.stdout.strip(), "--random", "1", "--model-engine", "rune")
    assert run.returncode == 2 and "Traceback" not in run.stderr
    assert "stage 'features': the rune has no plan for Rune's engine" in run.stderr


def test_a_model_the_engine_cannot_run_is_an_error_for_a_device(unsupported):
    result = rune_cli("build", "Runefile.yml", "--target", "device", cwd=unsupported)
    assert result.returncode == 2 and "Traceback" not in result.stderr
    assert ("Runefile.yml:4:3: error: stage 'features': Rune's engine does not support operator 0 (SignalWindow) "
            "of the model: custom operators are not supported") in result.stderr
    assert not (unsupported / "unsupported.rune").exists()


def test_a_firmware_compiles_in_only_the_kernels_its_models_use(tmp_path):
    from rune.engine import kernels
    from rune.engine.code_size import engine_code_bytes
    from rune.engine.plan import plan_kernels
    from rune.engine.sources import export_sources

    plan = plan_model((shared_data() / "models" / "micro_speech_quantized.tflite").read_bytes()).to_bytes()
    used = plan_kernels(plan)
    assert used == {kernels.DWCONV_I8, kernels.FC_I8, kernels.SOFTMAX_Q}
    export_sources(tmp_path, used)
    table = (tmp_path / "kernel_table.c").read_text()
    assert sorted(line.split("(")[1].split(",")[0] for line in table.splitlines() if "KERNEL(RUNE_K_" in line) == [
        "RUNE_K_DWCONV_I8", "RUNE_K_FC_I8", "RUNE_K_SOFTMAX_Q"]
    everything = engine_code_bytes()
    if everything is None:
        pytest.skip("arm-none-eabi-gcc is not installed: code sizes are unknown")
    assert 2_000 < engine_code_bytes(used) < everything / 2
