"""Serialised plans cached by model and planner, so that a warm `rune build` neither plans again nor
loads the planner (and numpy) at all. A plan is a pure function of the model's bytes and the
planner's code: the key hashes both. Refusals are not cached; they are quick to repeat."""

from __future__ import annotations

import hashlib
import os
import tempfile
from functools import cache
from pathlib import Path

from rune.paths import cache_dir

_PLANNER_PACKAGES = ("engine", "tflite")  # the planner, and the reader it parses models with


def plan_bytes(model: bytes) -> bytes:
    """The model's serialised plan; raises what rune.engine.planner.plan_model raises."""
    path = cache_dir() / "engine" / "plans" / f"{_planner_digest()}-{hashlib.sha256(model).hexdigest()[:32]}.plan"
    if path.exists():
        return path.read_bytes()
    from rune.engine.planner import plan_model

    plan = plan_model(model).to_bytes()
    path.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(dir=path.parent, suffix=".tmp")
    with os.fdopen(fd, "wb") as f:
        f.write(plan)
    os.replace(tmp, path)
    return plan


@cache
def _planner_digest() -> str:
    digest = hashlib.sha256()
    package = Path(__file__).resolve().parents[1]
    for name in _PLANNER_PACKAGES:
        for source in sorted((package / name).rglob("*.py")):
            digest.update(source.relative_to(package).as_posix().encode() + b"\0" + source.read_bytes())
    return digest.hexdigest()[:16]
