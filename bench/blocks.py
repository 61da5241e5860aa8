"""Per processing block: time per call inside wasm (wasmtime and wasm3) against the same C
compiled natively, as ratios from one run.

    .venv/bin/python bench/blocks.py

Each block runs in a loop inside its module (no host calls in the measurement), on the inputs
below. Both builds use the same compiler, zig's clang, with the rune compiler's flags (-Os, LTO,
no FP contraction, ...): wasm for wasm32 MVP as in a rune, native for x86_64-linux-gnu, so the
ratio measures the sandbox, not a compiler. Times are medians of repeated batches; the ratio is
wasm time / native time.
"""

from __future__ import annotations

import ctypes
import statistics
import subprocess
import tempfile
import time
from pathlib import Path

import numpy as np

from rune.blocks.harness import BlockInstance
from rune.blocks.registry import resolve
from rune.compiler.codegen import arg_initialisers, render_args_header
from rune.compiler.wasm_build import COMPILE_FLAGS, zig, zig_version
from rune.paths import proc_blocks_dir
from rune.tensors import ElementType, TensorType

# The target part of the rune compiler's flags; everything else is shared by both builds.
WASM_TARGET_FLAGS = ("--target=wasm32-wasi", "-mexec-model=reactor", "-mcpu=mvp")
# Hidden visibility: the wasm module exports only bench, so LTO inlines the block into it; a shared
# library exporting every function would call the block through its PLT instead.
NATIVE_TARGET_FLAGS = ("-target", "x86_64-linux-gnu", "-shared", "-fPIC", "-fvisibility=hidden")

CASES = [  # block, args, inputs
    ("fft", {}, [("i16", (16000,))]),
    ("noise_filtering", {}, [("u32", (49, 40))]),
    # streaming (num_frames): init once, then each call one 20 ms chunk, one new frame and feature row
    ("fft", {"num_frames": 49}, [("i16", (320,))]),
    ("noise_filtering", {"num_frames": 49}, [("u32", (1, 40))]),
    ("audio_float_conversion", {}, [("i16", (16000,))]),
    ("resize", {"width": 48, "height": 48}, [("u8", (1, 96, 96, 3))]),
    ("resize", {"width": 48, "height": 48, "method": "nearest"}, [("u8", (1, 96, 96, 3))]),
    ("center_crop", {}, [("u8", (1, 96, 128, 3))]),
    ("grayscale", {}, [("u8", (1, 96, 96, 3))]),
    ("edge_detect", {}, [("u8", (1, 96, 96, 1))]),
    ("image_normalization", {"mean": [0.5], "std": [0.25]}, [("u8", (1, 96, 96, 3))]),
    ("normalize", {}, [("f32", (1000,))]),
    ("modulo", {"modulus": 6.283185307179586}, [("f32", (1000,))]),
    ("softmax", {}, [("f32", (1, 1000))]),
    ("argmax", {}, [("f32", (1, 1000))]),
    ("most_confident_indices", {"count": 5}, [("f32", (1, 1000))]),
    ("binary_classification", {}, [("f32", (1000,))]),
    ("segment_output", {}, [("f32", (1, 32, 32, 21))]),
    ("object_filter", {"max_detections": 10}, [("f32", (100, 4)), ("f32", (100,))]),
    ("label", {"labels": ["silence", "unknown", "yes", "no"]}, [("u32", (4,))]),
]

