"""Model backends: what runs a rune's models for the host. A backend loads a model's bytes into
a session; a session turns input tensors (bytes) into output tensors (bytes)."""

from __future__ import annotations

from rune.runtime.models.base import ModelBackend, ModelSession

BACKENDS = ("tflm", "rune")  # TensorFlow Lite Micro; Rune's own engine, as on a device


def create_backend(name: str) -> ModelBackend:
    if name == "tflm":
        from rune.runtime.models.tflm import TflmBackend

        return TflmBackend()
    if name == "rune":
        from rune.runtime.models.engine import EngineBackend

        return EngineBackend()
    raise ValueError(f"unknown model engine '{name}' (model engines: {', '.join(BACKENDS)})")


__all__ = ["BACKENDS", "ModelBackend", "ModelSession", "create_backend"]
