"""The Runefile front ends: YAML and the older Docker-like syntax."""

from __future__ import annotations

from pathlib import Path

import pytest

from rune.compiler.checker import check
from rune.compiler.manifest import stage_entry
from rune.diagnostics import RuneError
from rune.runefile import find_runefile, load_runefile, parse_runefile
from rune.runefile.document import EnumValue, ResourceRef, StageKind
from rune.tensors import ElementType

from conftest import EXAMPLES


def parse(text: str, name: str = "Runefile.yml"):
    return parse_runefile(text, Path(name), name)


@pytest.mark.parametrize("example", ["sine", "micro_speech", "person_detection"])
def test_yaml_and_legacy_examples_give_the_same_pipeline(example):
    folder = EXAMPLES / example
    yaml = check(load_runefile(folder / "Runefile.yml"))
    legacy = check(load_runefile(folder / "Runefile"))
    assert [stage_entry(s, yaml.stages) for s in yaml.stages] == [stage_entry(s, legacy.stages) for s in legacy.stages]


def test_finds_the_runefile_in_a_folder(tmp_path):
    (tmp_path / "Runefile").write_text("FROM runicos/base\n")
    assert find_runefile(tmp_path).name == "Runefile"
    (tmp_path / "Runefile.yaml").write_text("version: 1\n")
    assert find_runefile(tmp_path).name == "Runefile.yaml"
    (tmp_path / "Runefile.yml").write_text("version: 1\n")
    assert find_runefile(tmp_path).name == "Runefile.yml"


def test_a_folder_without_runefile_is_an_error(tmp_path):
    with pytest.raises(RuneError, match="no Runefile in"):
        find_runefile(tmp_path)


def test_yaml_argument_forms():
    doc = parse("""
version: 1
pipeline:
  s:
    proc-block: label
    args:
      number: 3
      real: 2.5
      text: hello
      words: [yes, no, on, off]
      block: |
        one
        two
      pixel-format: "@PixelFormat::GrayScale"
      words_file: $WORDS
      flag: true
""")
    args = doc.stages[0].args
    assert args["number"].value == 3 and args["real"].value == 2.5 and args["text"].value == "hello"
    assert args["words"].value == ["yes", "no", "on", "off"], "YAML 1.2: yes/no/on/off are strings"
    assert args["block"].value == "one\ntwo\n"
    assert args["pixel_format"].value == EnumValue("PixelFormat", "GrayScale")
    assert args["pixel_format"].spelled == "pixel-format"
    assert args["words_file"].value == ResourceRef("WORDS")
    assert args["flag"].value is True


def test_yaml_inputs_and_outputs():
    doc = parse("""
version: 1
pipeline:
  m:
    model: m.tflite
    inputs: [a, b.2, c.d]
    outputs:
      - type: F32
        dimensions: [1, 4]
      - type: Utf8
""")
    stage = doc.stages[0]
    assert stage.kind is StageKind.MODEL
    assert [(r.stage, r.index) for r in stage.inputs] == [("a", 0), ("b", 2), ("c.d", 0)]
    assert stage.outputs[0].dtype is ElementType.F32 and stage.outputs[0].shape == (1, 4)
    assert stage.outputs[1].dtype is ElementType.UTF8 and stage.outputs[1].shape is None


def test_legacy_syntax():
    doc = parse("""
FROM runicos/base
CAPABILITY<I16[24000]> audio SOUND --hz 16000 --sample-duration-ms 1500
PROC_BLOCK<I16[24000], U8[1960]> fft hotg-ai/rune#proc_blocks/fft
MODEL<_,_> model ./model.tflite
PROC_BLOCK<U8[4], UTF8> label hotg-ai/rune#proc_blocks/ohv_label --labels=unknown,silence,yes,no
OUT serial
RUN audio fft model label serial
""", "Runefile")
    assert doc.syntax == "legacy" and doc.image == "runicos/base"
    audio, fft, model, label, serial = doc.stages
    assert audio.args["hz"].value == 16000 and audio.args["sample_duration_ms"].value == 1500
    assert fft.declared_inputs[0].shape == (24000,) and fft.outputs[0].dtype is ElementType.U8
    assert model.outputs[0].dtype is None and model.outputs[0].shape is None
    assert label.args["labels"].value == "unknown,silence,yes,no"
    assert serial.kind is StageKind.OUT and serial.target == "SERIAL"
    assert [r.stage for r in serial.inputs] == ["label"] and [r.stage for r in fft.inputs] == ["audio"]


