"""Which of a rune's capabilities a firmware reads from the board's own sensors, and which the
host feeds over the serial link (docs/firmware.md, "Sensors").

A board declares its sensors in its YAML file (the capability kind each serves, its driver).
The choice is data in the generated rune_config.c, and only the drivers it names, with the
files they include, are compiled into the firmware."""

from __future__ import annotations

import re
from pathlib import Path

from rune.boards import Board, Sensor, sensor_drivers_dir
from rune.diagnostics import Diagnostic, RuneError
from rune.runtime.sources import CapabilitySpec

# The SOUND rates each microphone driver records (its C source checks them again on the board).
SOUND_RATES = {"mp45dt02": (7813, 16000)}
HOST_FLAGS = {"SOUND": "--sound FILE.wav", "ACCEL": "--accel FILE.csv", "IMAGE": "--image FILE", "RAW": "--raw FILE"}


def choose_sensors(board: Board, capabilities: list[CapabilitySpec], fed_by_host: set[int],
                   use: bool | None = None) -> dict[int, Sensor]:
    """Capability index -> the sensor that feeds it.

    `use` None (the default): every capability the host does not feed reads the board's sensor
    of its kind, if the board has one with a driver (a capability's `source` argument picks
    among several). False: none; the host feeds everything. True: as None, but it is an error
    for the host to feed one of them too, for a `source` to name a sensor the board does not
    have, or for the board to have none for this rune."""
    if use is False:
        return {}
    chosen: dict[int, Sensor] = {}
    problems = []
    for spec in capabilities:
        if spec.kind == "RAND":
            continue
        number = int(spec.args.get("source") or 0)
        sensor = board.sensor_for(spec.kind, number)
        if sensor is None:
            if use and number and spec.index not in fed_by_host:
                have = sum(1 for s in board.sensors if s.kind == spec.kind and s.driver)
                problems.append(Diagnostic(
                    f"capability '{spec.stage}' asks for {spec.kind} sensor {number} (source: {number}), but the "
                    f"board '{board.id}' has {have or 'no'} {spec.kind} sensor{'' if have == 1 else 's'} with a "
                    f"driver" + (f" (source 0 to {have - 1})" if have > 1 else " (source 0)" if have else ""),
                    hint=f"change its source, or feed it from the host ({_host_flag(spec)})"))
            continue
        if spec.index in fed_by_host:
            if use:
                problems.append(Diagnostic(f"capability '{spec.stage}' is fed from a file, and --sensors gives it to "
                                           f"the {sensor.part}", hint="drop the file or --sensors"))
            continue
        problems += _unsupported(sensor, spec)
        chosen[spec.index] = sensor
    if use and not chosen and not problems:
        kinds = sorted({c.kind for c in capabilities if c.kind != "RAND"})
        problems.append(Diagnostic(f"--sensors: the board '{board.id}' has no sensor driver for this rune's "
                                   f"capabilities ({', '.join(kinds) or 'it has none but RAND'})",
                                   hint="see 'rune boards' for the sensors each board has"))
    if problems:
        raise RuneError(problems)
    return chosen


def _unsupported(sensor: Sensor, spec: CapabilitySpec) -> list[Diagnostic]:
    rates = SOUND_RATES.get(sensor.driver or "")
    hz = int(spec.args.get("hz") or 0)
    if spec.kind == "SOUND" and rates and not rates[0] <= hz <= rates[1]:
        return [Diagnostic(f"capability '{spec.stage}': the board's {sensor.part} records SOUND at {rates[0]} to "
                           f"{rates[1]} Hz, not {hz}",
                           hint=f"feed it from the host ({HOST_FLAGS['SOUND']}, or --no-sensors)")]
    return []


def _host_flag(spec: CapabilitySpec) -> str:
    return HOST_FLAGS.get(spec.kind, f"--capability {spec.stage}:FILE")


def unfed(capabilities: list[CapabilitySpec], sensors: dict[int, Sensor], fed_by_host: set[int]) -> None:
    """Raise if a capability has neither a sensor nor a file: the board would ask the host for
    data it does not have. Checked before anything is built."""
    problems = [Diagnostic(f"capability '{spec.stage}' ({spec.kind}) has no data: no sensor of the board feeds it "
                           f"and no file was given for it", hint=f"give it one: {_host_flag(spec)}")
                for spec in capabilities
                if spec.kind != "RAND" and spec.index not in sensors and spec.index not in fed_by_host]
    if problems:
        raise RuneError(problems)


def describe(board: Board, capabilities: list[CapabilitySpec], sensors: dict[int, Sensor],
             fed_by_host: set[int]) -> list[str]:
    """One line for each capability of a board with sensors: where its data comes from."""
    if not board.sensors:
        return []
    lines = []
    for spec in capabilities:
        if spec.kind == "RAND":
            continue
        sensor = sensors.get(spec.index)
        where = (f"the board's {sensor.part} (driver {sensor.driver})" if sensor
                 else "the host, over the serial link" if spec.index in fed_by_host
                 else f"the host, over the serial link, once a file is given ({_host_flag(spec)})")
        lines.append(f"capability '{spec.stage}' ({spec.kind}): from {where}")
    return lines


def driver_sources(drivers: set[str]) -> list[Path]:
    """The files the drivers need: sensors/<driver>.c, and the headers it includes from
    sensors/ with their .c files, transitively."""
    folder = sensor_drivers_dir()
    needed: set[Path] = set()
    pending = [folder / f"{name}.c" for name in drivers]
    while pending:
        path = pending.pop()
        if path in needed or not path.is_file():
            continue
        needed.add(path)
        for name in re.findall(r'^#include "([^"/]+)"', path.read_text(), re.M):
            if (folder / name).is_file():
                pending += [folder / name, (folder / name).with_suffix(".c")]
    return sorted(needed)
