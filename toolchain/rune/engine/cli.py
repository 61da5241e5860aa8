"""`rune model-check`."""

from __future__ import annotations

import json
import sys
from pathlib import Path

import click


@click.command("model-check")
@click.argument("model", type=click.Path(exists=True, dir_okay=False, path_type=Path))
@click.option("--board", help="Also say whether the model fits this board (an id or a family: rune boards).")
@click.option("--inputs", type=click.IntRange(min=0), default=100, show_default=True,
              help="Random inputs to compare Rune's engine with TensorFlow Lite Micro on (0: no comparison).")
@click.option("--on-device", is_flag=True,
              help="Also run the model on the board (--board; QEMU for an emulated one) and compare its outputs "
                   "with TensorFlow Lite Micro's on the desktop.")
@click.option("--port", help="The serial port of a real board, for --on-device.")
@click.option("--json", "as_json", is_flag=True, help="Print one JSON object.")
def model_check_command(model, board, inputs, on_device, port, as_json):
    """Check that a TensorFlow Lite model can run on a device with Rune's engine: which operators it
    uses and whether the engine supports each, the RAM (arena) and flash (model, plan and engine code,
    Cortex-M4) it needs, and whether the engine's outputs are identical to TensorFlow Lite Micro's
    on random inputs (floats in [-4, 4], integers over their whole range).

    With --on-device the model also runs alone on the board (a firmware is built and flashed;
    emulated boards run in QEMU), on the same random inputs as on the desktop, and the board's
    outputs are compared with TFLM's; the instructions per inference are reported.

    The exit status is 0 if the model runs on the engine, fits the board (with --board) and gives
    the same outputs as TFLM (on the board too, with --on-device); 1 if not; 2 if the model is
    malformed or the options are wrong.
    """
    from rune.diagnostics import RuneError
    from rune.engine.check import check_model_file
    from rune.files import read_file
    from rune.tflite.model import ModelError

    from rune.diagnostics import Diagnostic

    target = None
    if board:
        from rune.boards import find_board

        target = find_board(board)
    if on_device and target is None:
        raise RuneError(Diagnostic("--on-device needs a board", hint="add --board stm32f4 (an emulated STM32F4)"))
    try:
        model_bytes = read_file(model)
    except OSError as e:
        raise RuneError(f"cannot read {model}: {e.strerror}") from None
    try:
        found = check_model_file(model_bytes, inputs, model.name)
    except ModelError as e:
        raise RuneError(f"{model}: {e}") from None
    fits = found.fits(target) if target else None
    conformance = found.conformance
    device = None
    if on_device and found.supported and fits["both"] is not False:
        from rune import console
        from rune.engine.on_device import run_on_board

        device = run_on_board(model_bytes, target, max(inputs, 1), port=port, log=console.info)
    if as_json:
        click.echo(json.dumps({
            "file": str(model), "bytes": found.model_bytes,
            "operators": [vars(o) for o in found.operators],
            "supported": found.supported, "problem": found.problem,
            "arena_bytes": found.arena_bytes, "ram_bytes": found.ram_bytes, "plan_bytes": found.plan_bytes,
            "engine_code_bytes": found.engine_code_bytes, "flash_bytes": found.flash_bytes,
            "board": None if target is None else {"id": target.id, "flash_bytes": target.flash.bytes,
                                                  "ram_bytes": target.ram.bytes, "fits_flash": fits["flash"],
                                                  "fits_ram": fits["ram"], "fits": fits["both"]},
            "inferences": conformance.inferences if conformance else 0,
            "identical_fraction": conformance.identical_fraction if conformance else None,
            "max_abs_diff": conformance.max_abs_diff if conformance else None,
            "conformance_problem": found.conformance_problem,
            "device": None if device is None else {
                "board": device.board, "inferences": device.inferences,
                "identical_fraction": device.identical / device.inferences, "instructions": device.instructions,
                "flash_bytes": device.flash_bytes, "engine_code_bytes": device.engine_code_bytes},
        }, indent=2))
    else:
        click.echo("\n".join(_report(model, found, target, fits) + _device_report(device)))
    passed = (found.supported and (fits is None or fits["both"] is not False)
              and (conformance is None or conformance.identical == conformance.inferences)
              and (device is None or device.identical == device.inferences)
              and (not on_device or device is not None))
    if not passed:
        sys.exit(1)


def _report(path: Path, found, board, fits) -> list[str]:
    count = sum(o.count for o in found.operators)
    verdict = "Rune's engine runs it" if found.supported else f"Rune's engine cannot run it: {found.problem}"
    lines = [f"{path.name}: {found.model_bytes:,} bytes, {count} operators; {verdict}", "Operators:"]
    for o in found.operators:
        lines.append(f"  {o.name} x{o.count}: " + ("supported" if o.supported else f"not supported ({o.reason})"))
    if found.supported:
        lines.append(f"RAM:   {found.ram_bytes:,} bytes (arena {found.arena_bytes:,}, engine state "
                     f"{found.ram_bytes - found.arena_bytes})")
        code = (f"engine code {found.engine_code_bytes:,} on a Cortex-M4" if found.engine_code_bytes is not None
                else "engine code unknown: arm-none-eabi-gcc is not installed")
        total = f"{found.flash_bytes:,} bytes" if found.flash_bytes is not None else "unknown"
        lines.append(f"flash: {total} (model {found.model_bytes:,}, plan {found.plan_bytes:,}, {code})")
    if board is not None:
        def verdict_of(ok):
            return "unknown" if ok is None else ("fits" if ok else "does NOT fit")
        lines.append(f"{board.id} ({board.flash.bytes:,} bytes of flash, {board.ram.bytes:,} of RAM): flash "
                     f"{verdict_of(fits['flash'])}, RAM {verdict_of(fits['ram'])} (the rest of the firmware "
                     "needs room too)")
    conformance = found.conformance
    if conformance is not None:
        lines.append(f"Against TensorFlow Lite Micro: {conformance.identical} of {conformance.inferences} random "
                     f"inputs give identical outputs ({100 * conformance.identical_fraction:.1f}%), largest "
                     f"difference {conformance.max_abs_diff:g}")
    elif found.conformance_problem and found.supported:
        lines.append(f"No comparison with TensorFlow Lite Micro: {found.conformance_problem}")
    return lines


def _device_report(device) -> list[str]:
    if device is None:
        return []
    lines = [f"On {device.board}: {device.identical} of {device.inferences} random inputs give outputs identical to "
             f"TensorFlow Lite Micro's on the desktop; {device.instructions:,} instructions per inference; "
             f"firmware {device.flash_bytes:,} bytes of flash (engine {device.engine_code_bytes:,})"]
    if device.first_difference:
        lines.append("First difference:\n" + device.first_difference)
    return lines
