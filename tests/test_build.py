"""`rune build`: the wasm module, the .rune container, reproducibility and the ABI check."""

from __future__ import annotations

import json
import pytest

from rune import abi
from rune.compiler.build import build
from rune.container import wasm
from rune.container.rune_file import MODEL_ALIGNMENT, RuneFile
from rune.diagnostics import RuneError
from rune.paths import cache_dir

from conftest import EXAMPLES


@pytest.mark.parametrize("example", ["sine", "micro_speech", "person_detection"])
def test_examples_build_into_self_contained_runes(example, built_examples, tmp_path):
    rune = RuneFile.load(built_examples[example])
    assert not abi.module_problems(rune.data)
    assert {i.module for i in wasm.imports(rune.data)} <= {abi.IMPORT_MODULE}
    # The rune runs without its Runefile folder: models travel inside, aligned for use in place.
    for model in rune.manifest["models"]:
        assert rune.model_offset(model["index"]) % MODEL_ALIGNMENT == 0
        assert rune.model_bytes(model["index"]) == (EXAMPLES / example / model["file"]).read_bytes()
    assert rune.manifest["memory"]["used_bytes"] <= 64 * 1024
    limits = wasm.memory_limits(rune.data)
    assert limits.initial == limits.maximum == rune.manifest["memory"]["pages"]


def test_building_twice_gives_identical_files(tmp_path):
    first = build(EXAMPLES / "micro_speech", tmp_path / "a.rune")
    second = build(EXAMPLES / "micro_speech", tmp_path / "b.rune")
    assert first.data == second.data


def test_build_without_the_compile_cache_is_identical(tmp_path, monkeypatch):
    cached = build(EXAMPLES / "sine", tmp_path / "cached.rune").data
    fresh_cache = tmp_path / "fresh-cache"
    fresh_cache.mkdir()
    (fresh_cache / "zig").symlink_to(cache_dir() / "zig")  # zig's own libc build is not ours to test
    monkeypatch.setenv("RUNE_CACHE_DIR", str(fresh_cache))
    fresh = build(EXAMPLES / "sine", tmp_path / "fresh.rune")
    assert not fresh.module.cached
    assert fresh.data == cached


def test_the_manifest_describes_the_pipeline(built_examples):
    manifest = RuneFile.load(built_examples["micro_speech"]).manifest
    assert manifest["format"] == 1 and manifest["abi"] == abi.ABI_VERSION
    assert [s["name"] for s in manifest["stages"]] == ["audio", "fft", "features", "model", "top", "label", "serial"]
    assert manifest["capabilities"] == [{"index": 0, "stage": "audio", "kind": "SOUND",
                                         "args": {"hz": 16000, "sample_duration_ms": 1000},
                                         "type": "i16", "dimensions": [16000], "bytes": 32000}]
    assert [(o["channel"], o["source"]["stage"], o["type"]) for o in manifest["outputs"]] == \
        [(0, "label", "utf8"), (1, "model", "i8")]
    assert manifest["models"][0]["inputs"][0]["quantization"]["zero_points"] == [-128]
    assert "/" not in manifest["source"], "no absolute paths: the build must be reproducible anywhere"


def largest_tensor(pipeline):
    """(bytes, stage, tensor) of the largest output of any stage."""
    return max(((t.bytes, stage, t) for stage in pipeline.stages for t in stage.outputs), key=lambda e: e[0])


def test_memory_beyond_the_limit_fails_before_compiling(tmp_path, monkeypatch):
    import rune.compiler.build as build_module

    built = build(EXAMPLES / "micro_speech", tmp_path / "fits.rune")
    memory = built.manifest["memory"]
    planned = memory["stack_bytes"] + memory["arena_bytes"] + memory["state_bytes"]
    size, stage, tensor = largest_tensor(built.pipeline)
    assert size > memory["stack_bytes"], "the premise: a tensor, not the stack, is the largest part"
    limit = planned - 1
    monkeypatch.setattr(build_module, "compile_module", lambda *a, **k: pytest.fail("compiled anyway"))
    with pytest.raises(RuneError) as caught:
        build(EXAMPLES / "micro_speech", tmp_path / "x.rune", memory_limit=limit)
    [error] = caught.value.diagnostics
    assert error.message == (f"the rune needs at least {planned:,} bytes of memory (stack {memory['stack_bytes']:,}, "
                             f"tensors {memory['arena_bytes']:,}, block state {memory['state_bytes']:,}), more "
                             f"than the limit of {limit:,}")
    assert (error.stage, error.location.line) == (stage.name, stage.location.line)  # the largest tensor's stage
    assert f"{tensor} ({size:,} bytes)" in error.hint and "--memory-limit" in error.hint


def test_memory_beyond_the_limit_with_constants_fails_after_linking(tmp_path):
    built = build(EXAMPLES / "micro_speech", tmp_path / "fits.rune")
    memory = built.manifest["memory"]
    limit = memory["used_bytes"] - 1
    assert memory["stack_bytes"] + memory["arena_bytes"] + memory["state_bytes"] <= limit, \
        "the premise: the plan fits; the constants do not"
    with pytest.raises(RuneError) as caught:
        build(EXAMPLES / "micro_speech", tmp_path / "x.rune", memory_limit=limit)
    [error] = caught.value.diagnostics
    assert "constants" in error.message and error.message.endswith(f"more than the limit of {limit:,}")
    assert error.stage == largest_tensor(built.pipeline)[1].name and error.hint


