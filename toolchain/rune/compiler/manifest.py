"""The JSON manifest inside a .rune: everything a host needs to know without running it."""

from __future__ import annotations

from rune import __version__
from rune.abi import ABI_VERSION
from rune.blocks.arguments import to_json
from rune.compiler.codegen import GeneratedSources
from rune.compiler.pipeline import Pipeline, Stage
from rune.compiler.wasm_build import WasmModule, zig_version
from rune.container.rune_file import FORMAT_VERSION
from rune.engine.plan import arena_bytes, ram_bytes
from rune.runefile.document import StageKind
from rune.tflite.model import Tensor


def build_manifest(pipeline: Pipeline, generated: GeneratedSources, module: WasmModule, name: str,
                   plans: dict[str, bytes | None]) -> dict:
    stages = pipeline.stages
    by_name = {s.name: s for s in stages}
    return {
        "format": FORMAT_VERSION,
        "abi": ABI_VERSION,
        "name": name,
        "compiler": f"rune {__version__} (zig {zig_version()})",
        "source": pipeline.source.name,
        "image": pipeline.image,
        "memory": {
            "pages": module.pages,
            "used_bytes": module.used_bytes,
            "stack_bytes": module.stack_bytes,
            "arena_bytes": generated.layout.arena_bytes,
            "state_bytes": generated.layout.state_bytes,
        },
        "stages": [stage_entry(s, stages) for s in stages],
        "capabilities": [_capability(i, by_name[n]) for i, n in enumerate(generated.capability_order)],
        "models": [_model(i, by_name[n], plans[n]) for i, n in enumerate(generated.model_order)],
        "outputs": [_output(channel, out, stages[producer], index)
                    for channel, (out, producer, index) in enumerate(generated.channels)],
        "resources": [{"name": r.name, "type": r.type, "bytes": len(r.data)} for r in pipeline.resources.values()],
    }


def stage_entry(stage: Stage, stages: list[Stage]) -> dict:
    entry = {
        "name": stage.name,
        "kind": stage.kind.value,
        "target": stage.model_path.name if stage.model_path else stage.target,
        "inputs": [{"stage": stages[e.stage].name, "output": e.output} for e in stage.inputs],
        "outputs": [t.to_json() for t in stage.outputs],
    }
    if stage.kind is StageKind.PROC_BLOCK:
        entry["block"] = stage.block.name
    if stage.args:
        entry["args"] = {k: to_json(v) for k, v in stage.args.items()}
    return entry


def _capability(index: int, stage: Stage) -> dict:
    tensor = stage.outputs[0]
    return {"index": index, "stage": stage.name, "kind": stage.capability,
            "args": {k: to_json(v) for k, v in stage.args.items()}, **tensor.to_json(), "bytes": tensor.bytes}


def _model(index: int, stage: Stage, plan: bytes | None) -> dict:
    model = stage.model
    entry = {
        "index": index,
        "stage": stage.name,
        "file": stage.model_path.name,
        "format": "tflite",
        "inputs": [_model_tensor(t) for t in model.inputs],
        "outputs": [_model_tensor(t) for t in model.outputs],
        "operators": model.operator_names,
        "activation_bytes": model.activation_bytes,
    }
    if plan is not None:  # write_rune adds where the plan is
        entry["plan"] = {"arena_bytes": arena_bytes(plan), "ram_bytes": ram_bytes(arena_bytes(plan))}
    return entry


def _model_tensor(tensor: Tensor) -> dict:
    entry = {"name": tensor.name, **tensor.tensor_type.to_json()}
    if tensor.quantization:
        entry["quantization"] = {"scales": list(tensor.quantization.scales),
                                 "zero_points": list(tensor.quantization.zero_points),
                                 "dimension": tensor.quantization.dimension}
    return entry


def _output(channel: int, out_stage: str, producer: Stage, index: int) -> dict:
    tensor = producer.outputs[index]
    return {"channel": channel, "stage": out_stage, "kind": "SERIAL",
            "source": {"stage": producer.name, "output": index}, **tensor.to_json(), "bytes": tensor.bytes}
