"""The command line as a user meets it: exit codes, stdout for results, stderr for the rest."""

from __future__ import annotations

import json
import subprocess

import pytest

from conftest import EXAMPLES, ROOT, rune_cli, shared_data


def test_version_and_help():
    assert rune_cli("--version").stdout.startswith("rune, version ")
    help_text = rune_cli("--help").stdout
    for command in ("build", "run", "inspect", "graph", "model-info", "proc-block"):
        assert command in help_text


def test_build_prints_the_rune_path_on_stdout(tmp_path):
    result = rune_cli("build", EXAMPLES / "sine", "-o", tmp_path / "s.rune")
    assert result.returncode == 0, result.stderr
    assert result.stdout.strip() == str(tmp_path / "s.rune")
    assert "memory:" in result.stderr and "wrote" in result.stderr


def test_user_errors_exit_2_without_traceback(tmp_path):
    bad = tmp_path / "Runefile.yml"
    bad.write_text("version: 1\npipeline:\n  a: {capability: NOPE}\n")
    for args in (["build", bad], ["build", tmp_path / "missing"], ["inspect", bad],
                 ["model-info", bad], ["run", bad], ["graph", bad]):
        result = rune_cli(*args)
        assert result.returncode == 2, (args, result.stderr)
        assert "Traceback" not in result.stderr and "error" in result.stderr


def test_build_error_names_file_line_and_column(tmp_path):
    bad = tmp_path / "Runefile.yml"
    bad.write_text("version: 1\npipeline:\n  a: {capability: NOPE}\n")
    result = rune_cli("build", "Runefile.yml", cwd=tmp_path)
    assert "Runefile.yml:3:19: error: stage 'a': unknown capability 'NOPE'" in result.stderr


@pytest.mark.parametrize("name", ["../../escape", 'a"b*/', "9lives", "", "x" * 65])
def test_build_refuses_names_that_are_not_safe_file_and_c_names(name, tmp_path):
    result = rune_cli("build", EXAMPLES / "sine", "--name", name, cwd=tmp_path)
    assert result.returncode == 2 and "Traceback" not in result.stderr
    assert "is not a valid rune name" in result.stderr and "hint: use letters, digits" in result.stderr
    assert not (ROOT / "escape.rune").exists()


def test_build_takes_a_valid_name_and_makes_one_from_the_folder(tmp_path):
    assert rune_cli("build", EXAMPLES / "sine", "--name", "Sine-2_b", "-o", tmp_path / "s.rune").returncode == 0
    assert json.loads(rune_cli("inspect", tmp_path / "s.rune", "--json").stdout)["manifest"]["name"] == "Sine-2_b"
    folder = tmp_path / "2 weird.names"
    folder.mkdir()
    (folder / "Runefile.yml").write_text((EXAMPLES / "sine" / "Runefile.yml").read_text()
                                         .replace("./sine.tflite", str(EXAMPLES / "sine" / "sine.tflite")))
    result = rune_cli("build", folder)
    assert result.returncode == 0, result.stderr
    assert result.stdout.strip().endswith("rune_2_weird_names.rune")


def test_the_example_commands_name_recordings_in_the_repository():
    """README's commands and `rune run --help` are there to be copied: the WAV files they feed exist."""
    import re

    for text in ((ROOT / "README.md").read_text(), rune_cli("run", "--help").stdout):
        recordings = re.findall(r"--sound (\S+\.wav)", text)
        assert recordings and all((ROOT / path).is_file() for path in recordings), recordings


def test_inspect(built_examples):
    result = rune_cli("inspect", built_examples["micro_speech"])
    assert result.returncode == 0
    assert "audio SOUND i16[16000]" in result.stdout and "channel 0: label -> serial" in result.stdout


def test_model_info_json():
    result = rune_cli("model-info", shared_data() / "models" / "micro_speech_quantized.tflite", "--json")
    info = json.loads(result.stdout)
    assert info["inputs"][0]["type"] == "i8" and info["inputs"][0]["dimensions"] == [1, 1960]
    assert {op["name"] for op in info["operators"]} == {"DEPTHWISE_CONV_2D", "FULLY_CONNECTED", "RESHAPE", "SOFTMAX"}
    assert info["activation_bytes"] > 0


@pytest.mark.parametrize("source", ["folder", "rune"])
def test_graph_dot(source, built_examples):
    target = EXAMPLES / "micro_speech" if source == "folder" else built_examples["micro_speech"]
    dot = rune_cli("graph", target).stdout
    assert dot.startswith('digraph "micro_speech"')
    assert '"fft" -> "features" [label="u32[49, 40]"]' in dot
    assert 'fillcolor="#fde3c2"' in dot  # the model is coloured as a model


def test_graph_svg_and_png(tmp_path):
    if subprocess.run(["which", "dot"], capture_output=True).returncode != 0:
        pytest.skip("Graphviz's dot is not installed (make test installs it)")
    assert rune_cli("graph", EXAMPLES / "sine", "-o", tmp_path / "g.svg").returncode == 0
    assert (tmp_path / "g.svg").read_text().lstrip().startswith(("<?xml", "<svg"))
    assert rune_cli("graph", EXAMPLES / "sine", "--format", "png", "-o", tmp_path / "g.png").returncode == 0
    assert (tmp_path / "g.png").read_bytes()[:4] == b"\x89PNG"


