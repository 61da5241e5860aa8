"""The block framework as a block's author meets it: how references resolve, what the build says
about a block's C, the scaffolded block and `rune proc-block test`."""

from __future__ import annotations

import re
import shutil
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest

from conftest import rune_cli
from rune.blocks.conformance import check_block, compare_outputs
from rune.blocks.harness import BlockFailed, BlockInstance
from rune.blocks.manifest import load_manifest
from rune.blocks.registry import BlockNotFound, resolve
from rune.blocks.scaffold import create_block
from rune.paths import proc_blocks_dir
from rune.tensors import ElementType, TensorType


@pytest.mark.parametrize("reference", [
    "hotg-ai/proc-blocks@v0.11.3#fft",
    "hotg-ai/proc-blocks@refs/heads/master#fft",
    "hotg-ai/proc-blocks@refs/tags/v0.11.3#fft",
    "hotg-ai/proc-blocks@5e1f9c0d2a#fft",
    "https://github.com/hotg-ai/proc-blocks@refs/heads/master#fft",
    "hotg-ai/rune#proc_blocks/fft",
    "hotg-ai/rune@v0.4.0#proc_blocks/fft",
])
def test_the_original_projects_paths_resolve_to_the_builtin(reference):
    resolution = resolve(reference, Path("."))
    assert resolution.manifest.name == "fft" and resolution.manifest.builtin
    assert resolution.note == f"'{reference}' resolved to the built-in block 'fft'"


def test_an_unknown_block_behind_a_ref_is_reported_by_name():
    with pytest.raises(BlockNotFound) as error:
        resolve("hotg-ai/proc-blocks@refs/heads/master#fast_fourier", Path("."))
    assert "unknown processing block 'hotg-ai/proc-blocks@refs/heads/master#fast_fourier'" in str(error.value)


# -- a user's block ----------------------------------------------------------------------------

RUNEFILE = """
version: 1
pipeline:
  rand: {capability: RAND, outputs: [{type: f32, dimensions: [1, 4]}]}
  scaled: {proc-block: ./scale, inputs: [rand]}
  serial: {out: SERIAL, inputs: [scaled]}
"""


def user_block(folder: Path, body: str, includes: str = "") -> Path:
    """The scaffolded block 'scale' with its loop replaced by `body`, next to a Runefile using it."""
    block = create_block("scale", folder)
    (block / "scale.c").write_text(f"""{includes}#include "scale_args.h"

int32_t scale_run(const scale_args *args, const rune_block_ctx *ctx) {{
    const rune_tensor *in = &ctx->inputs[0];
    const float *x = (const float *)in->data;
    float *y = (float *)ctx->outputs[0].data;
{body}
    return RUNE_OK;
}}
""")
    (folder / "Runefile.yml").write_text(RUNEFILE)
    return block


def test_allocating_is_a_compile_error_at_the_blocks_line(tmp_path):
    block = user_block(tmp_path, """    float *copy = malloc(in->count * sizeof *copy);
    for (uint32_t i = 0; i < in->count; i++) y[i] = x[i] * args->gain;
    free(copy);""", includes="#include <stdlib.h>\n")
    built = rune_cli("build", ".", cwd=tmp_path)
    assert built.returncode == 2 and "Traceback" not in built.stderr
    assert "scale/scale.c:8:19: error: 'malloc' is unavailable: a block never allocates" in built.stderr
    assert "scale/scale.c:10:5: error: 'free' is unavailable" in built.stderr
    checked = rune_cli("proc-block", "test", block, "--input", "f32[1,4]", cwd=tmp_path)
    message = checked.stderr.replace("\u2018", "'").replace("\u2019", "'")  # gcc's quotes follow the locale
    assert checked.returncode == 2 and "scale.c:8:" in message
    assert "'malloc' is unavailable: a block never allocates" in message


def test_the_c_library_headers_still_work_around_the_allocation_ban(tmp_path):
    """stdlib.h declares malloc after rune_block.h has marked it; abs, memcpy and expf stay usable."""
    user_block(tmp_path, """    float t[4] = {0};
    memcpy(t, x, sizeof t);
    for (uint32_t i = 0; i < in->count; i++) y[i] = expf(0.0f) * (float)abs(-1) * t[i % 4] * args->gain;""",
               includes="#include <math.h>\n#include <stdlib.h>\n#include <string.h>\n")
    built = rune_cli("build", ".", cwd=tmp_path)
    assert built.returncode == 0, built.stderr


