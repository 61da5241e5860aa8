"""How much flash and RAM a firmware needs, against what its board has: checked after the
build, before anything is flashed."""

from __future__ import annotations

import subprocess
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
