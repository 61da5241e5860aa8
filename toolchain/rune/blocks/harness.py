"""Run one processing block outside a rune: its C compiled natively (optionally under
AddressSanitizer and UndefinedBehaviorSanitizer), next to its numpy reference.

Tests compare the two on many inputs; `bench/blocks.py` times native code against the same block
inside wasm; `rune proc-block test` checks a user's block. The C driver gives the block exactly
the buffers the compiler would (sizes from the manifest), each allocated separately so that a
sanitizer sees any access outside them.
"""

from __future__ import annotations

import ctypes
import hashlib
import os
import struct
import subprocess
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np

from rune.blocks.arguments import convert
from rune.blocks.derive import derive_values
from rune.blocks.entry_points import missing_entry_points
from rune.blocks.manifest import BlockManifest, BlockTypeError
from rune.blocks.python_modules import load_module
from rune.compiler.codegen import arg_initialisers, render_args_header
from rune.diagnostics import RuneError
from rune.paths import cache_dir, proc_blocks_dir
from rune.runtime.sources import NUMPY_TYPES
from rune.tensors import ElementType, TensorType

SANITIZE = ["-fsanitize=address,undefined", "-fno-sanitize-recover=all", "-fno-omit-frame-pointer"]

DRIVER = r"""
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
/* The driver allocates; blocks may not, and rune_block.h makes malloc unavailable from here on. */
static void *harness_alloc(size_t bytes) {{ return calloc(1, bytes ? bytes : 1); }}
static __attribute__((unused)) void harness_free(void *pointer) {{ free(pointer); }}
#include "{name}_args.h"

{definitions}
static const {name}_args args = {{{initialiser}}};
static char message[116];
static const uint32_t in_type[] = {{{in_types}}}, in_count[] = {{{in_counts}}}, in_rank[] = {{{in_ranks}}};
static const uint32_t in_dims[][RUNE_MAX_RANK] = {{{in_dims}}};
static const uint32_t out_type[] = {{{out_types}}}, out_count[] = {{{out_counts}}}, out_rank[] = {{{out_ranks}}};
static const uint32_t out_dims[][RUNE_MAX_RANK] = {{{out_dims}}};
static const uint32_t in_bytes[] = {{{in_bytes}}}, out_bytes[] = {{{out_bytes}}};
enum {{ INPUTS = {inputs}, OUTPUTS = {outputs}, STATE = {state}, SCRATCH = {scratch}, GUARD = {guard} }};

int32_t rune_block_fail(const char *m) {{
    strncpy(message, m ? m : "", sizeof message - 1);
    return RUNE_BLOCK_ERROR;
}}

const char *harness_message(void) {{ return message; }}

static void describe(rune_tensor *t, void *data, uint32_t type, uint32_t count, uint32_t rank, const uint32_t *dims) {{
    t->data = data; t->type = type; t->count = count; t->rank = rank;
    memcpy(t->dims, dims, sizeof t->dims);
}}

static int still_guard(const void *data, size_t bytes) {{
    for (size_t i = 0; i < bytes; i++) if (((const unsigned char *)data)[i] != GUARD) return 0;
    return 1;
}}

/* One block instance: init once, then run on the given buffers (state kept in between).
 * In a rune, scratch is shared with other stages and tensors are not zeroed: scratch holds guard
 * bytes at init and at every run, and outputs at every run, so a block that keeps anything in
 * scratch from one call to the next, or leaves output elements unwritten, gives wrong outputs. */
static void *state;
int32_t harness_run(void *const *inputs, void *const *outputs, int init) {{
    rune_tensor in[INPUTS + 1], out[OUTPUTS + 1];
    static void *scratch;
    if (!state) state = harness_alloc(STATE);
    if (!scratch) scratch = harness_alloc(SCRATCH);
    for (int i = 0; i < INPUTS; i++) describe(&in[i], inputs[i], in_type[i], in_count[i], in_rank[i], in_dims[i]);
    for (int i = 0; i < OUTPUTS; i++) describe(&out[i], outputs[i], out_type[i], out_count[i], out_rank[i], out_dims[i]);
    rune_block_ctx ctx = {{in, out, INPUTS, OUTPUTS, STATE ? state : 0, STATE, SCRATCH ? scratch : 0, SCRATCH}};
    message[0] = 0;
    if (init) {{
        memset(state, 0, STATE ? STATE : 1);
        memset(scratch, GUARD, SCRATCH ? SCRATCH : 1);
        {init_call}
    }}
    memset(scratch, GUARD, SCRATCH ? SCRATCH : 1);
    for (int i = 0; i < OUTPUTS; i++) memset(outputs[i], GUARD, out_bytes[i]);
    int32_t status = {name}_run(&args, &ctx);
    for (int i = 0; status == 0 && i < OUTPUTS; i++) {{
        if (out_type[i] != RUNE_UTF8) continue;  /* numbers left as guard bytes differ from the reference */
        for (uint32_t k = 0; k < out_count[i]; k++) {{
            if (still_guard((const char **)outputs[i] + k, sizeof(const char *))) {{
                snprintf(message, sizeof message, "the block did not write element %u of output %d (utf8)", k, i);
                return RUNE_BLOCK_ERROR;
            }}
        }}
    }}
    return status;
}}

#ifdef HARNESS_MAIN
/* stdin: the inputs' bytes, in order, for one run or several (a stateful block: init before the
 * first only); stdout, per run: status, message, then outputs (utf8: NUL-terminated strings).
 * A run that fails ends the sequence. */
int main(void) {{
    void *inputs[INPUTS + 1], *outputs[OUTPUTS + 1];
    for (int i = 0; i < INPUTS; i++) inputs[i] = harness_alloc(in_bytes[i]);
    for (int i = 0; i < OUTPUTS; i++) outputs[i] = harness_alloc(out_bytes[i]);
    for (int run = 0; run == 0 || INPUTS > 0; run++) {{
        for (int i = 0; i < INPUTS; i++) {{
            size_t got = fread(inputs[i], 1, in_bytes[i], stdin);
            if (got == 0 && i == 0 && run > 0 && feof(stdin)) goto done;
            if (got != in_bytes[i]) return 90;
        }}
        int32_t status = harness_run(inputs, outputs, run == 0);
        fwrite(&status, sizeof status, 1, stdout);
        fwrite(message, 1, sizeof message, stdout);
        for (int i = 0; status == 0 && i < OUTPUTS; i++) {{
            if (out_type[i] == RUNE_UTF8) {{
                const char **strings = (const char **)outputs[i];
                for (uint32_t k = 0; k < out_count[i]; k++) fwrite(strings[k], 1, strlen(strings[k]) + 1, stdout);
            }} else {{
                fwrite(outputs[i], 1, out_bytes[i], stdout);
            }}
        }}
        if (status != 0 || INPUTS == 0) break;
    }}
done:
    for (int i = 0; i < INPUTS; i++) harness_free(inputs[i]);
    for (int i = 0; i < OUTPUTS; i++) harness_free(outputs[i]);
    return 0;
}}
#endif
"""