def test_operating_system_calls_fail_the_build_with_a_message(tmp_path):
    user_block(tmp_path, """    for (uint32_t i = 0; i < in->count; i++) y[i] = x[i] * args->gain;
    printf("%f", (double)y[0]);""", includes="#include <stdio.h>\n")
    built = rune_cli("build", ".", cwd=tmp_path)
    assert built.returncode == 2 and "the rune's code is not self-contained" in built.stderr
    assert "fd_write" in built.stderr and "needs an operating system (printf" in built.stderr


def test_the_scaffolded_tests_make_the_conformance_check(tmp_path):
    """test_scale.py covers what `rune proc-block test` covers: a block that is right on normal
    numbers but maps NaN to 0 passes random normal inputs, and must fail there."""
    block = create_block("scale", tmp_path)
    pytest_scale = [sys.executable, "-m", "pytest", "-v", "-p", "no:cacheprovider", "scale"]
    passed = subprocess.run(pytest_scale, capture_output=True, text=True, cwd=tmp_path, timeout=600)
    assert passed.returncode == 0, passed.stdout[-3000:]
    ran = re.findall(r"::(\w+)\[[^\]]*\] PASSED", passed.stdout)
    assert {"test_as_rune_proc_block_test_does", "test_inputs_hypothesis_chooses"} <= set(ran), passed.stdout[-3000:]
    source = block / "scale.c"
    source.write_text(source.read_text().replace("y[i] = x[i] * args->gain;", "y[i] = x[i] == x[i] ? x[i] * args->gain : 0.0f;"))
    failed = subprocess.run(pytest_scale, capture_output=True, text=True, cwd=tmp_path, timeout=600)
    assert failed.returncode == 1
    assert "test_as_rune_proc_block_test_does" in failed.stdout and "elements differ" in failed.stdout


def test_a_write_out_of_bounds_is_reported_not_fatal(tmp_path):
    block = user_block(tmp_path, """    for (uint32_t i = 0; i < in->count; i++) y[i] = x[i] * args->gain;
    y[in->count] = 1.0f;  /* one past the end */""")
    checked = rune_cli("proc-block", "test", block, "--input", "f32[1,10]", cwd=tmp_path)
    assert checked.returncode == 1, checked.stderr[-2000:]
    assert "AddressSanitizer: heap-buffer-overflow" in checked.stderr and "scale/scale.c:8 in scale_run" in checked.stderr
    assert "free(): invalid pointer" not in checked.stderr and "Shadow bytes" not in checked.stderr
    unsanitized = rune_cli("proc-block", "test", block, "--input", "f32[1,10]", "--no-sanitizers", cwd=tmp_path)
    assert unsanitized.returncode == 1
    assert "block 'scale' wrote past the end of output 0 (40 bytes)" in unsanitized.stderr


@pytest.mark.parametrize("body,message", [
    ("    *(volatile int *)0 = 1;", "the block crashed the test (signal SIGSEGV)"),
    ("    for (volatile int forever = 1; forever;) {}", "the check did not finish within 2 s"),
])
def test_a_block_that_crashes_or_never_returns_fails_its_test_without_taking_rune_down(tmp_path, body, message):
    block = user_block(tmp_path, body)
    checked = rune_cli("proc-block", "test", block, "--input", "f32[1,10]", "--no-sanitizers", "--timeout", "2",
                       cwd=tmp_path, timeout=60)
    assert checked.returncode == 1 and "Traceback" not in checked.stderr, checked.stderr
    assert f"block 'scale': {message}" in checked.stderr


@pytest.mark.parametrize("args,message", [
    (["--input", "f32[1,10]"], "block 'modulo': it needs the argument(s) modulus (give each with --arg NAME=VALUE)"),
    (["--input", "f32[3", "--arg", "modulus=2"], "--input: 'f32[3' is not a type with dimensions"),
])
def test_proc_block_test_names_what_is_missing_or_malformed(args, message):
    result = rune_cli("proc-block", "test", "modulo", *args)
    assert result.returncode == 2 and "Traceback" not in result.stderr and message in result.stderr, result.stderr


