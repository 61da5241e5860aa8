"""Serialised plans cached by model and planner, so that a warm `rune build` neither plans again nor
loads the planner (and numpy) at all. A plan is a pure function of the model's bytes and the
planner's code: the key hashes both. Refusals are not cached; they are quick to repeat."""

from __future__ import annotations

import hashlib
from functools import cache
from pathlib import Path

from rune import cache as cache_entries
from rune.paths import cache_dir

_PLANNER_PACKAGES = ("engine", "tflite")  # the planner, and the reader it parses models with


def plan_bytes(model: bytes) -> bytes:
    """The model's serialised plan; raises what rune.engine.planner.plan_model raises."""
    path = cache_dir() / "engine" / "plans" / f"{_planner_digest()}-{hashlib.sha256(model).hexdigest()[:32]}.plan"
    plan = cache_entries.load(path)
    if plan is None:
        from rune.engine.planner import plan_model

        plan = plan_model(model).to_bytes()
        cache_entries.store(path, plan)
    return plan


@cache
def _planner_digest() -> str:
    digest = hashlib.sha256()
    package = Path(__file__).resolve().parents[1]
    for name in _PLANNER_PACKAGES:
        for source in sorted((package / name).rglob("*.py")):
            digest.update(source.relative_to(package).as_posix().encode() + b"\0" + source.read_bytes())
    return digest.hexdigest()[:16]
