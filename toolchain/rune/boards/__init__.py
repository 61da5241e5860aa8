"""Boards as data (boards/<id>.yaml): what a firmware is built for and how it is flashed."""

from __future__ import annotations

import json
import shutil
from dataclasses import dataclass, field
from pathlib import Path

from rune.diagnostics import Diagnostic, Location, RuneError, closest, display_path
from rune.paths import boards_dir, firmware_templates_dir

SCHEMA = Path(__file__).with_name("board.schema.json")


@dataclass(frozen=True)
class Region:
    origin: int
    bytes: int


@dataclass(frozen=True)
class Sensor:
    """A sensor on a board: the capability kind it serves, and the driver that reads it
    (firmware_templates/runtime/sensors/<driver>.c), if there is one yet."""

    kind: str
    part: str
    what: str
    driver: str | None = None


def sensor_drivers_dir() -> Path:
    return firmware_templates_dir() / "runtime" / "sensors"


@dataclass(frozen=True)
class Board:
    id: str
    name: str
    family: str
    emulated: bool
    mcu: str
    core: str
    cpu_flags: tuple[str, ...]
    cpu_hz: int
    flash: Region
    ram: Region
    console: dict
    platformio: dict
    sensors: tuple[Sensor, ...] = ()
    qemu_machine: str | None = None
    default_for_family: bool = False
    default_engine: str = "aot"
    source: Path = field(default=Path(), compare=False)

    @property
    def offline_platform(self) -> bool:
        """Whether Rune's own PlatformIO platform builds it (offline, with Debian's arm-none-eabi-gcc)."""
        return self.platformio["platform"] == "local"

    def buildable_here(self) -> tuple[bool, str]:
        """(can a firmware be built on this machine, why not)."""
        if not self.offline_platform:
            return False, (f"needs PlatformIO's {self.platformio['platform']} platform"
                           + (f" and the {self.platformio['framework']} framework" if "framework" in self.platformio
                              else "") + ", downloaded from the PlatformIO registry")
        if not shutil.which("arm-none-eabi-gcc"):
            return False, "needs arm-none-eabi-gcc (apt install gcc-arm-none-eabi libnewlib-arm-none-eabi)"
        if self.emulated and not shutil.which("qemu-system-arm"):
            return False, "needs QEMU (apt install qemu-system-arm)"
        return True, ""

    def sensor_for(self, kind: str, number: int = 0) -> Sensor | None:
        """The `number`th sensor with a driver for capabilities of `kind` (a capability's
        `source` argument picks among several), or None."""
        driven = [s for s in self.sensors if s.kind == kind and s.driver]
        return driven[number] if 0 <= number < len(driven) else None


def load_board(path: Path) -> Board:
    from rune.schemas import schema_errors
    from rune.yaml_nodes import YamlSyntaxError, load

    display = display_path(path)
    text = path.read_text()
    try:
        data = load(text)
    except YamlSyntaxError as e:
        raise RuneError(Diagnostic(f"invalid YAML: {e}", Location(display, (e.line or 0) + 1))) from None
    plain = json.loads(json.dumps(data))
    errors = schema_errors(SCHEMA, plain, text.encode("utf-8"))
    if errors:
        raise RuneError([Diagnostic(f"{'.'.join(map(str, e.absolute_path)) or 'board'}: {e.message}",
                                    Location(display)) for e in errors])
    if plain["id"] != path.stem:
        raise RuneError(Diagnostic(f"the board's id '{plain['id']}' differs from its file name", Location(display)))
    sensors = tuple(Sensor(**entry) for entry in plain.get("sensors", []))
    missing = [s.driver for s in sensors if s.driver and not (sensor_drivers_dir() / f"{s.driver}.c").is_file()]
    if missing:
        raise RuneError([Diagnostic(f"sensors: no driver '{name}' (firmware_templates/runtime/sensors/{name}.c)",
                                    Location(display)) for name in missing])
    return Board(
        id=plain["id"], name=plain["name"], family=plain["family"], emulated=plain["emulated"], mcu=plain["mcu"],
        core=plain["core"], cpu_flags=tuple(plain["cpu_flags"]), cpu_hz=plain["cpu_hz"],
        flash=Region(**plain["flash"]), ram=Region(**plain["ram"]), console=plain["console"],
        platformio=plain["platformio"], sensors=sensors,
        qemu_machine=plain.get("qemu", {}).get("machine"), default_for_family=plain.get("default_for_family", False),
        default_engine=plain.get("default_engine", "aot"),
        source=path)


def all_boards() -> list[Board]:
    return [load_board(p) for p in sorted(boards_dir().glob("*.yaml"))]


def find_board(name: str) -> Board:
    """A board by id, or a family's default board (`stm32f4` -> the emulated netduinoplus2)."""
    boards = all_boards()
    for board in boards:
        if board.id == name:
            return board
    family = [b for b in boards if b.family == name]
    if family:
        return next((b for b in family if b.default_for_family), family[0])
    ids = [b.id for b in boards]
    suggestion = closest(name, ids + sorted({b.family for b in boards}))
    raise RuneError(Diagnostic(f"unknown board '{name}'",
                               hint=(f"did you mean '{suggestion}'? " if suggestion else "") +
                               f"boards: {', '.join(ids)} (see 'rune boards')"))
