"""`rune flash`."""

from __future__ import annotations

from pathlib import Path

import click

from rune.runtime.cli import capability_source_options


def _rune_for(path: Path, log):
    """A .rune, built first (for a device) if the path is a Runefile or its folder."""
    from rune.container.cli import load_rune

    if path.suffix == ".rune":
        return load_rune(path)
    from rune.compiler.build import build

    log(f"building {path} for a device")
    return load_rune(build(path, target="device", log=log).path)


@click.command("flash")
@click.argument("path", type=click.Path(exists=True, path_type=Path), default=".", required=False)
@click.option("--board", default="stm32f4", show_default=True,
              help="A board id or a family (rune boards); a family means its default board, emulated if none is attached.")
@click.option("--port", help="The board's serial port (real boards).")
@click.option("--project-dir", type=click.Path(file_okay=False, path_type=Path),
              help="Where to write the PlatformIO project (default: in the Rune cache).")
@click.option("--dry-run", is_flag=True, help="Only write the PlatformIO project (to open in an IDE).")
@click.option("--engine", type=click.Choice(["aot", "wasm3"]),
              help="What runs the rune's module: aot (translated to C ahead of time: fast and small) or wasm3 "
                   "(the interpreter). Default: the board's default_engine (boards/<id>.yaml; docs/firmware.md "
                   "explains the choice).")
@capability_source_options
@click.option("--sensors/--no-sensors", "use_sensors", default=None,
              help="Whether capabilities read the board's own sensors (rune boards). Default: every capability "
                   "no file is given for reads the board's sensor of its kind, if it has one. --sensors: the same, "
                   "but it is an error to give a file for a capability a sensor would feed, or for the board to have "
                   "no sensor for any of the rune's capabilities. --no-sensors: the host feeds everything.")
@click.option("--count", type=click.IntRange(min=1), help="Stop after this many inferences (default: until Ctrl-C).")
@click.option("--json", "as_json", is_flag=True, help="Print outputs as SERIAL JSON lines (as rune run --json).")
@click.option("--timeout", type=click.FloatRange(min=1), default=120, show_default=True,
              help="Give up after this many seconds without a line from the board.")
@click.option("--watchdog-ms", type=click.IntRange(min=0), default=60_000, show_default=True,
              help="Reset the board when one inference takes longer than this (0: no watchdog).")
def flash_command(path, board, port, project_dir, dry_run, engine, sound, image, accel, raw, seed, named, use_sensors,
                  count, as_json, timeout, watchdog_ms):
    """Build a firmware that runs a rune, flash it, and show what the board says.

    PATH is a .rune, or a Runefile (or its folder), which is built first. The firmware is a
    PlatformIO project: the rune's module translated to C ahead of time (or wasm3), Rune's
    engine for its models, and each output comes back over the serial port as a SERIAL JSON
    line. Emulated boards (the default for stm32f4) run in
    QEMU; real boards are flashed with their upload protocol. Capability data comes from the
    same flags as `rune run` (--sound yes.wav ...), sent to the board over the serial link, or,
    for a capability given no file, from the board's own sensor of its kind if it has one (the
    STM32F4-Discovery's microphone and accelerometer).

    \b
    rune flash examples/micro_speech --board stm32f4 --sound examples/micro_speech/samples/yes_1000ms.wav
    rune flash examples/sine --dry-run --project-dir sine-firmware
    """
    from rune import console
    from rune.boards import find_board
    from rune.diagnostics import RuneError, display_path
    from rune.firmware.device import build_firmware, running_on
    from rune.firmware.project import generate_project
    from rune.firmware.sensors import choose_sensors, describe, unfed
    from rune.monitor.cli import follow
    from rune.paths import cache_dir
    from rune.runtime.outputs import score_labels
    from rune.runtime.source_flags import sources_from_flags
    from rune.runtime.sources import CapabilitySpec

    target_board = find_board(board)
    rune = _rune_for(path, console.info)
    capabilities = [CapabilitySpec.from_manifest(c) for c in rune.manifest["capabilities"]]
    files = {"sound": sound, "image": image, "accel": accel, "raw": raw}
    sources, notes = sources_from_flags(capabilities, files, list(named), seed)
    random_seed = next((s.seed for i, s in sources.items() if capabilities[i].kind == "RAND"), 0)
    for note in notes:
        console.info(note)
    sensors = choose_sensors(target_board, capabilities, set(sources), use_sensors)
    for line in describe(target_board, capabilities, sensors, set(sources)):
        console.info(line)
    if not dry_run:  # a project alone needs no data: it is fed when it runs
        unfed(capabilities, sensors, set(sources))

    if dry_run:
        folder = project_dir or Path(f"{rune.name}-{target_board.id}")
        project = generate_project(rune, target_board, folder, engine=engine, random_seed=random_seed,
                                   watchdog_ms=watchdog_ms, sensors=sensors, log=console.info)
        console.info(f"wrote the PlatformIO project to {display_path(project.folder)} (build it with 'pio run')")
        click.echo(str(project.folder))
        return
    console.info(f"[1/4] generating the firmware project for {target_board.id}")
    project, _ = build_firmware(rune, target_board, project_dir, engine=engine, random_seed=random_seed,
                                watchdog_ms=watchdog_ms, sensors=sensors,
                                log=lambda message: console.info(f"[2/4] {message}" if message.startswith("building")
                                                                 else f"      {message}"))
    names = {o["channel"]: o["source"]["stage"] for o in rune.manifest["outputs"]}
    with running_on(project, sources, port=port, timeout=timeout,
                    log=lambda message: console.info(f"[3/4] {message}")) as session:
        console.info("[4/4] monitoring (Ctrl-C stops)" if not count else f"[4/4] monitoring {count} inference(s)")
        try:
            follow(session, count, as_json, names, score_labels(rune.manifest))
        except TimeoutError as e:
            raise RuneError(str(e)) from None
