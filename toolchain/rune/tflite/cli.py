"""`rune model-info`."""

from __future__ import annotations

import json
from collections import Counter
from pathlib import Path

import click


def _tensor_json(t) -> dict:
    entry = {"name": t.name, "type": t.element_type.type_name if t.element_type else t.type_name.lower(),
             "dimensions": list(t.shape)}
    if t.quantization:
        entry["quantization"] = {"scales": list(t.quantization.scales), "zero_points": list(t.quantization.zero_points),
                                 "dimension": t.quantization.dimension}
    return entry


@click.command("model-info")
@click.argument("model", type=click.Path(exists=True, dir_okay=False, path_type=Path))
@click.option("--json", "as_json", is_flag=True, help="Print one JSON object.")
def model_info_command(model, as_json):
    """Describe a TensorFlow Lite model: operators, inputs and outputs (element type, shape,
    quantization) and the memory it needs."""
    from rune.diagnostics import RuneError
    from rune.files import read_file
    from rune.tflite.model import ModelError, read_model

    try:
        info = read_model(read_file(model))
    except OSError as e:
        raise RuneError(f"cannot read {model}: {e.strerror}") from None
    except ModelError as e:
        raise RuneError(f"{model}: {e}") from None
    counts = Counter(op.name for op in info.operators)
    if as_json:
        click.echo(json.dumps({
            "file": str(model), "bytes": info.size, "schema_version": info.version, "description": info.description,
            "subgraphs": info.subgraphs,
            "operators": [{"name": name, "count": count} for name, count in sorted(counts.items())],
            "inputs": [_tensor_json(t) for t in info.inputs], "outputs": [_tensor_json(t) for t in info.outputs],
            "weight_bytes": info.weight_bytes, "activation_bytes": info.activation_bytes,
        }, indent=2))
        return
    lines = [f"{model.name}: {info.size:,} bytes, {len(info.operators)} operators"
             + (f", {info.subgraphs} subgraphs" if info.subgraphs > 1 else "")]
    if info.description:
        lines.append(f"  {info.description}")
    lines.append("Operators:")
    lines += [f"  {name} x{count}" for name, count in sorted(counts.items())]
    for title, tensors in (("Inputs", info.inputs), ("Outputs", info.outputs)):
        lines.append(f"{title}:")
        for t in tensors:
            quant = t.quantization.describe()
            lines.append(f"  {t.name}: {t.describe()}" + (f" ({quant})" if quant else ""))
    lines.append(f"Weights: {info.weight_bytes:,} bytes")
    lines.append(f"Tensor arena (estimate): {info.activation_bytes:,} bytes of activations, planned by lifetime; "
                 "an interpreter adds its own bookkeeping")
    click.echo("\n".join(lines))