def test_legacy_comments_but_not_hashes_inside_paths():
    doc = parse("FROM x\n# a comment\nPROC_BLOCK<_,_> b hotg-ai/rune#proc_blocks/fft --n 1  # a comment\n", "Runefile")
    assert doc.stages[0].target == "hotg-ai/rune#proc_blocks/fft"
    assert list(doc.stages[0].args) == ["n"]


def test_all_errors_are_reported_in_one_run():
    with pytest.raises(RuneError) as caught:
        check(parse("""
version: 1
pipeline:
  a: {capability: NOPE}
  b: {proc-block: nope, inputs: [a]}
  c: {out: SERIAL, inputs: [missing]}
"""))
    assert len(caught.value.diagnostics) == 3


def test_legacy_continued_lines_keep_each_words_position():
    text = "FROM x\nCAPABILITY<F32[1]> rand RAND\nPROC_BLOCK<F32[1],\\\n   U9[1]> mod modulo \\\n  --modulus 2\n"
    with pytest.raises(RuneError) as caught:
        parse(text + "OUT serial\nRUN rand \\\n mod serial\n", "Runefile")
    assert [str(d.location) for d in caught.value.diagnostics] == ["Runefile:4:4"]  # not RUN's 'mod' too
    doc = parse(text.replace("U9", "F32") + "OUT serial\nRUN rand \\\n  mod serial\n", "Runefile")
    mod = doc.stage("mod")
    assert str(mod.args["modulus"].location) == "Runefile:5:3"
    assert str(mod.args["modulus"].value_location) == "Runefile:5:13"
    assert str(mod.outputs[0].location) == "Runefile:4:4"
    assert str(mod.inputs[0].location) == "Runefile:8:3"


def test_a_byte_order_mark_does_not_change_the_syntax(tmp_path):
    legacy = (EXAMPLES / "sine" / "Runefile").read_text()
    (tmp_path / "Runefile").write_text("\ufeff" + legacy, encoding="utf-8")
    assert parse_runefile("\ufeff" + legacy, tmp_path / "Runefile").syntax == "legacy"
    assert load_runefile(tmp_path).syntax == "legacy"


def test_a_runefile_that_is_not_utf8_names_the_line_and_column(tmp_path):
    (tmp_path / "Runefile.yml").write_bytes("version: 1\npipeline:\n  caf\u00e9: {x: \xff}\n".encode("latin-1"))
    with pytest.raises(RuneError) as caught:
        load_runefile(tmp_path)
    [diagnostic] = caught.value.diagnostics
    assert diagnostic.location.line == 3 and diagnostic.location.column == 6  # 'é' in latin-1
    assert "0xe9" in diagnostic.message and diagnostic.hint


@pytest.mark.parametrize("depth", [2, 300, 500, 990])
def test_nested_lists_are_refused_once_at_any_depth(depth):
    nested = "[" * depth + "1" + "]" * depth
    with pytest.raises(RuneError) as caught:
        parse(f"version: 1\npipeline:\n  m: {{proc-block: modulo, inputs: [r], args: {{modulus: {nested}}}}}\n")
    [diagnostic] = caught.value.diagnostics
    assert "nested lists are not supported" in diagnostic.message or "levels deep" in diagnostic.message
    assert diagnostic.location.line == 3
