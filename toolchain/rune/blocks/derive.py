"""Build-time constants of a block (its manifest's `derive:`), computed by the block's own script
and cached by the script's contents and the arguments, so warm builds need not run it."""

from __future__ import annotations

import hashlib
import json
import math

from rune import cache
from rune.blocks.manifest import BlockManifest, BlockTypeError
from rune.blocks.python_modules import library_dirs, load_module
from rune.paths import cache_dir

SCALARS = {"i32": int, "u32": int, "f32": float, "f64": float, "bool": bool}


def derive_values(block: BlockManifest, args: dict) -> dict:
    """The derived values for these arguments, checked against the manifest's declared types."""
    if not block.derive_script:
        return {}
    script = block.folder / block.derive_script
    digest = hashlib.sha256()
    for path in [script, *sorted(p for d in library_dirs(block.libraries) for p in d.glob("*.py"))]:
        digest.update(path.read_bytes())
    digest.update(json.dumps(args, sort_keys=True, default=repr).encode())
    cached = cache_dir() / "derived" / f"{block.name}-{digest.hexdigest()[:32]}.json"
    stored = cache.load(cached)
    if stored is not None:
        return json.loads(stored)
    try:
        raw = load_module(script, block.libraries).derive(dict(args))
    except (ValueError, ArithmeticError) as e:
        raise BlockTypeError(f"these arguments do not work: {e}") from None
    values = {name: _normalise(name, kind, raw.get(name), block.name) for name, kind in block.derive_values.items()}
    cache.store(cached, json.dumps(values).encode())
    return values


def _normalise(name: str, kind: str, value, block: str):
    """Plain JSON values of the declared type (numpy arrays become lists)."""
    if value is None:
        raise BlockTypeError(f"internal error: the derive script of '{block}' did not produce '{name}'")
    if kind.endswith("[]"):
        items = value.reshape(-1).tolist() if hasattr(value, "reshape") else list(value)
        convert = float if kind.startswith("f") else int
        result = [convert(v) for v in items]
        if convert is float and not all(math.isfinite(v) for v in result):
            raise BlockTypeError(f"the derived table '{name}' contains non-finite values")
        return result
    return SCALARS[kind](value.item() if hasattr(value, "item") else value)
