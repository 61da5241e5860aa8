"""Check a .rune's manifest before a host relies on it.

The compiler writes manifests and need not check them; a host reads them from a file anyone can
edit. Two layers: manifest.schema.json says what each entry holds (keys, types, known element types,
each capability kind's arguments), and `cross_check` what a schema cannot say: indices 0..n-1,
bytes == elements x element size, capability arguments that agree with the dimensions (docs/abi.md,
"Capabilities"), and references between stages, capabilities, models and outputs.

A manifest that passed the schema is remembered by its content (rune/schemas.py: jsonschema takes
longer to import than loading a rune takes); the cross-checks are cheap and always run.
"""

from __future__ import annotations

import math
from pathlib import Path

SCHEMA_PATH = Path(__file__).with_name("manifest.schema.json")
PAGE_SIZE = 65536
ELEMENT_SIZES = {"u8": 1, "i8": 1, "u16": 2, "i16": 2, "u32": 4, "i32": 4, "u64": 8, "i64": 8, "f32": 4,
                 "f64": 8, "utf8": 4}


class ManifestError(ValueError):
    """What is wrong with a manifest, starting with where ("capabilities[0].args.hz: ...")."""


def check_manifest(manifest: dict, text: bytes) -> None:
    """Raise ManifestError unless the manifest (parsed from `text`) is one a host can rely on."""
    check_schema(manifest, text)
    cross_check(manifest)


# -- the schema -------------------------------------------------------------------------------

def check_schema(manifest: dict, text: bytes) -> None:
    from rune.schemas import schema_errors

    errors = schema_errors(SCHEMA_PATH, manifest, text)
    if errors:
        import jsonschema

        error = jsonschema.exceptions.best_match(errors)
        raise ManifestError(f"{json_path(error.absolute_path)}: {error.message}")


def json_path(parts) -> str:
    """["capabilities", 0, "args", "hz"] -> "capabilities[0].args.hz"."""
    text = ""
    for part in parts:
        text += f"[{part}]" if isinstance(part, int) else f".{part}" if text else str(part)
    return text or "the manifest"


# -- what a schema cannot say -----------------------------------------------------------------

def cross_check(manifest: dict) -> None:
    memory_bytes = manifest["memory"]["pages"] * PAGE_SIZE
    if manifest["memory"]["used_bytes"] > memory_bytes:
        raise ManifestError(f"memory: {manifest['memory']['used_bytes']:,} bytes used in "
                            f"{manifest['memory']['pages']} page(s) of {PAGE_SIZE:,} bytes")
    stages = {}
    for i, stage in enumerate(manifest["stages"]):
        if stage["name"] in stages:
            raise ManifestError(f"stages[{i}]: a second stage named '{stage['name']}'")
        stages[stage["name"]] = stage
    order = {name: i for i, name in enumerate(stages)}
    for i, stage in enumerate(manifest["stages"]):
        for j, source in enumerate(stage["inputs"]):
            _produced(stages, source, f"stages[{i}].inputs[{j}]")
            if order[source["stage"]] >= i:  # stages run in order, each after its inputs
                raise ManifestError(f"stages[{i}].inputs[{j}]: stage '{source['stage']}' does not run before "
                                    f"'{stage['name']}'")

    _check_numbering(manifest["capabilities"], "index", "capabilities")
    _check_numbering(manifest["models"], "index", "models")
    _check_numbering(manifest["outputs"], "channel", "outputs")
    _check_one_entry_per_stage(manifest["capabilities"], stages, "capability", "capabilities")
    _check_one_entry_per_stage(manifest["models"], stages, "model", "models")

    for i, entry in enumerate(manifest["capabilities"]):
        where = f"capabilities[{i}]"
        stage = stages[entry["stage"]]
        if stage["target"] != entry["kind"]:
            raise ManifestError(f"{where}: kind {entry['kind']}, but its stage '{stage['name']}' is a "
                                f"{stage['target']} capability")
        if entry["args"] != stage.get("args", {}):
            raise ManifestError(f"{where}.args differ from the arguments of its stage '{stage['name']}'")
        _check_tensor(entry, memory_bytes, where)
        _same_tensor(entry, stage["outputs"][:1], f"{where}", f"the output of its stage '{stage['name']}'")
        _check_capability_shape(entry, where)

    for i, entry in enumerate(manifest["models"]):
        stage = stages[entry["stage"]]
        for j, tensor in enumerate(entry["inputs"]):
            _tensor_fits(tensor, memory_bytes, f"models[{i}].inputs[{j}]")
        for j, tensor in enumerate(entry["outputs"]):
            _tensor_fits(tensor, memory_bytes, f"models[{i}].outputs[{j}]")
        if len(entry["outputs"]) != len(stage["outputs"]) or not all(
                _compatible(a, b) for a, b in zip(entry["outputs"], stage["outputs"])):
            raise ManifestError(f"models[{i}].outputs differ from the outputs of its stage '{stage['name']}'")
        produced = [_produced(stages, source, f"stages of '{stage['name']}'") for source in stage["inputs"]]
        if len(entry["inputs"]) != len(produced) or not all(
                _compatible(a, b) for a, b in zip(entry["inputs"], produced)):
            raise ManifestError(f"models[{i}].inputs differ from the tensors its stage '{stage['name']}' is given")

    for i, entry in enumerate(manifest["outputs"]):
        where = f"outputs[{i}]"
        out = stages.get(entry["stage"])
        if out is None or out["kind"] != "out":
            raise ManifestError(f"{where}.stage: '{entry['stage']}' is not an out stage")
        source = entry["source"]
        if (source["stage"], source["output"]) not in [(i["stage"], i["output"]) for i in out["inputs"]]:
            raise ManifestError(f"{where}.source: stage '{out['name']}' has no input "
                                f"'{source['stage']}' (output {source['output']})")
        _check_tensor(entry, memory_bytes, where)
        tensor = _produced(stages, source, f"{where}.source")
        if (entry["type"], entry["dimensions"]) != (tensor["type"], tensor["dimensions"]):
            raise ManifestError(f"{where}: {_describe(entry)}, but its source '{source['stage']}' produces "
                                f"{_describe(tensor)}")


