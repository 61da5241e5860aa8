"""How much flash and RAM a firmware needs, against what its board has: checked after the
build, before anything is flashed."""

from __future__ import annotations

import re
import subprocess
from collections import Counter
from dataclasses import dataclass
from pathlib import Path

from rune.boards import Board
from rune.diagnostics import Diagnostic, RuneError

FLASH_SECTIONS = (".text", ".ARM.exidx", ".rune", ".data")
RAM_SECTIONS = (".data", ".bss", ".noinit")
WASM3_HEAP_BYTES = 24 * 1024  # wasm3's runtime and compiled code, measured on the examples
LIBC_HEAP_BYTES = 2 * 1024  # the C library's number formatting


@dataclass
class FirmwareSize:
    flash: int
    static_ram: int  # .data + .bss: tensors arena, buffers
    stack: int
    heap: int  # estimated: the rune's memory and wasm3's own
    sections: dict[str, int]

    @property
    def ram(self) -> int:
        return self.static_ram + self.stack + self.heap


def section_sizes(elf: Path) -> dict[str, int]:
    result = subprocess.run(["arm-none-eabi-size", "-A", "-d", str(elf)], capture_output=True, text=True)
    if result.returncode != 0:
        raise RuneError(f"cannot read the sizes of {elf}: {result.stderr.strip()}")
    sizes = {}
    for line in result.stdout.splitlines():
        parts = line.split()
        if len(parts) >= 2 and parts[0].startswith(".") and parts[1].isdigit():
            sizes[parts[0]] = int(parts[1])
    return sizes


def measure(elf: Path, stack_bytes: int, rune_memory_bytes: int, engine: str) -> FirmwareSize:
    """wasm3 keeps the rune's memory on the heap; the aot engine has it in static RAM."""
    sizes = section_sizes(elf)
    heap = LIBC_HEAP_BYTES + (rune_memory_bytes + WASM3_HEAP_BYTES if engine == "wasm3" else 0)
    return FirmwareSize(flash=sum(sizes.get(s, 0) for s in FLASH_SECTIONS),
                        static_ram=sum(sizes.get(s, 0) for s in RAM_SECTIONS), stack=stack_bytes,
                        heap=heap, sections=sizes)


def check_fits(size: FirmwareSize, board: Board) -> list[str]:
    """Lines for the build log; raises RuneError if the firmware does not fit the board."""
    def line(what: str, used: int, available: int) -> str:
        spare = available - used
        verdict = f"{spare:,} bytes to spare" if spare >= 0 else f"{-spare:,} bytes too many"
        return f"{what}: {used:,} of {available:,} bytes ({100 * used / available:.0f}%), {verdict}"

    lines = [line("flash", size.flash, board.flash.bytes),
             line("RAM", size.ram, board.ram.bytes) + f" (static {size.static_ram:,}, stack {size.stack:,}, "
                                                     f"heap ~{size.heap:,})"]
    problems = [text for text, used, available in ((lines[0], size.flash, board.flash.bytes),
                                                   (lines[1], size.ram, board.ram.bytes)) if used > available]
    if problems:
        raise RuneError([Diagnostic(f"the firmware does not fit the board '{board.id}': {p}",
                                    hint="choose a board with more memory (rune boards), e.g. mps2-an386, or make "
                                         "the rune smaller") for p in problems])
    return lines


# Where each input file of the link belongs, by the first pattern its path matches.
_COMPONENTS = [
    (re.compile(r"libwasm3\.a"), "wasm3"),
    (re.compile(r"librune_aot\.a"), "rune module (aot)"),
    (re.compile(r"librune_native\.a"), "rune C (native)"),
    (re.compile(r"librune_engine\.a"), "model engine"),
    (re.compile(r"rune_blob\.o"), ".rune"),
    (re.compile(r"/src/[^/]+\.o$"), "device runtime"),
    (re.compile(r"lib(c_nano|m|gcc|nosys|c)\.a"), "C library"),
]
_INPUT_SECTION = re.compile(r"^ (\.\S+|COMMON)(?:\s+(0x[0-9a-f]+)\s+(0x[0-9a-f]+)\s+(\S.*))?$")
_PLACEMENT = re.compile(r"^\s+(0x[0-9a-f]+)\s+(0x[0-9a-f]+)\s+(\S.*)$")
# Static buffers that are components of their own, whichever file defines them.
BUFFERS = {".bss.rune_model_arena": "model arena", ".bss.rune_aot_memory": "rune memory (aot)"}
MAP_START = "Linker script and memory map"


def component_sizes(map_file: Path) -> tuple[Counter, Counter]:
    """Flash and static RAM bytes per component (wasm3, model engine, device runtime, .rune, ...),
    from the linker's map of a firmware (what --gc-sections kept). The model arena and the aot
    module's linear memory are RAM components of their own (BUFFERS)."""
    lines = Path(map_file).read_text(errors="replace").splitlines()
    if MAP_START not in lines:
        raise RuneError(f"{map_file} is not a linker map")
    placed: list[tuple[str, int, int, str, str]] = []  # output section, address, size, input section, file
    output = pending = None  # pending: an input section whose placement is on the next line
    for line in lines[lines.index(MAP_START):]:
        if line.startswith("."):
            output, pending = line.split()[0], None
            continue
        if pending is not None:
            found = _PLACEMENT.match(line)
            if found:
                placed.append((output, int(found.group(1), 16), int(found.group(2), 16), pending, found.group(3)))
            pending = None
            continue
        found = _INPUT_SECTION.match(line)
        if found and output is not None:
            if found.group(2) is None:
                pending = found.group(1)
            else:
                placed.append((output, int(found.group(2), 16), int(found.group(3), 16), found.group(1),
                               found.group(4)))
    flash, ram = Counter(), Counter()
    placed.sort(key=lambda p: (p[0], p[1]))
    for here, after in zip(placed, placed[1:] + [None]):
        output, address, size, section, path = here
        if after is not None and after[0] == output:  # merged strings are listed before merging
            size = min(size, max(0, after[1] - address))
        if not size:
            continue
        component = next((name for pattern, name in _COMPONENTS if pattern.search(path)), "other")
        component = BUFFERS.get(section, component)
        if output in FLASH_SECTIONS:
            flash[component] += size
        if output in RAM_SECTIONS:
            ram[component] += size
    return flash, ram