def test_a_new_block_cannot_take_a_builtin_blocks_name(tmp_path):
    made = rune_cli("proc-block", "new", "modulo", "--dir", tmp_path)
    assert made.returncode == 2 and "a built-in block is called 'modulo'" in made.stderr
    assert not (tmp_path / "modulo").exists()


def test_writing_into_an_input_is_reported(tmp_path):
    block = user_block(tmp_path, """    for (uint32_t i = 0; i < in->count; i++) y[i] = x[i] * args->gain;
    ((float *)in->data)[0] = 0.0f;""")
    checked = rune_cli("proc-block", "test", block, "--input", "f32[1,10]", "--no-sanitizers", cwd=tmp_path)
    assert checked.returncode == 1 and "wrote into input 0 (40 bytes); inputs must not be written" in checked.stderr


def test_an_output_left_unwritten_is_caught(tmp_path):
    """Outputs are not zeroed in a rune (tensors share memory): the harness fills them with guard
    bytes before every run, so a block that skips the elements that would be zero is wrong."""
    block = user_block(tmp_path, "    for (uint32_t i = 0; i < in->count; i++) if (x[i] != 0.0f) y[i] = x[i] * args->gain;")
    for sanitizers in ([], ["--no-sanitizers"]):
        checked = rune_cli("proc-block", "test", block, "--input", "f32[1,10]", *sanitizers, cwd=tmp_path)
        assert checked.returncode == 1, checked.stderr[-2000:]
        assert "elements differ" in checked.stderr and "guard bytes, 0xa5: not written?" in checked.stderr


def test_a_string_left_unwritten_is_caught(tmp_path):
    """A utf8 output holds pointers: one left as guard bytes is reported, not dereferenced."""
    shutil.copytree(proc_blocks_dir() / "label", tmp_path / "label")
    source = tmp_path / "label" / "label.c"
    source.write_text(source.read_text().replace("out[i] = args->labels[index];",
                                                 "if (index != 1) out[i] = args->labels[index];"))
    report = check_block(load_manifest(tmp_path / "label"), {"labels": ["a", "b", "c"], "fallback": "?"},
                         [TensorType(ElementType.U8, (4,))], examples=50, sanitize=False)
    assert not report.passed
    assert any("the block did not write element" in problem and "of output 0 (utf8)" in problem
               for problem in report.problems), report.problems


def test_compare_outputs_is_a_sequence_of_one_run():
    """What test files scaffolded before compare_sequence call: the same comparison, one run."""
    instance = BlockInstance(resolve("argmax", Path(".")).manifest, {}, [TensorType(ElementType.F32, (1, 4))])
    native, arrays = instance.native(), [np.array([[1, 3, 2, 0]], np.float32)]
    assert compare_outputs(instance, lambda a: native.run(a, init=True), arrays) is None
    assert "1 of 1 elements differ" in compare_outputs(instance, lambda a: [native.run(a)[0] + 1], arrays)

    def refuse(a):
        raise BlockFailed("no")
    assert compare_outputs(instance, refuse, arrays) == "the C failed (no) where the reference did not"


RUNNING_TOTAL = {  # a stateful block: each output is the sum of the inputs so far, times gain
    "block.yaml": """state_bytes: "4 * input.size"
scratch_bytes: "4 * input.size"
init: true
""",
    "reference.py": """import numpy as np


def run(inputs, args, state):
    state["total"] = state.get("total", np.zeros_like(inputs[0])) + inputs[0] * np.float32(args["gain"])
    return [state["total"].copy()]
""",
    "scale.c": """#include <string.h>
#include "scale_args.h"

int32_t scale_init(const scale_args *args, const rune_block_ctx *ctx) {{
    memset(ctx->{keep}, 0, ctx->{keep}_bytes);
    return RUNE_OK;
}}

int32_t scale_run(const scale_args *args, const rune_block_ctx *ctx) {{
    const rune_tensor *in = &ctx->inputs[0];
    const float *x = (const float *)in->data;
    float *y = (float *)ctx->outputs[0].data, *total = (float *)ctx->{keep};
    for (uint32_t i = 0; i < in->count; i++) y[i] = total[i] = {carried}x[i] * args->gain;
    return RUNE_OK;
}}
""",
}


