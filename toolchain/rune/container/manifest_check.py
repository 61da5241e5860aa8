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

from pathlib import Path

from rune.container.wasm import PAGE_SIZE
from rune.tensors import TensorType

SCHEMA_PATH = Path(__file__).with_name("manifest.schema.json")


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
        ours, produced = TensorType.from_json(entry), TensorType.from_json(_produced(stages, source, f"{where}.source"))
        if ours != produced:
            raise ManifestError(f"{where}: {ours}, but its source '{source['stage']}' produces {produced}")


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
    tensor = TensorType.from_json(entry)
    if entry["bytes"] != tensor.bytes:
        raise ManifestError(f"{where}: {entry['bytes']:,} bytes, but {tensor} has {tensor.bytes:,}")
    _tensor_fits(entry, memory_bytes, where)


def _tensor_fits(entry: dict, memory_bytes: int, where: str) -> None:
    tensor = TensorType.from_json(entry)
    if tensor.bytes > memory_bytes:
        raise ManifestError(f"{where}: {tensor} ({tensor.bytes:,} bytes) is larger than the rune's memory "
                            f"({memory_bytes:,} bytes)")


def _same_tensor(entry: dict, tensors: list, where: str, what: str) -> None:
    ours = TensorType.from_json(entry)
    theirs = TensorType.from_json(tensors[0]) if tensors else None
    if ours != theirs:
        raise ManifestError(f"{where}: {ours}, but {what} is {theirs or 'nothing'}")


def _check_capability_shape(entry: dict, where: str) -> None:
    """The dimensions each kind's arguments call for, by the compiler's own rules
    (rune.capabilities); a dimension of 1 may be added or left out ([16000] and [1, 16000] hold the
    same samples)."""
    from rune.capabilities import KINDS

    declared = TensorType.from_json(entry)
    try:
        shape = list(KINDS[entry["kind"]].shape(entry["args"], declared))
    except (ValueError, KeyError) as e:
        raise ManifestError(f"{where}.args: {e}") from None
    if not declared.compatible_with(declared.reshaped(shape)):
        args = ", ".join(f"{k} {v}" for k, v in entry["args"].items() if k != "source")
        raise ManifestError(f"{where}: dimensions {entry['dimensions']}, but its arguments ({args}) make {shape}")


def _compatible(a: dict, b: dict) -> bool:
    return TensorType.from_json(a).compatible_with(TensorType.from_json(b))
