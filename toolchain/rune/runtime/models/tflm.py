"""TensorFlow Lite Micro through its Python interpreter (the pinned tflite-micro wheel)."""

from __future__ import annotations

import hashlib
import subprocess
import sys
import tempfile
from pathlib import Path

import numpy as np

from rune.paths import cache_dir
from rune.runtime.errors import ModelFailure
from rune.runtime.models.base import ModelBackend, ModelSession
from rune.runtime.sources import NUMPY_TYPES
from rune.tflite.model import ModelError, read_model


class TflmSession(ModelSession):
    def __init__(self, model: bytes, entry: dict):
        from tflite_micro import runtime

        self.entry = entry
        self.model = model  # the interpreter reads from this buffer
        try:
            self.interpreter = runtime.Interpreter.from_bytes(model)
        except (RuntimeError, ValueError) as e:
            raise ModelFailure(f"TensorFlow Lite Micro cannot load the model: {e}", stage=entry["stage"]) from None
        self.inputs = [(index, np.dtype(NUMPY_TYPES[t["type"]]).newbyteorder("<"), tuple(t["dimensions"]))
                       for index, t in enumerate(entry["inputs"])]
        self.outputs = [(index, np.dtype(NUMPY_TYPES[t["type"]]).newbyteorder("<"))
                        for index, t in enumerate(entry["outputs"])]
        # The interpreter's C++ side: tflite_micro's Python methods only check their index, and
        # their calls cost as much as a small model's inference.
        self.native = self.interpreter._interpreter

    def invoke(self, inputs: list[bytes]) -> list[bytes]:
        native = self.native
        try:
            for (index, dtype, shape), raw in zip(self.inputs, inputs):
                native.SetInputTensor(np.frombuffer(raw, dtype=dtype).reshape(shape), index)
            native.Invoke()
            results = []
            for index, dtype in self.outputs:
                tensor = native.GetOutputTensor(index)
                results.append(tensor.tobytes() if tensor.dtype == dtype else tensor.astype(dtype).tobytes())
            return results
        except (RuntimeError, ValueError) as e:
            raise ModelFailure(f"TensorFlow Lite Micro failed: {e}", stage=self.entry["stage"]) from None

    def reset(self) -> None:
        self.interpreter.reset()


class TflmBackend(ModelBackend):
    name = "tflm"

    def load(self, model: bytes, entry: dict, plan: bytes | None) -> ModelSession:
        stage = entry["stage"]
        try:
            info = read_model(model)
        except ModelError as e:
            raise ModelFailure(f"the model is invalid: {e}", stage=stage) from None
        declared = [(t["type"], list(t["dimensions"])) for t in entry["inputs"] + entry["outputs"]]
        actual = [(t.element_type.type_name if t.element_type else t.type_name, list(t.shape))
                  for t in info.inputs + info.outputs]
        if declared != actual:
            raise ModelFailure("the model's tensors differ from the rune's manifest (the .rune was altered)",
                               stage=stage)
        probe(model, stage)
        return TflmSession(model, entry)


def probe(model: bytes, stage: str) -> None:
    """Run the model once in a child process before this process touches it (once per model)."""
    digest = hashlib.sha256(model).hexdigest()
    marker = cache_dir() / "verified-models" / digest
    if marker.exists():
        return
    with tempfile.TemporaryDirectory() as folder:
        path = Path(folder) / "model.tflite"
        path.write_bytes(model)
        try:
            result = subprocess.run([sys.executable, "-m", "rune.runtime.models.tflm_probe", str(path)],
                                    capture_output=True, text=True, timeout=120)
        except subprocess.TimeoutExpired:
            raise ModelFailure("TensorFlow Lite Micro did not finish a test inference within 2 minutes",
                               stage=stage) from None
    if result.returncode != 0:
        detail = result.stderr.strip().splitlines()[-1] if result.stderr.strip() else ""
        how = f"crashed (signal {-result.returncode})" if result.returncode < 0 else "rejected it"
        raise ModelFailure(f"TensorFlow Lite Micro {how} on a test inference" + (f": {detail}" if detail else ""),
                           stage=stage, hint="check the model with 'rune model-info'; it may be corrupted or use "
                                             "operators TensorFlow Lite Micro does not support")
    marker.parent.mkdir(parents=True, exist_ok=True)
    marker.write_text("ok\n")
