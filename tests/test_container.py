"""The .rune container and the wasm reader refuse malformed input with a clear error."""

from __future__ import annotations

import json
import re
from pathlib import Path

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from rune.container import wasm
from rune.container.rune_file import RuneFile, RuneFileError, write_rune

from conftest import ROOT, shared_data


def test_truncated_rune_is_refused(built_examples):
    data = built_examples["sine"].read_bytes()
    for cut in (0, 4, 8, 100, len(data) // 2, len(data) - 1):
        with pytest.raises(RuneFileError):
            RuneFile.from_bytes(data[:cut])


def test_a_changed_model_byte_is_detected(built_examples):
    rune = RuneFile.load(built_examples["sine"])
    offset = rune.model_offset(0) + 100
    data = bytearray(rune.data)
    data[offset] ^= 0xFF
    with pytest.raises(RuneFileError, match="the model of stage 'sine' is corrupted"):
        RuneFile.from_bytes(bytes(data))


def test_a_plain_wasm_module_is_not_a_rune():
    module = wasm.MAGIC + bytes([wasm.TYPE, 1, 0])
    with pytest.raises(RuneFileError, match="not a rune"):
        RuneFile.from_bytes(module)


def test_newer_formats_are_refused_with_advice():
    data = write_rune(wasm.MAGIC, {"format": 99, "models": []}, [], [])
    with pytest.raises(RuneFileError, match="upgrade Rune"):
        RuneFile.from_bytes(data)


def test_unknown_sections_are_skipped(built_examples):
    data = built_examples["sine"].read_bytes()
    extended = data + wasm.custom_section("rune.something-new", b"\x01\x02")
    assert RuneFile.from_bytes(extended).manifest == RuneFile.from_bytes(data).manifest


def test_function_types_number_the_imported_functions_first():
    import wasmtime

    module = wasmtime.wat2wasm('(module (import "m" "f" (func (param i64 i32))) '
                               '(func (result f32) (f32.const 0)) (export "g" (func 1)))')
    assert [str(t) for t in wasm.function_types(module)] == ["(i64, i32) -> ()", "() -> (f32)"]
    with pytest.raises(wasm.WasmError, match="malformed function type"):
        wasm.function_types(wasm.MAGIC + bytes([wasm.TYPE, 4, 1, 0x61, 0, 0]))
    with pytest.raises(wasm.WasmError, match="unknown value type 0x01"):
        wasm.function_types(wasm.MAGIC + bytes([wasm.TYPE, 5, 1, 0x60, 1, 0x01, 0]))


def test_custom_section_alignment():
    for prefix in range(40):
        module = wasm.MAGIC + wasm.custom_section("x", b"\0" * prefix)
        data, offset = wasm.append_custom_section(module, "rune.model.m", b"MODEL", align=16)
        assert offset % 16 == 0 and data[offset:offset + 5] == b"MODEL"
        assert wasm.custom_sections(data)["rune.model.m"].content_start == offset


def test_manifest_that_is_not_json_is_refused():
    data = wasm.MAGIC + wasm.custom_section("rune.manifest", b"{not json")
    with pytest.raises(RuneFileError, match="corrupted manifest"):
        RuneFile.from_bytes(data)


@settings(max_examples=300, deadline=None)
@given(st.data())
def test_mutated_runes_never_crash_the_reader(built_examples, data):
    original = bytearray(built_examples["sine"].read_bytes())
    for _ in range(data.draw(st.integers(1, 8))):
        position = data.draw(st.integers(0, len(original) - 1))
        original[position] = data.draw(st.integers(0, 255))
    try:
        rune = RuneFile.from_bytes(bytes(original))
        json.dumps(rune.manifest)
    except RuneFileError:
        pass


# -- the manifest is checked when a rune is loaded ---------------------------------------------

def edited(data: bytes, old: str, new: str) -> bytes:
    """The rune with one piece of its manifest's JSON replaced in place (by the same length, as
    someone editing the file would)."""
    assert len(old) == len(new)
    position = data.rindex(old.encode())
    return data[:position] + new.encode() + data[position + len(old):]


def with_manifest(data: bytes, edit) -> bytes:
    """The rune with `edit(manifest)` applied to its manifest (the section is written anew)."""
    import copy

    section = wasm.custom_sections(data)["rune.manifest"]
    manifest = copy.deepcopy(RuneFile.from_bytes(data).manifest)
    edit(manifest)
    text = json.dumps(manifest, separators=(",", ":")).encode()
    return data[:section.start] + wasm.custom_section("rune.manifest", text) + data[section.payload_end:]


@pytest.mark.parametrize("old,new,message", [
    ('"type":"i16"', '"type":"x16"', "capabilities[0].type: 'x16' is not one of"),
    ('"index":0,"stage":"model"', '"index":7,"stage":"model"', "models[0].index is 7, but it is entry 0"),
    ('"index":0,"stage":"audio"', '"index":5,"stage":"audio"', "capabilities[0].index is 5, but it is entry 0"),
    ('"index":0,"stage":"audio"', '"indey":0,"stage":"audio"', "capabilities[0]: 'index' is a required property"),
    ('"dimensions":[16000],"bytes"', '"dimensions":[16001],"bytes"', "capabilities[0]: 32,000 bytes, but i16[16001]"),
    ('"hz":16000,"sample_duration_ms":1000},"type"', '"hz":"160","sample_duration_ms":1000},"type"',
     "capabilities[0].args.hz: '160' is not of type 'integer'"),
    ('"channel":1', '"channel":0', "outputs[1].channel is 0"),
    ('"source":{"stage":"label"', '"source":{"stage":"lapel"', "outputs[0].source: stage 'serial' has no input"),
    ('"kind":"SERIAL"', '"kind":"SERIAX"', "outputs[1].kind: 'SERIAL' was expected"),
])
def test_an_edited_manifest_is_refused(built_examples, old, new, message):
    data = edited(built_examples["micro_speech"].read_bytes(), old, new)
    with pytest.raises(RuneFileError, match="has a corrupted manifest: " + re.escape(message)) as caught:
        RuneFile.from_bytes(data)
    assert "rune build" in caught.value.hint


@pytest.mark.parametrize("edit,message", [
    (lambda m: m["capabilities"][0].update(dimensions=[16001], bytes=32002),
     "capabilities[0]: i16[16001], but the output of its stage 'audio' is i16[16000]"),
    (lambda m: (m["capabilities"][0].update(dimensions=[16001], bytes=32002),
                m["stages"][0]["outputs"][0].update(dimensions=[16001])),
     "capabilities[0]: dimensions [16001], but its arguments (hz 16000, sample_duration_ms 1000) make [16000]"),
    (lambda m: (m["capabilities"][0]["args"].update(hz=8000), m["stages"][0]["args"].update(hz=8000)),
     "capabilities[0]: dimensions [16000], but its arguments (hz 8000, sample_duration_ms 1000) make [8000]"),
    (lambda m: m["capabilities"].clear(), "capabilities: no entry for the capability stage 'audio'"),
    (lambda m: m["models"][0].update(stage="fft"), "models[0].stage: 'fft' is not a model stage"),
    (lambda m: m["models"][0]["outputs"][0].update(dimensions=[1, 5]), "models[0].outputs differ"),
    (lambda m: m["stages"][4]["inputs"][0].update(stage="nowhere"), "stages[4].inputs[0]: there is no stage 'nowhere'"),
    (lambda m: m["stages"][1]["inputs"][0].update(stage="label"),
     "stages[1].inputs[0]: stage 'label' does not run before 'fft'"),
    (lambda m: m["stages"][1]["inputs"][0].update(output=3),
     "stages[1].inputs[0]: stage 'audio' has 1 output(s), not an output 3"),
    (lambda m: m["stages"].append(dict(m["stages"][0])), "stages[7]: a second stage named 'audio'"),
    (lambda m: m["memory"].update(pages=0), "memory: {used_bytes:,} bytes used in 0 page(s)"),
    (lambda m: m["outputs"][1].update(type="i16", bytes=8), "outputs[1]: i16[1, 4], but its source 'model' produces"),
    (lambda m: m.pop("resources"), "the manifest: 'resources' is a required property"),
])
def test_a_manifest_that_contradicts_itself_is_refused(built_examples, edit, message):
    original = built_examples["micro_speech"].read_bytes()
    message = message.format(**RuneFile.from_bytes(original).manifest["memory"])
    data = with_manifest(original, edit)
    with pytest.raises(RuneFileError, match="has a corrupted manifest: " + re.escape(message)):
        RuneFile.from_bytes(data)


def test_image_arguments_must_match_the_dimensions(built_examples):
    def edit(manifest):
        for entry in (manifest["capabilities"][0], manifest["stages"][0]):
            entry["args"]["pixel_format"] = "RGB"
    data = with_manifest(built_examples["person_detection"].read_bytes(), edit)
    expected = "dimensions [1, 96, 96, 1], but its arguments (width 96, height 96, pixel_format RGB) make [1, 96, 96, 3]"
    with pytest.raises(RuneFileError, match=re.escape(expected)):
        RuneFile.from_bytes(data)


JSON_VALUES = st.one_of(st.none(), st.booleans(), st.integers(-2, 70000), st.sampled_from([2**40, -1, 0.5]),
                        st.sampled_from(["", "x16", "i16", "SOUND", "audio", "rune.manifest"]),
                        st.just([]), st.just({}), st.just([16001]))


@settings(max_examples=150, deadline=None)
@given(st.data())
def test_edited_manifests_are_refused_or_run(built_examples, data):
    """Replace any value in the manifest with another: the rune is refused with a RuneFileError, or
    it loads and runs (or fails with a RunError) -- never another exception."""
    from rune.runtime import RawSource, Runtime, SoundSource
    from rune.runtime.errors import RunError

    original = built_examples["micro_speech"].read_bytes()

    def edit(manifest):
        node, key = None, None
        target = manifest
        for _ in range(data.draw(st.integers(1, 6))):
            keys = list(target) if isinstance(target, dict) else list(range(len(target)))
            if not keys:
                break
            node, key = target, data.draw(st.sampled_from(keys))
            if not isinstance(node[key], (dict, list)):
                break
            target = node[key]
        if node is not None:
            node[key] = data.draw(JSON_VALUES)

    try:
        rune = RuneFile.from_bytes(with_manifest(original, edit))
    except RuneFileError:
        return
    from rune.container.cli import describe

    describe(rune, Path("x.rune"))
    try:
        with Runtime.load(rune) as runtime:
            for spec in runtime.capabilities:
                wav = shared_data() / "audio" / "yes_1000ms.wav"
                runtime.set_source(spec.index, SoundSource(wav) if spec.kind == "SOUND" else RawSource(wav))
            runtime.run()
    except RunError:
        pass


def test_a_document_that_conformed_is_remembered_by_its_content(tmp_path, monkeypatch):
    """rune.schemas, which checks rune manifests, block manifests and boards."""
    from rune import schemas

    monkeypatch.setenv("RUNE_CACHE_DIR", str(tmp_path / "cache"))
    schema = tmp_path / "schema.json"
    schema.write_text('{"type": "object", "required": ["a"]}')
    assert [e.message for e in schemas.schema_errors(schema, {}, b"{}")] == ["'a' is a required property"]
    assert schemas.schema_errors(schema, {"a": 1}, b'{"a": 1}') == []
    monkeypatch.setattr(schemas, "_validator", lambda schema: pytest.fail("checked again"))
    assert schemas.schema_errors(schema, {"a": 1}, b'{"a": 1}') == []
    with pytest.raises(pytest.fail.Exception, match="checked again"):  # what failed is not remembered
        schemas.schema_errors(schema, {}, b"{}")


def test_the_schema_is_package_data():
    """pyproject's package-data must ship manifest.schema.json (an installed rune checks with it)."""
    import fnmatch
    import tomllib

    from rune.container.manifest_check import SCHEMA_PATH
    from rune.paths import PACKAGE_DIR

    patterns = tomllib.loads((ROOT / "pyproject.toml").read_text())["tool"]["setuptools"]["package-data"]["rune"]
    relative = SCHEMA_PATH.relative_to(PACKAGE_DIR).as_posix()
    assert any(fnmatch.fnmatch(relative, p) and p.count("/") == relative.count("/") for p in patterns)


def test_the_schema_agrees_with_the_capability_kinds():
    """The schema restates each capability kind's element types and argument ranges for the host; the
    compiler's table (rune.capabilities) is the source of both."""
    from rune.capabilities import KINDS
    from rune.container.manifest_check import SCHEMA_PATH

    schema = json.loads(SCHEMA_PATH.read_text())["$defs"]["capability"]
    rules = {rule["if"]["properties"]["kind"]["const"]: rule["then"]["properties"] for rule in schema["allOf"]}
    numeric = json.loads(SCHEMA_PATH.read_text())["$defs"]["numeric_type"]["enum"]
    assert set(rules) == set(KINDS) == set(schema["properties"]["kind"]["enum"])
    for name, kind in KINDS.items():
        declared = rules[name].get("type", {"enum": numeric})
        assert declared.get("enum", [declared.get("const")]) == [t.type_name for t in kind.types], name
        for arg, rule in rules[name]["args"]["properties"].items():
            spec = kind.args[arg]
            assert (rule.get("minimum"), rule.get("maximum")) == (spec.minimum, spec.maximum), (name, arg)
            assert rule.get("type") == ("number" if spec.type == "f64" else "integer") or "enum" in rule, (name, arg)
        assert set(rules[name]["args"].get("required", [])) == {a.name for a in kind.args.values()
                                                                 if a.required or a.default is not None}, name