def test_proc_block_list_and_show():
    listing = rune_cli("proc-block", "list").stdout
    assert "most_confident_indices" in listing and "noise_filtering" in listing
    shown = rune_cli("proc-block", "show", "label").stdout
    assert "labels: str_list (required) (also: wordlist)" in shown
    unknown = rune_cli("proc-block", "show", "lable")
    assert unknown.returncode == 2 and "did you mean 'label'?" in unknown.stderr
    for name in ("fft", "noise_filtering"):  # descriptions folded with '>' leave no blank lines
        lines = rune_cli("proc-block", "show", name).stdout.splitlines()
        assert lines[1] == "" and "" not in lines[2:], lines


def test_a_new_block_builds_runs_and_checks(tmp_path):
    created = rune_cli("proc-block", "new", "scale", "--dir", tmp_path)
    assert created.returncode == 0, created.stderr
    block = tmp_path / "scale"
    assert sorted(p.name for p in block.iterdir()) == ["block.yaml", "reference.py", "scale.c", "test_scale.py"]
    checked = rune_cli("proc-block", "test", block, "--input", "f32[1,10]", "--arg", "gain=2.5", "--examples", "50")
    assert checked.returncode == 0 and checked.stdout.strip() == "ok", checked.stderr
    (tmp_path / "Runefile.yml").write_text("""
version: 1
pipeline:
  rand: {capability: RAND, outputs: [{type: f32, dimensions: [1, 3]}]}
  scaled: {proc-block: ./scale, inputs: [rand], args: {gain: 2}}
  serial: {out: SERIAL, inputs: [rand, scaled]}
""")
    assert rune_cli("build", tmp_path).returncode == 0
    lines = [json.loads(line) for line in rune_cli("run", tmp_path / f"{tmp_path.name}.rune", "--random", "1", "--json")
             .stdout.splitlines()]
    import numpy as np

    doubled = np.float32(2) * np.array(lines[0]["elements"], np.float32)
    assert doubled.tolist() == np.array(lines[1]["elements"], np.float32).tolist()
    # A wrong C implementation is caught.
    source = block / "scale.c"
    source.write_text(source.read_text().replace("x[i] * args->gain", "x[i] * args->gain + 1e-6f"))
    wrong = rune_cli("proc-block", "test", block, "--input", "f32[1,10]", "--examples", "20", "--no-sanitizers")
    assert wrong.returncode == 1 and "elements differ" in wrong.stderr


def test_new_block_name_rules(tmp_path):
    bad = rune_cli("proc-block", "new", "Bad-Name", "--dir", tmp_path)
    assert bad.returncode == 2 and "cannot be a block name" in bad.stderr


def test_devices_and_pipes_are_refused_not_read_for_ever(tmp_path):
    """/dev/zero never ends: read whole it took the machine's memory."""
    runefile = tmp_path / "Runefile.yml"
    runefile.write_text("version: 1\npipeline:\n"
                        "  r: {capability: RAND, outputs: [{type: f32, dimensions: [1, 1]}]}\n"
                        "  m: {model: /dev/zero, inputs: [r], outputs: [{type: f32, dimensions: [1, 1]}]}\n"
                        "  o: {out: SERIAL, inputs: [m]}\n")
    for args in (["build", runefile], ["build", "/dev/zero"], ["inspect", "/dev/zero"], ["graph", "/dev/zero"],
                 ["model-info", "/dev/zero"], ["model-check", "/dev/zero"]):
        result = rune_cli(*args, timeout=60)
        assert result.returncode == 2, (args, result.stderr)
        assert "it is not a regular file (a device, a pipe or a socket)" in result.stderr, (args, result.stderr)
    assert "Runefile.yml:4:" in rune_cli("build", runefile).stderr


def test_output_files_never_replace_what_is_read_and_bad_ones_are_user_errors(tmp_path):
    import shutil

    example = tmp_path / "sine"
    shutil.copytree(EXAMPLES / "sine", example)
    before = {p.name: p.read_bytes() for p in example.iterdir()}
    for args, message in [
        (["build", example, "-o", example / "Runefile.yml"], "would overwrite"),
        (["build", example, "-o", example / "sine.tflite"], "would overwrite"),
        (["build", example, "-o", ""], "is a folder, not a file"),
        (["graph", example, "-o", example / "Runefile.yml", "--format", "dot"], "would overwrite the pipeline being drawn"),
        (["graph", example, "-o", ""], "is a folder, not a file"),
        (["graph", example, "-o", tmp_path / "pipeline.jpg"], "the format cannot be told from '.jpg'"),
        (["graph", example, "-o", "/proc/pipeline.dot"], "cannot write /proc/pipeline.dot"),
    ]:
        result = rune_cli(*args)
        assert result.returncode == 2 and "Traceback" not in result.stderr, (args, result.stderr)
        assert message in result.stderr, (args, result.stderr)
    assert {p.name: p.read_bytes() for p in example.iterdir()} == before
