"""`rune build`: Runefile -> checked pipeline -> C glue -> wasm -> .rune, with each model's plan for
Rune's engine (docs/engine.md)."""

from __future__ import annotations

import re
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Callable

from rune.compiler import memory_budget
from rune.compiler.checker import check
from rune.compiler.codegen import GeneratedSources, generate
from rune.compiler.manifest import build_manifest
from rune.compiler.pipeline import Pipeline
from rune.compiler.wasm_build import DEFAULT_MEMORY_LIMIT, DEFAULT_STACK_BYTES, WasmModule, compile_module
from rune.container.rune_file import write_rune
from rune.diagnostics import Diagnostic, Diagnostics, RuneError, display_path
from rune.engine.errors import UnsupportedOperator
from rune.engine.plan_cache import plan_bytes
from rune.runefile import find_runefile, load_runefile
from rune.runefile.document import StageKind
from rune.tflite.model import ModelError


@dataclass
class BuildResult:
    path: Path | None
    data: bytes
    manifest: dict
    pipeline: Pipeline
    module: WasmModule
    seconds: float
    code_bytes: int  # the .rune's size without models, their plans and resources
    generated: GeneratedSources  # the C it was compiled from
    notes: list[str] = field(default_factory=list)
    warnings: list[str] = field(default_factory=list)


# What a rune is built for: the desktop runs every model (TFLM), a device only models that Rune's
# engine can plan, so for a device a model without a plan is an error rather than a warning.
TARGETS = ("desktop", "device")


def _unique(items) -> list:
    return list(dict.fromkeys(items))


# A rune's name becomes a file name (NAME.rune) and is written into the generated C and the
# manifest, so it is kept to characters that are safe in all three.
NAME = re.compile(r"^[A-Za-z][A-Za-z0-9_-]{0,63}$")


def default_name(runefile: Path) -> str:
    """The Runefile's folder name, made into a valid rune name if it is not one."""
    folder = runefile.resolve().parent.name
    name = re.sub(r"[^A-Za-z0-9_-]", "_", folder)[:64]
    return name if NAME.match(name) else f"rune_{name}"[:64] if name else "rune"


def check_name(name: str) -> None:
    if not NAME.match(name):
        raise RuneError(Diagnostic(
            f"--name {name!r} is not a valid rune name",
            hint="use letters, digits, '_' and '-', starting with a letter, at most 64 characters "
                 "(the rune is written as NAME.rune; choose its folder with -o)"))


def build(path: Path | str, output: Path | str | None = None, name: str | None = None, *,
          memory_limit: int = DEFAULT_MEMORY_LIMIT, stack_bytes: int = DEFAULT_STACK_BYTES, target: str = "desktop",
          log: Callable[[str], None] | None = None, warn: Callable[[str], None] | None = None,
          write: bool = True) -> BuildResult:
    started = time.perf_counter()
    log = log or (lambda message: None)
    warn = warn or log
    runefile = find_runefile(path)
    if name is not None:
        check_name(name)
    name = name or default_name(runefile)
    pipeline = check(load_runefile(runefile))
    for note in pipeline.notes:
        log(note)
    plans, warnings = _plan_models(pipeline, target)
    for warning in warnings:
        warn(warning)
    generated = generate(pipeline, name)
    memory_budget.check_planned(pipeline, generated.layout, stack_bytes, memory_limit)
    module = compile_module(generated, _unique(d for b in generated.blocks for d in b.source_dirs), stack_bytes=stack_bytes,
                            log=log)
    memory_budget.check_linked(pipeline, generated.layout, stack_bytes, module.used_bytes, memory_limit)
    manifest = build_manifest(pipeline, generated, module, name, plans)
    models = [(s.name, s.model_data, plans[s.name]) for s in pipeline.of_kind(StageKind.MODEL)]
    resources = [(r.name, r.data) for r in pipeline.resources.values()]
    data = write_rune(module.data, manifest, models, resources)
    payload = sum(len(m) + len(p or b"") for _, m, p in models) + sum(len(r) for _, r in resources)
    target = None
    if write:
        target = Path(output) if output else runefile.resolve().parent / f"{name}.rune"
        _check_output(target, pipeline)
        try:
            target.parent.mkdir(parents=True, exist_ok=True)
            tmp = target.with_name(target.name + ".tmp")
            tmp.write_bytes(data)
            tmp.replace(target)
        except OSError as e:
            raise RuneError(f"cannot write {display_path(target)}: {e.strerror}") from None
    return BuildResult(target, data, manifest, pipeline, module, time.perf_counter() - started,
                       len(data) - payload, generated, pipeline.notes, warnings)


def _check_output(target: Path, pipeline: Pipeline) -> None:
    """-o must name a file, and not the Runefile or a model it reads: writing the .rune there loses it."""
    if target.name in ("", ".", "..") or target.is_dir():
        raise RuneError(Diagnostic(f"-o {display_path(target) or repr(str(target))} is a folder, not a file",
                                   hint="give the .rune's file name, such as -o out/sine.rune"))
    inputs = [pipeline.source, *(s.model_path for s in pipeline.of_kind(StageKind.MODEL) if s.model_path)]
    for path in inputs:
        if target.resolve() == Path(path).resolve():
            raise RuneError(Diagnostic(f"-o {display_path(target)} would overwrite {display_path(path)}, "
                                       "which this build reads", hint="write the .rune somewhere else"))


def _plan_models(pipeline: Pipeline, target: str) -> tuple[dict[str, bytes | None], list[str]]:
    """Each model stage's plan for Rune's engine (None if the engine cannot run it), and the warnings
    that say so; for a device, such a model is an error."""
    plans: dict[str, bytes | None] = {}
    warnings: list[str] = []
    errors = Diagnostics()
    for stage in pipeline.of_kind(StageKind.MODEL):
        try:
            plans[stage.name] = plan_bytes(stage.model_data)
            continue
        except UnsupportedOperator as e:
            why = f"Rune's engine does not support operator {e.op_index} ({e.op_name}) of the model: {e.detail}"
        except ModelError as e:
            why = f"Rune's engine cannot run the model: {e}"
        plans[stage.name] = None
        if target == "device":
            errors.error(why, stage.location, stage=stage.name,
                         hint="docs/engine.md lists what the engine supports; 'rune model-check MODEL' checks a model")
        else:
            warnings.append(f"stage '{stage.name}': {why}; this rune cannot run on a device")
    errors.raise_if_any()
    return plans, warnings