class BlockFailed(Exception):
    """The block returned an error (the message it gave with rune_block_fail)."""


class BufferOverrun(AssertionError):
    """A native run wrote outside an input or output buffer, or into an input (guard bytes changed)."""


# Native runs share this process's heap: guard bytes around each buffer turn a block's write just
# past one into a report instead of a corrupted heap (the sanitized run finds any access). The same
# value fills scratch and outputs before each call (the driver's harness_run).
GUARD_BYTES = 256
GUARD_VALUE = 0xA5


@dataclass
class BlockInstance:
    """A block with fixed arguments and input types: what one pipeline stage would be."""

    block: BlockManifest
    args: dict
    inputs: list[TensorType]
    outputs: list[TensorType] = field(init=False)
    derived: dict = field(init=False)
    state_bytes: int = field(init=False)
    scratch_bytes: int = field(init=False)

    def __post_init__(self):
        full = {s.name: s.default for s in self.block.args.values() if s.default is not None}
        for name, value in self.args.items():
            spec = self.block.arg_spec(name)
            full[spec.name] = convert(spec, value, lambda r: b"")
        missing = self.block.missing_args(full)
        if missing:
            raise BlockTypeError(f"it needs the argument(s) {', '.join(missing)} (give each with --arg NAME=VALUE)")
        self.args = full = self.block.complete_args(self.inputs, full)
        self.derived = derive_values(self.block, full)
        values = {**full, **self.derived}
        self.outputs = self.block.infer(self.inputs, values)
        self.state_bytes, self.scratch_bytes = self.block.memory(self.inputs, values)

    def reference(self, arrays: list[np.ndarray], state: dict | None = None) -> list:
        """The reference's outputs. A stateful block's reference takes `state`, a dict it keeps from
        run to run: pass the same dict for the runs of one instance, a new one after each init
        (None: a fresh one, the first run after init)."""
        module = load_module(self.block.reference_path, self.block.libraries)
        arrays = [np.asarray(a).reshape(t.shape) for a, t in zip(arrays, self.inputs)]
        with np.errstate(all="ignore"):  # extreme inputs overflow on purpose
            if reference_takes_state(module):
                return module.run(arrays, dict(self.args), {} if state is None else state)
            return module.run(arrays, dict(self.args))

    @property
    def stateful(self) -> bool:
        """The block keeps state between runs (its outputs may depend on earlier inputs)."""
        return self.state_bytes > 0

    def driver_source(self) -> str:
        definitions, values = [], []
        for spec in self.block.args.values():
            d, v = arg_initialisers(spec.type, self.args.get(spec.name), f"arg_{spec.name}", spec.values)
            definitions += d
            values += v
        for name, kind in self.block.derive_values.items():
            d, v = arg_initialisers(kind, self.derived[name], f"arg_{name}", [])
            definitions += d
            values += v

        def table(tensors, attr):
            return ", ".join(str(getattr(t, attr)) for t in tensors) or "0"

        def dims(tensors):
            return ", ".join("{" + (", ".join(map(str, t.shape)) or "0") + "}" for t in tensors) or "{0}"

        return DRIVER.format(
            name=self.block.name, definitions="\n".join(definitions), initialiser=", ".join(values) or "0",
            in_types=", ".join(str(t.dtype.code) for t in self.inputs) or "0",
            in_counts=table(self.inputs, "count"), in_ranks=", ".join(str(len(t.shape)) for t in self.inputs) or "0",
            in_dims=dims(self.inputs), in_bytes=table(self.inputs, "bytes"),
            out_types=", ".join(str(t.dtype.code) for t in self.outputs),
            out_counts=table(self.outputs, "count"), out_ranks=", ".join(str(len(t.shape)) for t in self.outputs),
            out_dims=dims(self.outputs), out_bytes=", ".join(str(_buffer_bytes(t)) for t in self.outputs),
            inputs=len(self.inputs), outputs=len(self.outputs), state=self.state_bytes, scratch=self.scratch_bytes,
            guard=GUARD_VALUE,
            init_call=(f"int32_t s = {self.block.name}_init(&args, &ctx); if (s) return s;"
                       if self.block.has_init else ""),
        )

    def _build(self, kind: str, flags: list[str]) -> Path:
        source = self.driver_source()
        header = render_args_header(self.block)
        sources = [p for d in self.block.source_dirs for p in sorted(d.glob("*.c"))]
        digest = hashlib.sha256((source + header + kind + " ".join(flags)).encode())
        for path in sources + sorted((proc_blocks_dir() / "include").glob("*.h")):
            digest.update(path.read_bytes())
        folder = cache_dir() / "harness" / digest.hexdigest()[:24]
        target = folder / ("block.so" if kind == "shared" else "block")
        if target.exists():
            return target
        folder.mkdir(parents=True, exist_ok=True)
        (folder / "driver.c").write_text(source)
        (folder / f"{self.block.name}_args.h").write_text(header)
        includes = [folder, proc_blocks_dir() / "include", *self.block.source_dirs]
        command = ["gcc", "-std=c11", "-O1", "-g", "-Wall", "-Wextra", "-Wno-unused-parameter", "-ffp-contract=off",
                   *flags, *(f"-I{p}" for p in includes), str(folder / "driver.c"), *map(str, sources), "-lm",
                   "-o", str(target)]
        # -z defs: a shared library would otherwise link without NAME_run and fail only when loaded
        command[1:1] = ["-shared", "-fPIC", "-Wl,-z,defs"] if kind == "shared" else ["-DHARNESS_MAIN"]
        result = subprocess.run(command, capture_output=True, text=True)
        if result.returncode != 0:
            missing = missing_entry_points(result.stderr, [self.block])
            if missing:
                raise RuneError(missing)
            raise RuntimeError(f"compiling block '{self.block.name}' failed:\n{result.stderr}")
        return target

    def native(self) -> "NativeBlock":
        return NativeBlock(self, ctypes.CDLL(str(self._build("shared", []))))

    def sanitized_runs(self, sequence: list[list[np.ndarray]]) -> list:
        """Run a sequence of inputs in one separate process under ASan + UBSan, init before the
        first only (a stateful block carries its state through the sequence). Returns each run's
        outputs, up to and including a failed run (as a BlockFailed); raises on a sanitizer report."""
        executable = self._build("sanitized", SANITIZE)
        payload = b"".join(_to_bytes(a, t) for arrays in sequence for a, t in zip(arrays, self.inputs))
        env = dict(os.environ, ASAN_OPTIONS="detect_leaks=0:abort_on_error=0", UBSAN_OPTIONS="print_stacktrace=1")
        result = subprocess.run([str(executable)], input=payload, capture_output=True, env=env,
                                timeout=120 * len(sequence))
        if result.returncode != 0 or b"runtime error" in result.stderr:
            raise AssertionError(f"block '{self.block.name}' failed under the sanitizers "
                                 f"(exit {result.returncode}):\n{_sanitizer_report(result.stderr)}")
        results, data = [], result.stdout
        while data and len(results) < len(sequence):
            status = struct.unpack_from("<i", data)[0]
            message = data[4:120].split(b"\0")[0].decode()
            if status:
                results.append(BlockFailed(message))
                break
            outputs, used = _parse_outputs(data[120:], self.outputs)
            results.append(outputs)
            data = data[120 + used:]
        return results