DRIVER = r"""
#include "{name}_args.h"
{definitions}
static const {name}_args args = {{{initialiser}}};
{inputs}
{outputs}
static uint8_t state[{state} + 1] __attribute__((aligned(16)));
static uint8_t scratch[{scratch} + 1] __attribute__((aligned(16)));
int32_t rune_block_fail(const char *message) {{ (void)message; return RUNE_BLOCK_ERROR; }}
/* As in the rune glue: keep wasi-libc's stack protector (and its random_get import) out. */
uintptr_t __stack_chk_guard = 0;
void __stack_chk_fail(void) {{ __builtin_trap(); }}
static rune_tensor in[] = {{{in_tensors}}};
static rune_tensor out[] = {{{out_tensors}}};
static const rune_block_ctx ctx = {{in, out, {n_in}, {n_out}, state, {state}, scratch, {scratch}}};
__attribute__((visibility("default"), export_name("bench"))) int32_t bench(int32_t iterations) {{
    int32_t status = 0;
    {init}
    for (int32_t i = 0; i < iterations; i++) {{
        /* a compiler barrier: inputs may have changed and outputs will be read, so every
           iteration really runs the block (otherwise the optimiser removes the work) */
        __asm__ volatile("" ::: "memory");
        status |= {name}_run(&args, &ctx);
    }}
    __asm__ volatile("" ::: "memory");
    return status + (int32_t)((const uint8_t *)out[0].data)[0];
}}
"""


def random_array(rng, dtype_name: str, shape, block: str, index: int) -> np.ndarray:
    dtype = np.dtype(ElementType.parse(dtype_name).numpy_name)
    if block == "label":
        return rng.integers(0, 4, shape).astype(dtype)
    if block == "object_filter" and index == 0:
        corners = rng.uniform(0, 1, (shape[0], 2)).astype(np.float32)
        return np.concatenate([corners, corners + np.float32(0.2)], axis=1).astype(dtype)
    if dtype.kind == "f":
        return rng.uniform(0, 1, shape).astype(dtype)
    info = np.iinfo(dtype)
    return rng.integers(max(info.min, -20000), min(info.max, 20000), shape).astype(dtype)


def driver_source(instance: BlockInstance, arrays) -> str:
    definitions, values = [], []
    for spec in instance.block.args.values():
        d, v = arg_initialisers(spec.type, instance.args.get(spec.name), f"arg_{spec.name}", spec.values)
        definitions += d
        values += v
    for name, kind in instance.block.derive_values.items():
        d, v = arg_initialisers(kind, instance.derived[name], f"arg_{name}", [])
        definitions += d
        values += v
    inputs, in_tensors = [], []
    for i, (array, tensor) in enumerate(zip(arrays, instance.inputs)):
        items = ",".join(repr(float(v)) if tensor.dtype.is_float else str(int(v)) for v in array.reshape(-1))
        inputs.append(f"static {tensor.dtype.c_type} in{i}[] = {{{items}}};")
        in_tensors.append(f"{{in{i}, {tensor.dtype.code}, {tensor.count}, {len(tensor.shape)}, "
                          f"{{{', '.join(map(str, tensor.shape))}}}}}")
    outputs, out_tensors = [], []
    for i, tensor in enumerate(instance.outputs):
        outputs.append(f"static {tensor.dtype.c_type} out{i}[{tensor.count}];")
        out_tensors.append(f"{{(void *)out{i}, {tensor.dtype.code}, {tensor.count}, {len(tensor.shape)}, "
                           f"{{{', '.join(map(str, tensor.shape))}}}}}")
    return DRIVER.format(
        name=instance.block.name, definitions="\n".join(definitions), initialiser=", ".join(values) or "0",
        inputs="\n".join(inputs), outputs="\n".join(outputs), state=instance.state_bytes,
        scratch=instance.scratch_bytes, in_tensors=", ".join(in_tensors), out_tensors=", ".join(out_tensors),
        n_in=len(in_tensors), n_out=len(out_tensors),
        init=f"static int ready; if (!ready) {{ ready = 1; {instance.block.name}_init(&args, &ctx); }}"
        if instance.block.has_init else "")


def build(instance: BlockInstance, arrays, folder: Path) -> tuple[Path, Path]:
    (folder / "driver.c").write_text(driver_source(instance, arrays))
    (folder / f"{instance.block.name}_args.h").write_text(render_args_header(instance.block))
    includes = [f"-I{p}" for p in (folder, proc_blocks_dir() / "include", *instance.block.source_dirs)]
    sources = [str(folder / "driver.c")] + [str(p) for d in instance.block.source_dirs for p in sorted(d.glob("*.c"))]
    native = folder / "native.so"
    subprocess.run([*zig(), *common_flags(), *NATIVE_TARGET_FLAGS, "-w", *includes, *sources, "-lm", "-o",
                    str(native)], check=True, capture_output=True)
    module = folder / "block.wasm"
    subprocess.run([*zig(), *COMPILE_FLAGS, "-w", *includes, *sources, "-Wl,--export=bench", "-Wl,-z,stack-size=65536",
                    "-Wl,--initial-memory=4194304", "-Wl,--max-memory=4194304", "-o", str(module)], check=True,
                   capture_output=True)
    return native, module