def _check_numbering(entries: list, key: str, where: str) -> None:
    for i, entry in enumerate(entries):
        if entry[key] != i:
            raise ManifestError(f"{where}[{i}].{key} is {entry[key]}, but it is entry {i} (entries are numbered "
                                f"from 0, in order)")


def _check_one_entry_per_stage(entries: list, stages: dict, kind: str, where: str) -> None:
    seen = set()
    for i, entry in enumerate(entries):
        stage = stages.get(entry["stage"])
        if stage is None or stage["kind"] != kind:
            raise ManifestError(f"{where}[{i}].stage: '{entry['stage']}' is not a {kind} stage")
        if entry["stage"] in seen:
            raise ManifestError(f"{where}[{i}]: a second entry for stage '{entry['stage']}'")
        seen.add(entry["stage"])
    missing = [name for name, stage in stages.items() if stage["kind"] == kind and name not in seen]
    if missing:
        raise ManifestError(f"{where}: no entry for the {kind} stage '{missing[0]}'")


def _produced(stages: dict, source: dict, where: str) -> dict:
    stage = stages.get(source["stage"])
    if stage is None:
        raise ManifestError(f"{where}: there is no stage '{source['stage']}'")
    if source["output"] >= len(stage["outputs"]):
        raise ManifestError(f"{where}: stage '{source['stage']}' has {len(stage['outputs'])} output(s), "
                            f"not an output {source['output']}")
    return stage["outputs"][source["output"]]


def _check_tensor(entry: dict, memory_bytes: int, where: str) -> None:
    expected = math.prod(entry["dimensions"]) * ELEMENT_SIZES[entry["type"]]
    if entry["bytes"] != expected:
        raise ManifestError(f"{where}: {entry['bytes']:,} bytes, but {_describe(entry)} has {expected:,}")
    _tensor_fits(entry, memory_bytes, where)


def _tensor_fits(tensor: dict, memory_bytes: int, where: str) -> None:
    size = math.prod(tensor["dimensions"]) * ELEMENT_SIZES[tensor["type"]]
    if size > memory_bytes:
        raise ManifestError(f"{where}: {_describe(tensor)} ({size:,} bytes) is larger than the rune's memory "
                            f"({memory_bytes:,} bytes)")


def _same_tensor(entry: dict, tensors: list, where: str, what: str) -> None:
    if not tensors or (entry["type"], entry["dimensions"]) != (tensors[0]["type"], tensors[0]["dimensions"]):
        theirs = _describe(tensors[0]) if tensors else "nothing"
        raise ManifestError(f"{where}: {_describe(entry)}, but {what} is {theirs}")


def _check_capability_shape(entry: dict, where: str) -> None:
    """The dimensions each kind's arguments call for, by the compiler's own rules
    (rune.capabilities); a dimension of 1 may be added or left out ([16000] and [1, 16000] hold the
    same samples)."""
    from rune.capabilities import KINDS
    from rune.tensors import ElementType, TensorType

    declared = TensorType(ElementType.parse(entry["type"]), tuple(entry["dimensions"]))
    try:
        shape = list(KINDS[entry["kind"]].shape(entry["args"], declared))
    except (ValueError, KeyError) as e:
        raise ManifestError(f"{where}.args: {e}") from None
    if _squeezed(shape) != _squeezed(entry["dimensions"]):
        args = ", ".join(f"{k} {v}" for k, v in entry["args"].items() if k != "source")
        raise ManifestError(f"{where}: dimensions {entry['dimensions']}, but its arguments ({args}) make {shape}")


def _compatible(a: dict, b: dict) -> bool:
    return a["type"] == b["type"] and _squeezed(a["dimensions"]) == _squeezed(b["dimensions"])


def _squeezed(dimensions) -> list:
    return [d for d in dimensions if d != 1]


def _describe(tensor: dict) -> str:
    return f"{tensor['type']}{list(tensor['dimensions'])}"
