"""Rune's own engine (docs/engine.md), natively through ctypes: the same C runtime and the same plan
(from the .rune) a device uses, so the desktop shows what the device will compute."""

from __future__ import annotations

from rune.engine.native import EngineError, NativeEngine
from rune.runtime.errors import ModelFailure
from rune.runtime.models.base import ModelBackend, ModelSession
from rune.tensors import TensorType


class EngineSession(ModelSession):
    def __init__(self, engine: NativeEngine, stage: str):
        self.engine = engine
        self.stage = stage

    def invoke(self, inputs: list[bytes]) -> list[bytes]:
        try:
            return self.engine.invoke(inputs)
        except EngineError as e:
            raise ModelFailure(f"Rune's engine failed: {e}", stage=self.stage) from None

    def reset(self) -> None:
        self.engine.reset()


class EngineBackend(ModelBackend):
    name = "rune"

    def load(self, model: bytes, entry: dict, plan: bytes | None) -> ModelSession:
        stage = entry["stage"]
        if plan is None:
            raise ModelFailure("the rune has no plan for Rune's engine: the engine cannot run this model", stage=stage,
                               hint="'rune build' said why; run it with '--model-engine tflm' instead")
        try:
            engine = NativeEngine(plan, model)
        except EngineError as e:
            raise ModelFailure(f"Rune's engine refuses the model's plan: {e}", stage=stage) from None
        declared = [TensorType.from_json(t).bytes for t in entry["inputs"] + entry["outputs"]]
        if engine.input_sizes + engine.output_sizes != declared:
            raise ModelFailure("the plan's tensors differ from the rune's manifest (the .rune was altered)",
                               stage=stage)
        return EngineSession(engine, stage)