class NativeBlock:
    def __init__(self, instance: BlockInstance, library: ctypes.CDLL):
        self.instance = instance
        self.library = library
        self.library.harness_run.restype = ctypes.c_int32
        self.library.harness_message.restype = ctypes.c_char_p
        self.first = True

    def run(self, arrays: list[np.ndarray], init: bool | None = None) -> list:
        instance = self.instance
        inputs = [_GuardedBuffer(_to_bytes(a, t)) for a, t in zip(arrays, instance.inputs)]
        outputs = [_GuardedBuffer(bytes(_buffer_bytes(t))) for t in instance.outputs]
        in_pointers = (ctypes.c_void_p * (len(inputs) + 1))(*[b.address for b in inputs])
        out_pointers = (ctypes.c_void_p * (len(outputs) + 1))(*[b.address for b in outputs])
        status = self.library.harness_run(in_pointers, out_pointers, int(self.first if init is None else init))
        self.first = False
        for kind, buffers in (("input", inputs), ("output", outputs)):
            for index, buffer in enumerate(buffers):
                where = buffer.overrun(written_is_wrong=kind == "input")
                if where:
                    rule = "; inputs must not be written" if where == "into" else ""
                    raise BufferOverrun(f"block '{instance.block.name}' wrote {where} {kind} {index} "
                                        f"({buffer.size} bytes){rule}")
        if status:
            raise BlockFailed(self.library.harness_message().decode())
        results = []
        for raw, tensor in zip((b.data for b in outputs), instance.outputs):
            if tensor.dtype is ElementType.UTF8:
                pointers = raw.view(np.uintp)
                results.append([ctypes.string_at(int(p)).decode("utf-8", errors="replace") for p in pointers])
            else:
                results.append(raw.view(NUMPY_TYPES[tensor.dtype.type_name]).reshape(tensor.shape).copy())
        return results


