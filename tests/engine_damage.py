"""Damaged models and damaged plans for the engine's robustness tests, shared by
test_engine_malformed.py (in the test process, plain build) and engine_sanitized.py (in a process
with the AddressSanitizer + UBSan build).

The contract: the planner raises only ModelError on any bytes; rune_engine_init rejects a plan
that is truncated or altered (checksums), and whatever it accepts after a structural change with
the checksum recomputed runs without touching memory outside its buffers.
"""

from __future__ import annotations

import struct

from rune.engine.native import EngineError, NativeEngine
from rune.engine.plan import fnv1a
from rune.engine.planner import plan_model
from rune.tflite.model import ModelError

MAX_ARENA = 1 << 22  # damaged plans asking for more are not run
SPECIAL_WORDS = [0, 1, 0xFF, 0xFFFF, 0x7FFFFFFF, 0x80000000, 0xFFFFFFFF, 1 << 20]
HOSTILE_VALUES = [0, 1, -1, 2, 255, 256, 65535, 1 << 20, 0x7FFFFFFF, -(1 << 31)]


def plan_or_none(data: bytes):
    """The plan of `data`, or None if the planner refuses it; anything but a ModelError fails."""
    try:
        return plan_model(data)
    except ModelError as e:
        assert str(e), "every refusal explains itself"
        return None


def run_once(plan: bytes, model: bytes, sanitize: bool) -> bool:
    """Init and one inference on zeros; False if init refused the plan."""
    try:
        engine = NativeEngine(plan, model, sanitize=sanitize)
    except EngineError:
        return False
    if engine.arena_bytes <= MAX_ARENA:
        engine.invoke([bytes(n) for n in engine.input_sizes])
    return True


def plan_if_possible_and_run(data: bytes, sanitize: bool) -> None:
    plan = plan_or_none(data)
    if plan is not None and plan.arena_bytes <= MAX_ARENA:
        assert run_once(plan.to_bytes(), data, sanitize), "the engine refused a plan the planner made"


def damaged_models(model: bytes, rng, count: int):
    """Truncated, bit-flipped (biased towards the flatbuffer's structure, before the weights) and
    word-overwritten copies of `model`."""
    for trial in range(count):
        data = bytearray(model)
        kind = trial % 3
        if kind == 0:
            yield bytes(data[:int(rng.integers(0, len(data)))])
            continue
        if kind == 1:
            end = min(len(data), 4096) if trial % 2 else len(data)
            for _ in range(int(rng.integers(1, 4))):
                data[int(rng.integers(0, end))] ^= 1 << int(rng.integers(0, 8))
        else:
            at = int(rng.integers(0, len(data) - 4)) & ~3
            word = SPECIAL_WORDS[trial % len(SPECIAL_WORDS)] if trial % 5 else int(rng.integers(0, 1 << 32))
            data[at:at + 4] = struct.pack("<I", word)
        yield bytes(data)


def reseal(plan: bytes) -> bytes:
    """Recompute the plan checksum, so that a change reaches the structural checks."""
    plan = bytearray(plan)
    plan[12:16] = struct.pack("<I", fnv1a(bytes(plan[16:])))
    return bytes(plan)


def resealed_damaged_plans(plan: bytes, rng, count: int):
    for trial in range(count):
        bad = bytearray(plan)
        if trial % 2:
            bad[int(rng.integers(16, len(bad)))] ^= 1 << int(rng.integers(0, 8))
        else:
            at = 16 + (int(rng.integers(0, len(bad) - 20)) & ~3)
            bad[at:at + 4] = struct.pack("<I", SPECIAL_WORDS[int(rng.integers(0, len(SPECIAL_WORDS)))])
        yield reseal(bytes(bad))


def hostile_operator_plans(plan: bytes, words_per_operator: int, values=HOSTILE_VALUES):
    """Each operand index and up to `words_per_operator` parameter words of every operator set to
    each of `values`, with the checksum recomputed."""
    _, n_ops = struct.unpack_from("<HH", plan, 28)
    ops_at, pool_at = struct.unpack_from("<I", plan, 40)[0], struct.unpack_from("<I", plan, 48)[0]
    for i in range(n_ops):
        _, n_in, n_out, operands, params, n_params, _, n_tmp = struct.unpack_from("<HBBIIHBB", plan, ops_at + 16 * i)
        words = [pool_at + 4 * (operands + k) for k in range(n_in + n_out + n_tmp)]
        words += [pool_at + 4 * (params + k) for k in range(min(n_params, words_per_operator))]
        for at in words:
            for value in values:
                bad = bytearray(plan)
                bad[at:at + 4] = struct.pack("<i", value)
                yield reseal(bytes(bad))
