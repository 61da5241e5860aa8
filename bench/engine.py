"""Rune's model engine on the emulated Cortex-M4, beside TensorFlow Lite Micro's own figures.

For each model: a rune that feeds random inputs straight into the model and prints its outputs
(rune.engine.on_device), built for the device and run on QEMU netduinoplus2 (-icount shift=0)
with the aot engine; the device's outputs are compared with the desktop's (TFLM) byte for byte.

    .venv/bin/python bench/engine.py [--models hello_world_int8 ...] [--inferences 5]

Columns, in the issue's form: flash total (the whole firmware: device runtime, engine, .rune
with model and plan, C library), the engine's code (runtime and the kernels this model uses,
from the linker map), the arena, RAM (arena + the engine's 16-byte state), and instructions per
inference (SysTick ticks * 1e9 / cpu_hz; one instruction is one virtual ns), warm. TFLM's rows
are the figures quoted in the issue, measured on the same emulated board and compiler flags
(they cannot be rebuilt here: TFLM's C++ sources are not available offline).
"""

from __future__ import annotations

import argparse
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
MODELS = ROOT.parent / "shared" / "data" / "models"

# model: (kernels, flash total, TFLM code, arena used, instructions / inference)
TFLM = {
    "hello_world_int8": [("reference", 44_004, 26_285, 672, 8_005), ("CMSIS-NN", 51_544, 33_830, 760, 4_042)],
    "micro_speech_quantized": [("reference", 74_384, 38_264, 6_788, 31_583_515),
                               ("CMSIS-NN", 95_704, 59_588, 6_824, 2_394_590)],
    "person_detect": [("reference", 358_852, 40_933, 82_284, 698_861_361),
                      ("CMSIS-NN", 392_684, 74_740, 82_304, 27_108_129)],
}


def kernel_names() -> dict[int, str]:
    from rune.engine import kernels

    return {value: name for name, value in vars(kernels).items() if name.isupper() and isinstance(value, int)}


def print_profile(model: str, ops: list[tuple[int, int]]) -> None:
    """Instructions per operator, and per kernel in total."""
    names = kernel_names()
    totals: dict[str, int] = {}
    print(f"\n{model}: instructions per operator")
    for index, (kernel, instructions) in enumerate(ops):
        name = names.get(kernel, str(kernel))
        totals[name] = totals.get(name, 0) + instructions
        print(f"  {index:>3} {name:<16}{instructions:>14,}")
    for name, total in sorted(totals.items(), key=lambda item: -item[1]):
        print(f"  all {name:<16}{total:>14,}")


def main() -> None:
    from rune.boards import find_board
    from rune.engine.on_device import run_on_board
    from rune.engine.planner import plan_model

    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--models", nargs="+", default=list(TFLM))
    parser.add_argument("--inferences", type=int, default=5)
    parser.add_argument("--profile", action="store_true",
                        help="Also print instructions per operator (the firmware's profile, which costs a little).")
    options = parser.parse_args()
    print("| model | engine | flash total | engine code | arena used | RAM | instructions / inference | "
          "identical to TFLM |")
    print("|---|---|---|---|---|---|---|---|")
    board = find_board("netduinoplus2")
    for model in options.models:
        data = (MODELS / f"{model}.tflite").read_bytes()
        run = run_on_board(data, board, options.inferences, seed=1)
        if options.profile:  # a run of its own: profiling costs instructions
            print_profile(model, run_on_board(data, board, 1, profile=True, seed=1).profile)
        plan = plan_model(data)
        for kernels, flash, code, arena, instructions in TFLM.get(model, []):
            print(f"| {model} | TFLM, {kernels} | {flash:,} | {code:,} | {arena:,} | {arena:,} | {instructions:,} | |")
        print(f"| {model} | **Rune** | {run.flash_bytes:,} | {run.engine_code_bytes:,} | {plan.arena_bytes:,} | "
              f"{plan.ram_bytes:,} | {run.instructions:,} | {run.identical}/{run.inferences} |")
        for kernels, flash, code, arena, instructions in TFLM.get(model, []):
            print(f"|  | vs TFLM {kernels} | {run.flash_bytes / flash:.2f}x | {run.engine_code_bytes / code:.2f}x | "
                  f"{plan.arena_bytes / arena:.2f}x | {plan.ram_bytes / arena:.2f}x | "
                  f"{run.instructions / instructions:.2f}x | |")

if __name__ == "__main__":
    main()
