"""A model alone on a board: a rune that feeds random inputs straight into the model and prints its
outputs, built for the device, flashed (QEMU for emulated boards), and compared line by line with
the same rune on the desktop, where TensorFlow Lite Micro runs the model. `rune model-check
--on-device`, bench/engine.py and the hardware-in-the-loop tests use it."""

from __future__ import annotations

import json
import tempfile
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np

from rune.boards import Board
from rune.engine.check import FLOAT_RANGE
from rune.runtime.sources import CapabilitySpec, Source

RUNEFILE = """version: 1
pipeline:
  input:
    capability: RAW
    outputs: [{{type: {type}, dimensions: {dimensions}}}]
    args: {{length: {length}}}
  model:
    model: ./model.tflite
    inputs: [input]
  serial:
    out: SERIAL
    inputs: [{outputs}]
"""


class RandomTensors(Source):
    """Random tensors of the capability's type: floats in FLOAT_RANGE, integers over their whole
    range; the same sequence for the same seed."""

    description = "random tensors"

    def __init__(self, seed: int):
        self.rng = np.random.default_rng(seed)

    def read(self, spec: CapabilitySpec) -> np.ndarray:
        dtype = np.dtype(spec.dtype)
        if dtype.kind == "f":
            return self.rng.uniform(*FLOAT_RANGE, size=spec.dimensions).astype(dtype)
        info = np.iinfo(dtype)
        return self.rng.integers(info.min, info.max, size=spec.dimensions, endpoint=True, dtype=dtype)


@dataclass
class BoardRun:
    board: str
    inferences: int
    identical: int  # inferences whose every output line equals the desktop's
    instructions: int  # the model's, per inference (the last, warm)
    flash_bytes: int  # the whole firmware
    engine_code_bytes: int  # the model engine in it (runtime and this model's kernels)
    profile: list[tuple[int, int]] = field(default_factory=list)  # (kernel id, instructions) per operator
    first_difference: str | None = None
    max_ulp: int = 0  # the largest difference of a float32 output element, in units in the last place


def model_rune(model: bytes, folder: Path) -> Path:
    """Write and build the rune that runs `model` alone (one input)."""
    from rune.compiler.build import build
    from rune.diagnostics import RuneError
    from rune.tflite.model import read_model

    info = read_model(model)
    if len(info.inputs) != 1:
        raise RuneError(f"the model has {len(info.inputs)} inputs; a check on a board takes models with one")
    tensor = info.inputs[0].tensor_type
    folder.mkdir(parents=True, exist_ok=True)
    (folder / "model.tflite").write_bytes(model)
    outputs = ", ".join("model" if k == 0 else f"model.{k}" for k in range(len(info.outputs)))
    (folder / "Runefile.yml").write_text(RUNEFILE.format(type=tensor.dtype.name.lower(), length=tensor.count,
                                                         dimensions=list(tensor.shape), outputs=outputs))
    return build(folder, folder / "model.rune", name="model_check", target="device").path


def run_on_board(model: bytes, board: Board, inferences: int, *, port: str | None = None, engine: str = "aot",
                 profile: bool = False, seed: int = 0, log=lambda message: None) -> BoardRun:
    """`inferences` random inputs through the model on `board` and on the desktop (TFLM)."""
    from rune.container.rune_file import RuneFile
    from rune.diagnostics import RuneError
    from rune.firmware.device import build_firmware, running_on
    from rune.firmware.sizes import component_sizes
    from rune.runtime import Runtime

    with tempfile.TemporaryDirectory(prefix="rune-model-check-") as scratch:
        rune_path = model_rune(model, Path(scratch) / "rune")
        rune = RuneFile.load(rune_path)
        log(f"building a firmware for {board.id} that runs the model alone")
        project, size = build_firmware(rune, board, Path(scratch) / "firmware", engine=engine, profile=profile,
                                       log=log)
        flash, _ = component_sizes(project.map_file)
        lines, events, profiles = [], [], []
        log(f"running {inferences} inference(s) on {board.id}")
        with running_on(project, {0: RandomTensors(seed)}, port=port, timeout=600) as session:
            for item in session.events():
                line = item.line
                if line.kind == "error":
                    raise RuneError(f"the model failed on {board.id}: {line.data.get('message', line.text)}")
                if line.kind == "output":
                    lines.append(line.text)
                elif line.kind == "event" and line.data.get("event") == "profile":
                    profiles.append(line.data)
                elif line.kind == "event" and line.data.get("event") == "inference":
                    events.append(line.data)
                    if len(events) == inferences:
                        break
        with Runtime.load(rune_path) as runtime:
            runtime.set_source(0, RandomTensors(seed))
            desktop = [[o.json_line() for o in runtime.run()] for _ in range(inferences)]
    per_inference = len(desktop[0])
    on_board = [lines[k * per_inference:(k + 1) * per_inference] for k in range(inferences)]
    same = [a == b for a, b in zip(on_board, desktop)]
    first = next((f"board {a}\ndesktop {b}" for a, b in zip(on_board, desktop) if a != b), None)
    max_ulp = max((_ulp_distance(a, b) for board_lines, desktop_lines in zip(on_board, desktop)
                   for a, b in zip(board_lines, desktop_lines)), default=0)
    scale = 1e9 / events[-1]["cpu_hz"]
    ops = [(k, round(c * scale)) for k, c in zip(profiles[-1]["kernels"], profiles[-1]["cycles"])] if profiles else []
    return BoardRun(board.id, inferences, sum(same), round(events[-1]["model_cycles"] * scale), size.flash,
                    flash.get("model engine", 0), ops, first, max_ulp)


def _ulp_distance(line_a: str, line_b: str) -> int:
    """How far apart two float32 output lines are, in representable values (0 for others)."""
    a, b = json.loads(line_a), json.loads(line_b)
    if a["type_name"] != "f32" or b["type_name"] != "f32" or len(a["elements"]) != len(b["elements"]):
        return 0
    bits = [np.array([float(v) for v in t["elements"]], dtype=np.float32).view(np.int32).astype(np.int64)
            for t in (a, b)]
    ordered = [np.where(x < 0, -(x & 0x7FFFFFFF), x) for x in bits]  # monotonic in the float's value
    return int(np.abs(ordered[0] - ordered[1]).max(initial=0))
