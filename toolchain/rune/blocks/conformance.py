"""`rune proc-block test`: a block's C against its numpy reference on random and edge-case
inputs, natively, and under AddressSanitizer and UndefinedBehaviorSanitizer."""

from __future__ import annotations

import re
from dataclasses import dataclass, field

import numpy as np

from rune.blocks.harness import BlockFailed, BlockInstance, BufferOverrun, outputs_equal
from rune.blocks.manifest import BlockManifest
from rune.tensors import ElementType, TensorType


@dataclass
class ConformanceReport:
    examples: int = 0
    identical: int = 0
    both_failed: int = 0  # inputs on which the reference and the C both refuse
    sanitized: int = 0
    problems: list[str] = field(default_factory=list)

    @property
    def passed(self) -> bool:
        return not self.problems


def random_array(rng: np.random.Generator, tensor: TensorType) -> np.ndarray:
    dtype = np.dtype(tensor.dtype.numpy_name)
    if dtype.kind == "f":
        values = rng.normal(0, 10, tensor.shape).astype(dtype)
        if values.size > 4 and rng.random() < 0.3:  # now and then the special values
            flat = values.reshape(-1)
            flat[rng.integers(0, flat.size, 3)] = rng.choice([np.nan, np.inf, -np.inf, 0.0, -0.0], 3)
        return values
    info = np.iinfo(dtype)
    return rng.integers(info.min, info.max, tensor.shape, dtype=dtype, endpoint=True)


def edge_arrays(tensor: TensorType) -> list[np.ndarray]:
    dtype = np.dtype(tensor.dtype.numpy_name)
    info = np.finfo(dtype) if dtype.kind == "f" else np.iinfo(dtype)
    values = [0, info.min, info.max, 1] + ([np.nan, np.inf, -np.inf] if dtype.kind == "f" else [])
    return [np.full(tensor.shape, v, dtype) for v in values]


# A stateful block (state_bytes > 0) is also checked run after run: sequences of this many inputs,
# init before the first only, against its reference carrying its `state` through the same inputs.
SEQUENCE_RUNS = 5


def check_block(block: BlockManifest, args: dict, inputs: list[TensorType], examples: int = 200,
                seed: int = 0, sanitize: bool = True) -> ConformanceReport:
    instance = BlockInstance(block, args, inputs)
    rng = np.random.default_rng(seed)
    report = ConformanceReport()
    cases = [[random_array(rng, t) for t in inputs] for _ in range(examples)]
    edges = [list(arrays) for arrays in zip(*(edge_arrays(t) for t in inputs))]
    sequences = []
    if instance.stateful:
        # random inputs in runs of SEQUENCE_RUNS; each edge case repeated; all edge cases in turn
        sequences = [cases[i:i + SEQUENCE_RUNS] for i in range(0, len(cases), SEQUENCE_RUNS)]
        sequences += [[arrays] * 3 for arrays in edges] + [edges + cases[:2] + edges]
    # The sanitized runs come first, each sequence in its own process: a block that writes out of
    # bounds is reported there, before the native runs (in this process) could corrupt its heap.
    if sanitize:
        for sequence in [[arrays] for arrays in cases[:3] + edges] + sequences[:1] + sequences[-1:]:
            try:
                problem = compare_sequence(instance, instance.sanitized_runs, sequence)
            except AssertionError as e:
                report.problems.append(str(e))
                return report
            report.sanitized += len(sequence)
            if problem:
                report.problems.append(f"under the sanitizers: {problem}")
    native = instance.native()
    # one run after init per input, then the sequences of runs (state)
    for sequence in [[arrays] for arrays in cases + edges] + sequences:
        try:
            problem = compare_sequence(instance, native_runs(native), sequence, report)
        except BufferOverrun as e:
            report.problems.append(str(e))
            return report
        if problem:
            report.problems.append(problem)
            if len(report.problems) >= 5:
                return report
    return report


class BlockCrashed(Exception):
    """The block took down the process that was testing it, or never returned."""

    def __init__(self, message: str, hint: str):
        super().__init__(message)
        self.hint = hint


NEVER_RETURNS = "look for a loop that never ends; --timeout gives a slow block longer"


def check_block_isolated(block: BlockManifest, args: dict, inputs: list[TensorType], examples: int = 200,
                         seed: int = 0, sanitize: bool = True, timeout: float = 300.0) -> ConformanceReport:
    """check_block in a child process (forked: nothing is loaded again): the native runs call the
    block in-process, and a block that crashes or loops for ever must not take its tester with it.
    Raises what check_block raises, or BlockCrashed."""
    import multiprocessing
    import signal
    import subprocess

    context = multiprocessing.get_context("fork")
    receiver, sender = context.Pipe(duplex=False)
    child = context.Process(target=_check_and_send, args=(sender, block, args, inputs, examples, seed, sanitize))
    child.start()
    sender.close()
    try:
        if not receiver.poll(timeout):
            child.kill()
            raise BlockCrashed(f"the check did not finish within {timeout:g} s: the block may never return",
                               NEVER_RETURNS)
        try:
            failed, value = receiver.recv()
        except EOFError:  # the child died without a word
            child.join()
            code = child.exitcode or 0
            how = f"signal {signal.Signals(-code).name}" if code < 0 else f"exit status {code}"
            raise BlockCrashed(f"the block crashed the test ({how})", "run it without --no-sanitizers: "
                               "AddressSanitizer says where a crash happens") from None
    finally:
        receiver.close()
        child.join()
    if failed and isinstance(value, subprocess.TimeoutExpired):  # the sanitized run's own limit
        raise BlockCrashed("the block did not return under the sanitizers", NEVER_RETURNS)
    if failed:
        raise value
    return value


