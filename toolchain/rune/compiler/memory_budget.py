"""The rune's memory against `--memory-limit`.

Checked twice: before compiling, with what the plan already knows (stack, tensor arena, block
state), so that a pipeline that cannot fit fails at once and points at the Runefile; and after
linking, when the constants (block tables, strings) are known too.
"""

from __future__ import annotations

from rune.compiler.codegen import Layout
from rune.compiler.pipeline import Pipeline
from rune.diagnostics import Diagnostic, RuneError


def check_planned(pipeline: Pipeline, layout: Layout, stack_bytes: int, limit: int) -> None:
    planned = stack_bytes + layout.arena_bytes + layout.state_bytes
    if planned > limit:
        raise _over_limit(pipeline, f"at least {planned:,}", limit, layout, stack_bytes)


def check_linked(pipeline: Pipeline, layout: Layout, stack_bytes: int, used_bytes: int, limit: int) -> None:
    if used_bytes > limit:
        constants = used_bytes - stack_bytes - layout.arena_bytes - layout.state_bytes
        raise _over_limit(pipeline, f"{used_bytes:,}", limit, layout, stack_bytes, f", constants {constants:,}")


def _over_limit(pipeline: Pipeline, needed: str, limit: int, layout: Layout, stack_bytes: int,
                more_parts: str = "") -> RuneError:
    """The error points at the first thing to make smaller: the stage with the largest tensor, or
    the stack when no tensor is larger."""
    parts = f"stack {stack_bytes:,}, tensors {layout.arena_bytes:,}, block state {layout.state_bytes:,}{more_parts}"
    message = f"the rune needs {needed} bytes of memory ({parts}), more than the limit of {limit:,}"
    outputs = [(tensor.bytes, stage, tensor) for stage in pipeline.stages for tensor in stage.outputs]
    size, stage, tensor = max(outputs, key=lambda entry: entry[0], default=(0, None, None))
    if stack_bytes >= size:
        return RuneError(Diagnostic(message, hint=f"its largest part is the stack, {stack_bytes:,} bytes: lower "
                                                  f"--stack-size if the rune's code needs less, or raise "
                                                  f"--memory-limit"))
    return RuneError(Diagnostic(
        message, stage.location, stage=stage.name,
        hint=f"its largest tensor is this stage's output {tensor} ({size:,} bytes): make it smaller "
             f"(shorter audio, smaller images), or raise --memory-limit"))