def test_a_stack_over_the_limit_is_blamed_not_a_tensor(tmp_path):
    built = build(EXAMPLES / "sine", tmp_path / "fits.rune")
    stack = built.manifest["memory"]["stack_bytes"]
    assert largest_tensor(built.pipeline)[0] < stack, "the premise: the stack is the largest part"
    with pytest.raises(RuneError) as caught:
        build(EXAMPLES / "sine", tmp_path / "x.rune", memory_limit=stack - 1)
    [error] = caught.value.diagnostics
    assert error.stage is None and error.location is None
    assert error.hint.startswith(f"its largest part is the stack, {stack:,} bytes: lower --stack-size")


@pytest.fixture
def fresh_cache(tmp_path, monkeypatch):
    """An empty compile cache, so that the module is linked (a cached one is not), sharing zig's libc."""
    folder = tmp_path / "fresh-cache"
    folder.mkdir()
    (folder / "zig").symlink_to(cache_dir() / "zig")
    monkeypatch.setenv("RUNE_CACHE_DIR", str(folder))


def raw_runefile(folder, length):
    folder.mkdir(exist_ok=True)
    (folder / "Runefile.yml").write_text(f"""
version: 1
pipeline:
  x: {{capability: RAW, outputs: [{{type: u8, dimensions: [{length}]}}], args: {{length: {length}}}}}
  serial: {{out: SERIAL, inputs: [x]}}
""")
    return folder


def test_a_rune_within_a_large_memory_limit_links(tmp_path, fresh_cache):
    """Every --memory-limit `rune build --help` allows links: a 20 MB tensor under a 100 MB limit
    once failed in the linker ("initial memory too small"), which had 16 MiB."""
    from click.testing import CliRunner

    from rune.compiler.cli import build_command

    folder = raw_runefile(tmp_path / "big", 20_000_000)
    result = CliRunner().invoke(build_command, [str(folder), "--memory-limit", "100000000"])
    assert result.exit_code == 0, result.output
    rune = RuneFile.load(folder / "big.rune")
    memory = rune.manifest["memory"]
    assert 20_000_000 < memory["used_bytes"] <= memory["pages"] * wasm.PAGE_SIZE
    limits = wasm.memory_limits(rune.data)
    assert limits.initial == limits.maximum == memory["pages"]


def test_a_rune_the_linker_cannot_fit_is_a_memory_error(tmp_path, monkeypatch, fresh_cache):
    """Only constants can take a rune within the largest limit past what it is linked with; shown
    here with a module linked in one page."""
    import rune.compiler.wasm_build as wasm_build

    monkeypatch.setattr(wasm_build, "LINK_PAGES", 1)
    with pytest.raises(RuneError) as caught:
        build(raw_runefile(tmp_path / "raw", 100_000), memory_limit=200_000)
    [error] = caught.value.diagnostics
    assert error.message.startswith("the rune needs ")
    assert error.message.endswith("more than the 65,536 a rune can have")
    assert "did not compile" not in caught.value.render()


def write_block(folder, name, source, manifest_extra=""):
    folder.mkdir(parents=True)
    (folder / "block.yaml").write_text(f"""
name: {name}
description: A test block.
inputs: [{{name: input, types: [f32]}}]
outputs: [{{name: output, type: f32, shape: input.shape}}]
{manifest_extra}""")
    (folder / f"{name}.c").write_text(source)


def runefile_with_block(tmp_path, block_path):
    (tmp_path / "Runefile.yml").write_text(f"""
version: 1
pipeline:
  rand: {{capability: RAND, outputs: [{{type: f32, dimensions: [4]}}]}}
  step: {{proc-block: {block_path}, inputs: [rand]}}
  serial: {{out: SERIAL, inputs: [step]}}
""")


def test_a_block_calling_the_operating_system_fails_the_build(tmp_path):
    write_block(tmp_path / "chatty", "chatty", """
#include <stdio.h>
#include "chatty_args.h"
int32_t chatty_run(const chatty_args *args, const rune_block_ctx *ctx) {
    printf("hello\\n");
    return RUNE_OK;
}
""")
    runefile_with_block(tmp_path, "./chatty")
    with pytest.raises(RuneError, match="not self-contained: it imports wasi_snapshot_preview1.*fd_write") as caught:
        build(tmp_path)
    assert "printf, malloc" in caught.value.render()


def test_c_errors_point_into_the_users_block(tmp_path):
    write_block(tmp_path / "broken", "broken", """#include "broken_args.h"
int32_t broken_run(const broken_args *args, const rune_block_ctx *ctx) {
    return undefined_variable;
}
""")
    runefile_with_block(tmp_path, "./broken")
    with pytest.raises(RuneError) as caught:
        build(tmp_path)
    text = caught.value.render()
    assert "broken/broken.c:3:12: error: use of undeclared identifier 'undefined_variable'" in text


def test_inspect_json_round_trips(built_examples):
    from click.testing import CliRunner

    from rune.container.cli import inspect_command

    result = CliRunner().invoke(inspect_command, [str(built_examples["sine"]), "--json"])
    assert result.exit_code == 0
    assert json.loads(result.output)["manifest"] == RuneFile.load(built_examples["sine"]).manifest