def running_total(folder: Path, keep: str = "state", carried: str = "total[i] + ") -> Path:
    """The scaffolded block 'scale' made a running total, kept in ctx->`keep`."""
    block = create_block("scale", folder)
    (block / "block.yaml").write_text((block / "block.yaml").read_text() + RUNNING_TOTAL["block.yaml"])
    (block / "reference.py").write_text(RUNNING_TOTAL["reference.py"])
    (block / "scale.c").write_text(RUNNING_TOTAL["scale.c"].format(keep=keep, carried=carried))
    return block


@pytest.mark.parametrize("keep", ["state", "scratch"])
def test_a_block_that_keeps_its_state_in_scratch_is_refused(keep, tmp_path):
    """Scratch is only valid during one call (a rune shares it with other stages): the harness fills
    it with guard bytes before init and before every run. A running total kept in ctx->state passes;
    kept in ctx->scratch (zeroed at init, as if it were state), it must fail."""
    block = running_total(tmp_path, keep)
    for sanitizers in ([], ["--no-sanitizers"]):
        checked = rune_cli("proc-block", "test", block, "--input", "f32[2,3]", "--examples", "20", *sanitizers,
                       cwd=tmp_path)
        if keep == "state":
            assert checked.returncode == 0, checked.stderr[-2000:]
        else:
            assert checked.returncode == 1 and "elements differ" in checked.stderr, checked.stderr[-2000:]


@pytest.mark.parametrize("carried", ["total[i] + ", ""])
def test_the_scaffolded_hypothesis_test_runs_a_stateful_block_run_after_run(carried, tmp_path):
    """A running total that forgets its total is right on every first run after init: the scaffolded
    test_inputs_hypothesis_chooses must catch it on a later run, and pass the right one."""
    running_total(tmp_path, carried=carried)
    result = subprocess.run([sys.executable, "-m", "pytest", "-q", "-p", "no:cacheprovider", "-k",
                             "test_inputs_hypothesis_chooses", "scale"], capture_output=True, text=True,
                            cwd=tmp_path, timeout=600)
    if carried:
        assert result.returncode == 0, result.stdout[-3000:]
    else:
        assert result.returncode == 1, result.stdout[-3000:]
        assert re.search(r"run [2-6] of [2-6]: output 0 \(state carried from the runs before\)", result.stdout), \
            result.stdout[-3000:]


def test_a_missing_run_function_is_named_with_the_blocks_file(tmp_path):
    block = user_block(tmp_path, "    for (uint32_t i = 0; i < in->count; i++) y[i] = x[i] * args->gain;")
    source = block / "scale.c"
    source.write_text(source.read_text().replace("scale_run(", "scale_rnu("))
    for result in (rune_cli("build", ".", cwd=tmp_path),
                   rune_cli("proc-block", "test", block, "--input", "f32[1,4]", cwd=tmp_path),
                   rune_cli("proc-block", "test", block, "--input", "f32[1,4]", "--no-sanitizers", cwd=tmp_path)):
        assert result.returncode == 2 and "Traceback" not in result.stderr
        assert ("scale/scale.c:3:9: error: block 'scale' must define scale_run (the pipeline calls it); "
                "its C defines scale_rnu") in result.stderr
        assert "int32_t scale_run(const scale_args *args, const rune_block_ctx *ctx)" in result.stderr
        assert "wasm-ld" not in result.stderr and "<generated>" not in result.stderr
    source.write_text('#include "scale_args.h"\n')
    built = rune_cli("build", ".", cwd=tmp_path)
    assert built.returncode == 2
    assert "scale/scale.c: error: block 'scale' must define scale_run (the pipeline calls it), and its C does not" \
        in built.stderr


def test_a_missing_init_function_is_named(tmp_path):
    block = user_block(tmp_path, "    for (uint32_t i = 0; i < in->count; i++) y[i] = x[i] * args->gain;")
    (block / "block.yaml").write_text((block / "block.yaml").read_text() + "init: true\n")
    built = rune_cli("build", ".", cwd=tmp_path)
    assert built.returncode == 2
    assert "must define scale_init (its manifest says init: true)" in built.stderr