class _GuardedBuffer:
    """Bytes for a native run with GUARD_BYTES of a known value on either side."""

    def __init__(self, content: bytes):
        self.size = len(content)
        self.content = content
        self.raw = np.full(self.size + 2 * GUARD_BYTES, GUARD_VALUE, np.uint8)
        self.data = self.raw[GUARD_BYTES:GUARD_BYTES + self.size]
        self.data[:] = np.frombuffer(content, np.uint8)

    @property
    def address(self) -> int:
        return self.raw.ctypes.data + GUARD_BYTES

    def overrun(self, written_is_wrong: bool) -> str | None:
        """Where the block wrote that it must not, or None."""
        if (self.raw[:GUARD_BYTES] != GUARD_VALUE).any():
            return "before the start of"
        if (self.raw[GUARD_BYTES + self.size:] != GUARD_VALUE).any():
            return "past the end of"
        if written_is_wrong and self.data.tobytes() != self.content:
            return "into"
        return None


def outputs_equal(got, want, tensor: TensorType, tolerance: float = 0.0) -> str | None:
    """None if a block's output equals the reference's; otherwise what differs. Floats must be
    identical (NaN equal to NaN) unless a relative tolerance is allowed."""
    if tensor.dtype is ElementType.UTF8:
        want = list(np.asarray(want, dtype=object).reshape(-1))
        return None if list(got) == want else f"{list(got)[:5]} != {want[:5]}"
    want = np.asarray(want).reshape(tensor.shape)
    if got.dtype != want.dtype:
        return f"the reference gives {want.dtype}, the block {got.dtype}"
    if tolerance:
        close = np.isclose(got, want, rtol=tolerance, atol=1e-30, equal_nan=True)
    elif got.dtype.kind == "f":
        close = (got == want) | (np.isnan(got) & np.isnan(want))
    else:
        close = got == want
    if close.all():
        return None
    where = np.argwhere(~close)[:3].tolist()
    unwritten = (np.ascontiguousarray(got[~close]).view(np.uint8) == GUARD_VALUE).all()
    return f"{int((~close).sum())} of {close.size} elements differ, e.g. at {where}: " \
           f"{[got[tuple(i)].item() for i in where]} != {[want[tuple(i)].item() for i in where]}" + \
           (f" (all of them still the harness's guard bytes, {GUARD_VALUE:#x}: not written?)" if unwritten else "")


