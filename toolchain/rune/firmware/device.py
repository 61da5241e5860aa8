"""Run a .rune on a board: generate, build, check the size, flash, and open a session, in one
place for `rune flash` and the hardware-in-the-loop tests."""

from __future__ import annotations

import contextlib
from pathlib import Path

from rune.boards import Board, Sensor
from rune.container.rune_file import RuneFile
from rune.diagnostics import Diagnostic, RuneError
from rune.firmware.platformio import run_pio
from rune.firmware.project import STACK_BYTES, FirmwareProject, NativeSources, generate_project
from rune.firmware.sizes import FirmwareSize, check_fits, measure
from rune.firmware.targets import target_for
from rune.monitor.session import DeviceSession
from rune.paths import cache_dir
from rune.runtime.sources import CapabilitySpec, Source


def build_firmware(rune: RuneFile, board: Board, folder: Path | None = None, *, engine: str | None = None,
                   random_seed: int = 0, watchdog_ms: int = 60_000, native: NativeSources | None = None,
                   profile: bool = False, sensors: dict[int, Sensor] | None = None,
                   log=lambda message: None) -> tuple[FirmwareProject, FirmwareSize]:
    """`sensors`: the capabilities the board's own sensors feed (rune.firmware.sensors); by
    default the host feeds every capability."""
    buildable, why = board.buildable_here()
    if not buildable:
        raise RuneError(Diagnostic(f"a firmware for {board.id} cannot be built here: {why}"))
    engine = engine or board.default_engine
    folder = folder or cache_dir() / "firmware" / f"{rune.name}-{board.id}-{engine}"
    project = generate_project(rune, board, folder, engine=engine, random_seed=random_seed, watchdog_ms=watchdog_ms,
                               native=native, profile=profile, sensors=sensors, log=log)
    log(f"building for {board.id} with PlatformIO")
    result = run_pio(project.folder, [])
    if result.returncode != 0:
        lines = (result.stdout + result.stderr).splitlines()
        tail = "\n".join(line for line in lines if "error" in line.lower() or "undefined" in line.lower())[-3000:]
        raise RuneError(Diagnostic(f"the firmware did not build:\n{tail}",
                                   hint=f"the project is in {project.folder}; run 'pio run' there for the details"))
    size = measure(project.elf, STACK_BYTES, rune.manifest["memory"]["used_bytes"], engine)
    for line in check_fits(size, board):
        log(f"  {line}")
    return project, size


@contextlib.contextmanager
def running_on(project: FirmwareProject, sources: dict[int, Source], *, port: str | None = None,
               timeout: float = 120, log=lambda message: None):
    """Flash the firmware and yield a DeviceSession answering the board from `sources`."""
    board = project.board
    capabilities = [CapabilitySpec.from_manifest(c) for c in project.rune.manifest["capabilities"]]
    with target_for(board, port) as target:
        log(f"uploading to {board.id}" + (" (starting QEMU)" if board.emulated else ""))
        target.flash(project)
        yield DeviceSession(target.open(), capabilities, sources, timeout=timeout)