def seconds_per_call(call, budget: float = 0.25) -> float:
    """Median over batches of the time per call, batches sized to take ~budget/5 each."""
    iterations = 1
    while True:
        started = time.perf_counter()
        call(iterations)
        elapsed = time.perf_counter() - started
        if elapsed > budget / 5 or iterations > 1 << 24:
            break
        iterations *= 4
    samples = []
    for _ in range(5):
        started = time.perf_counter()
        call(iterations)
        samples.append((time.perf_counter() - started) / iterations)
    return statistics.median(samples)


def common_flags() -> list[str]:
    """The rune compiler's flags without their wasm target part."""
    missing = [f for f in WASM_TARGET_FLAGS if f not in COMPILE_FLAGS]
    assert not missing, f"the rune compiler's flags changed; update WASM_TARGET_FLAGS ({missing})"
    return [f for f in COMPILE_FLAGS if f not in WASM_TARGET_FLAGS]


def duration(seconds: float) -> str:
    """ns below a microsecond (the smallest blocks take tens of them), else us."""
    return f"{seconds * 1e9:>9.1f}ns" if seconds < 1e-6 else f"{seconds * 1e6:>9.1f}us"


def main() -> None:
    import wasm3
    import wasmtime

    rng = np.random.default_rng(0)
    optimisation = " ".join(f for f in common_flags() if f.startswith(("-O", "-f")))
    print(f"zig {zig_version()} clang {optimisation}; wasm32 MVP against x86_64-linux-gnu")
    print(f"{'block':<28}{'input':<18}{'native':>11}{'wasmtime':>11}{'ratio':>7}{'wasm3':>11}{'ratio':>7}")
    with tempfile.TemporaryDirectory() as scratch:
        for number, (name, args, inputs) in enumerate(CASES):
            tensors = [TensorType(ElementType.parse(t), s) for t, s in inputs]
            instance = BlockInstance(resolve(name, Path(".")).manifest, args, tensors)
            arrays = [random_array(rng, t, s, name, i) for i, (t, s) in enumerate(inputs)]
            folder = Path(scratch) / str(number)
            folder.mkdir()
            native_path, module_path = build(instance, arrays, folder)
            native = ctypes.CDLL(str(native_path)).bench
            native.restype = ctypes.c_int32
            engine = wasmtime.Engine()
            store = wasmtime.Store(engine)
            exports = wasmtime.Instance(store, wasmtime.Module(engine, module_path.read_bytes()), []).exports(store)
            exports["_initialize"](store)
            wt = exports["bench"]
            environment = wasm3.Environment()
            runtime = environment.new_runtime(64 * 1024)
            runtime.load(environment.parse_module(module_path.read_bytes()))
            runtime.find_function("_initialize")()
            w3 = runtime.find_function("bench")
            t_native = seconds_per_call(lambda n: native(n))
            t_wasmtime = seconds_per_call(lambda n: wt(store, n))
            t_wasm3 = seconds_per_call(lambda n: w3(n))
            shape = f"{inputs[0][0]}{list(inputs[0][1])}"
            label = name + (" (nearest)" if args.get("method") == "nearest" else "") + \
                (f" (stream {args['num_frames']})" if "num_frames" in args else "")
            print(f"{label:<28}{shape:<18}{duration(t_native)}{duration(t_wasmtime)}"
                  f"{t_wasmtime / t_native:>7.2f}{duration(t_wasm3)}{t_wasm3 / t_native:>7.1f}")


if __name__ == "__main__":
    main()