def _check_and_send(sender, *arguments) -> None:
    try:
        outcome = (False, check_block(*arguments))
    except Exception as e:  # noqa: BLE001 -- the parent re-raises it
        outcome = (True, e)
    sender.send(outcome)


def native_runs(native):
    """`produce` for compare_sequence: the native block, init before the first run only."""
    def runs(sequence):
        results = []
        for index, arrays in enumerate(sequence):
            try:
                results.append(native.run(arrays, init=index == 0))
            except BlockFailed as e:
                results.append(e)
                break
        return results
    return runs


def compare_sequence(instance: BlockInstance, produce, sequence: list[list[np.ndarray]],
                     report: ConformanceReport | None = None, tolerance: float = 0.0) -> str | None:
    """What differs, run after run, between `produce(sequence)` (the C run on each inputs in turn,
    init before the first only, giving a list of outputs or BlockFailed) and the reference
    carrying its state through the same inputs; None if nothing. A run both refuse ends it. One
    run is a sequence of one. Floats must be identical unless a relative `tolerance` is allowed."""
    report = ConformanceReport() if report is None else report
    actual = produce(sequence)
    state: dict = {}
    for run, arrays in enumerate(sequence):
        where = f"run {run + 1} of {len(sequence)}: " if len(sequence) > 1 else ""
        report.examples += 1
        got = actual[run] if run < len(actual) else None
        try:
            expected = instance.reference(arrays, state)
        except (ValueError, ArithmeticError):
            if isinstance(got, BlockFailed):
                report.both_failed += 1
                return None
            return f"{where}the reference refused an input that the C accepted"
        if isinstance(got, BlockFailed):
            return f"{where}the C failed ({got}) where the reference did not"
        if got is None:
            return f"{where}the C gave no outputs"
        for index, (out, want, tensor) in enumerate(zip(got, expected, instance.outputs)):
            difference = outputs_equal(out, want, tensor, tolerance)
            if difference:
                carried = " (state carried from the runs before)" if run else ""
                return f"{where}output {index}{carried}: {difference}"
        report.identical += 1
    return None


def compare_outputs(instance: BlockInstance, produce, arrays: list[np.ndarray], tolerance: float = 0.0) -> str | None:
    """What differs between `produce(arrays)` (a run of the C, the first after init, giving its
    outputs or raising BlockFailed) and the reference, or None: both must give identical outputs,
    or both refuse the input. compare_sequence with a sequence of one run (kept for the test files
    that earlier versions of `rune proc-block new` wrote)."""
    def one_run(sequence):
        try:
            return [produce(sequence[0])]
        except BlockFailed as e:
            return [e]
    return compare_sequence(instance, one_run, [arrays], tolerance=tolerance)


def hypothesis_arrays(tensor: TensorType, elements=None):
    """A hypothesis strategy for inputs of this type and shape: any value, NaN and infinities too,
    unless `elements` (a strategy for one element) says otherwise."""
    from hypothesis import strategies as st
    from hypothesis.extra import numpy as hnp

    dtype = np.dtype(tensor.dtype.numpy_name)
    if elements is None and dtype.kind == "f":
        elements = st.floats(width=dtype.itemsize * 8, allow_nan=True, allow_infinity=True)
    return hnp.arrays(dtype, tensor.shape, elements=elements)


def draw_sequence(data, instance: BlockInstance, elements: dict | None = None,
                  max_runs: int = 6) -> list[list[np.ndarray]]:
    """Inputs hypothesis chooses (`data` from `st.data()`) for compare_sequence: one run, or for a
    stateful block 1 to `max_runs` runs in a row. `elements`: input index -> element strategy."""
    from hypothesis import strategies as st

    runs = data.draw(st.integers(1, max_runs), label="runs") if instance.stateful else 1
    return [[data.draw(hypothesis_arrays(t, (elements or {}).get(i)), label=f"run {run + 1} input {i}")
             for i, t in enumerate(instance.inputs)] for run in range(runs)]


def parse_tensor(text: str) -> TensorType:
    """'f32[1, 10]' -> TensorType ('f32' alone is f32[1])."""
    match = re.fullmatch(r"\s*(\w+)\s*(?:\[([\d\s,]*)\])?\s*", text)
    if match is None:
        raise ValueError(f"'{text}' is not a type with dimensions")
    name, rest = match.groups()
    dims = tuple(int(d) for d in rest.split(",") if d.strip()) if rest is not None else (1,)
    if not dims or any(d <= 0 for d in dims):
        raise ValueError(f"dimensions must be positive: {text}")
    return TensorType(ElementType.parse(name), dims)