def _sanitizer_report(stderr: bytes) -> str:
    """The report up to its SUMMARY line (the shadow-memory map after it helps nobody here)."""
    text = stderr.decode(errors="replace")
    end = text.find("\n", text.find("SUMMARY: ")) if "SUMMARY: " in text else -1
    return text[:end] if end >= 0 else text


def _buffer_bytes(tensor: TensorType) -> int:
    """Native buffers: a utf8 element is a native pointer (8 bytes here, 4 in wasm)."""
    return tensor.count * (ctypes.sizeof(ctypes.c_void_p) if tensor.dtype is ElementType.UTF8 else tensor.dtype.size)


def _to_bytes(array, tensor: TensorType) -> bytes:
    return np.ascontiguousarray(np.asarray(array), dtype=NUMPY_TYPES[tensor.dtype.type_name]).tobytes()


def reference_takes_state(module) -> bool:
    """Whether a reference's run() has the `state` parameter of a stateful block."""
    import inspect

    return "state" in inspect.signature(module.run).parameters


def _parse_outputs(data: bytes, tensors: list[TensorType]) -> tuple[list, int]:
    """One run's outputs and the number of bytes they took."""
    results, position = [], 0
    for tensor in tensors:
        if tensor.dtype is ElementType.UTF8:
            strings = []
            for _ in range(tensor.count):
                end = data.index(b"\0", position)
                strings.append(data[position:end].decode("utf-8", errors="replace"))
                position = end + 1
            results.append(strings)
        else:
            size = tensor.bytes
            results.append(np.frombuffer(data[position:position + size],
                                         NUMPY_TYPES[tensor.dtype.type_name]).reshape(tensor.shape).copy())
            position += size
    return results, position
