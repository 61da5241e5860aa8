"""Shared by the engine's tests: TFLM as the oracle (in a forked child: it aborts on some invalid
models), random inputs, and byte-for-byte comparison of the engine with TFLM.

Every operator sweep runs in full, with hundreds of inferences per real model (about 25 s on two
cores); RUNE_ENGINE_FULL=0 runs an even sample with few inferences, for a quick look while
working on a kernel (docs/engine.md, "Testing").
"""

from __future__ import annotations

import multiprocessing
import os
import zlib

import numpy as np

from conftest import shared_data
from rune.engine.native import NativeEngine
from rune.engine.dtypes import numpy_dtype
from rune.engine.planner import plan_model
from rune.tflite.model import read_model

FULL = os.environ.get("RUNE_ENGINE_FULL", "1") != "0"


def sample(cases: list, count: int) -> list:
    """All cases, or with RUNE_ENGINE_FULL=0 `count` of them spread evenly over the list."""
    if FULL or len(cases) <= count:
        return cases
    step = len(cases) / count
    return [cases[int(i * step)] for i in range(count)]


def inferences(ci: int, full: int) -> int:
    return full if FULL else ci


def load_model(name: str) -> bytes:
    return (shared_data() / "models" / f"{name}.tflite").read_bytes()


def seed_of(*parts) -> int:
    """A deterministic seed for a test case (hash() of a str is salted per process)."""
    return zlib.crc32(repr(parts).encode())


def random_array(rng, dtype, shape, float_range=(-4.0, 4.0)) -> np.ndarray:
    dtype = np.dtype(dtype)
    if dtype.kind == "f":
        return rng.uniform(*float_range, size=shape).astype(dtype)
    info = np.iinfo(dtype)
    return rng.integers(info.min, info.max, size=shape, endpoint=True, dtype=dtype)


def random_inputs(model: bytes, rng, count: int, float_range=(-4.0, 4.0)) -> list[list[np.ndarray]]:
    specs = [(numpy_dtype(t.type_code), t.shape) for t in read_model(model).inputs]
    return [[random_array(rng, dtype, shape, float_range) for dtype, shape in specs] for _ in range(count)]


class OracleError(RuntimeError):
    pass


def _tflm_child(connection, model: bytes, batches, reset_between: bool) -> None:
    try:
        from tflite_micro import runtime

        interpreter = runtime.Interpreter.from_bytes(model, arena_size=max(10 * len(model), 1 << 23))
        outputs = len(read_model(model).outputs)
        results = []
        for inputs in batches:
            if reset_between:
                interpreter.reset()
            for i, array in enumerate(inputs):
                interpreter.set_input(array, i)
            interpreter.invoke()
            results.append([np.array(interpreter.get_output(k)) for k in range(outputs)])
        connection.send(("ok", results))
    except Exception as e:  # reported to the parent, which raises OracleError
        connection.send(("error", f"{type(e).__name__}: {e}"))
    finally:
        connection.close()


def run_tflm(model: bytes, batches, reset_between: bool = False, timeout: float = 300) -> list[list[np.ndarray]]:
    """TFLM's outputs for each list of input arrays in `batches`, run in order by one interpreter."""
    context = multiprocessing.get_context("fork")
    parent, child = context.Pipe(duplex=False)
    process = context.Process(target=_tflm_child, args=(child, bytes(model), batches, reset_between))
    process.start()
    child.close()
    try:
        if not parent.poll(timeout):
            process.kill()
            raise OracleError("TFLM timed out")
        status, payload = parent.recv()
    except EOFError:
        process.join()
        raise OracleError(f"TFLM died (exit code {process.exitcode})") from None
    process.join()
    if status != "ok":
        raise OracleError(payload)
    return payload


def run_engine(model: bytes, batches, plan=None, reset_between: bool = False) -> list[list[np.ndarray]]:
    plan = plan or plan_model(model)
    engine = NativeEngine(plan.to_bytes(), model)
    results = []
    for inputs in batches:
        if reset_between:
            engine.reset()
        raw = engine.invoke([np.ascontiguousarray(a).tobytes() for a in inputs])
        results.append([np.frombuffer(r, dtype=o.dtype).reshape(o.shape) for r, o in zip(raw, plan.outputs)])
    return results


def assert_same(model: bytes, batches, reset_between: bool = False, label: str = "", oracle_model=None) -> int:
    """Every batch through TFLM and the engine: outputs must be identical byte for byte.
    `oracle_model` lets TFLM run an equivalent model where it cannot run this one.
    Returns the number of inferences compared."""
    expected = run_tflm(oracle_model or model, batches, reset_between)
    actual = run_engine(model, batches, reset_between=reset_between)
    for n, (want, got) in enumerate(zip(expected, actual)):
        assert len(want) == len(got)
        for k, (e, a) in enumerate(zip(want, got)):
            if e.dtype != a.dtype or e.tobytes() != a.tobytes():
                detail = ""
                if e.shape == a.shape and e.dtype == a.dtype:
                    bad = np.nonzero(e.reshape(-1) != a.reshape(-1))[0][:8]
                    detail = f": at {bad.tolist()} TFLM {e.reshape(-1)[bad].tolist()}, engine {a.reshape(-1)[bad].tolist()}"
                raise AssertionError(f"{label}: inference {n} output {k} differs "
                                     f"(TFLM {e.dtype}{list(e.shape)}, engine {a.dtype}{list(a.shape)}){detail}")
    return len(batches)
