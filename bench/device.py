"""Device figures: each example on the emulated STM32F4 (QEMU netduinoplus2, -icount shift=0),
once per engine that runs the rune's module:

    native  the rune's own C compiled directly for the board, no sandbox: the reference
    aot     the rune's wasm translated to C ahead of time (wasm2c), every access checked
    wasm3   the rune's wasm interpreted by wasm3

For each: flash (total, and the runtime that runs the module, the model engine, the .rune), RAM
(static data, and the peak heap and stack the firmware measured), and instructions per
inference split into the processing blocks (with the glue), the model and the capability and
output I/O; then the desktop's time per inference (wasmtime) for comparison.

    .venv/bin/python bench/device.py [--examples sine micro_speech] [--inferences 3]

QEMU counts instructions, not Cortex-M cycles: one instruction is one virtual nanosecond, so
instructions = SysTick ticks * 1e9 / cpu_hz. Figures are from the last (warm) inference.
Nothing is asserted; the goals (issue: aot blocks <= 1.5x native, micro_speech blocks <= 20%
of an inference, aot firmware smaller than wasm3's) are printed beside the figures.
"""

from __future__ import annotations

import argparse
import statistics
import tempfile
import time
from dataclasses import dataclass
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
EXAMPLES = ROOT / "examples"
SHARED = ROOT.parent / "shared" / "data"
ENGINES = ("native", "aot", "wasm3")
MODULE_RUNTIME = {"native": "rune C (native)", "aot": "rune module (aot)", "wasm3": "wasm3"}


def example_sources(example: str) -> dict:
    from rune.runtime import ImageSource, RandomSource, SoundSource

    streamed = EXAMPLES / "micro_speech_streaming" / "samples" / "silence_yes_silence_no.wav"
    return {"sine": {0: RandomSource(11)},
            "micro_speech": {0: SoundSource(SHARED / "audio" / "yes_1000ms.wav")},
            "micro_speech_streaming": {0: SoundSource(streamed, stride_ms=20)},
            "person_detection": {0: ImageSource(SHARED / "images" / "person.png")}}[example]


@dataclass
class DeviceRun:
    engine: str
    flash: dict
    ram: dict
    event: dict  # the last inference event

    def instructions(self, field: str) -> int:
        return round(self.event[field] * 1e9 / self.event["cpu_hz"])

    @property
    def model(self) -> int:
        return self.instructions("model_cycles")

    @property
    def io(self) -> int:
        return self.instructions("capability_cycles") + self.instructions("output_cycles")

    @property
    def blocks(self) -> int:
        """Everything but the model and the I/O: the processing blocks and the glue between stages."""
        return self.instructions("cycles") - self.model - self.io

    @property
    def compute(self) -> int:
        return self.blocks + self.model

    @property
    def ram_total(self) -> int:
        return sum(self.ram.values()) + self.event["heap_bytes"] + self.event["stack_bytes"]


def run_on_device(rune, board, engine: str, native, sources: dict, inferences: int) -> DeviceRun:
    from rune.firmware.device import build_firmware, running_on
    from rune.firmware.sizes import component_sizes

    project, _ = build_firmware(rune, board, engine=engine, native=native, random_seed=getattr(sources.get(0), "seed", 0))
    flash, ram = component_sizes(project.map_file)
    done, event = 0, None
    with running_on(project, sources, timeout=300) as session:
        for item in session.events():
            line = item.line
            if line.kind == "error":
                raise SystemExit(f"{rune.name} on {engine}: {line.text}")
            if line.kind == "event" and line.data.get("event") == "inference":
                done, event = done + 1, line.data
                if done == inferences:
                    break
    return DeviceRun(engine, dict(flash), dict(ram), event)


def desktop_seconds(rune_path: Path, sources: dict, runs: int) -> float:
    from rune.runtime import Runtime

    with Runtime.load(rune_path, engine="wasmtime") as runtime:
        for index, source in sources.items():
            runtime.set_source(index, source)
        for _ in range(3):
            runtime.run()
        samples = []
        for _ in range(runs):
            started = time.perf_counter()
            runtime.run()
            samples.append(time.perf_counter() - started)
    return statistics.median(samples)


def kib(n: int) -> str:
    return f"{n / 1024:,.1f}K"


def report(example: str, runs: dict[str, DeviceRun], desktop: float, code_bytes: int, memory_bytes: int) -> None:
    print(f"\n{example}")
    print(f"  {'engine':<8}{'flash':>9}{'module rt':>10}{'engine':>9}{'.rune':>9}{'RAM':>9}{'static':>9}"
          f"{'heap':>8}{'stack':>8}{'instr/inf':>13}{'blocks':>12}{'model':>12}{'I/O':>11}{'blocks %':>9}")
    for engine, r in runs.items():
        print(f"  {engine:<8}{kib(sum(r.flash.values())):>9}{kib(r.flash.get(MODULE_RUNTIME[engine], 0)):>10}"
              f"{kib(r.flash.get('model engine', 0)):>9}{kib(r.flash.get('.rune', 0)):>9}{kib(r.ram_total):>9}"
              f"{kib(sum(r.ram.values())):>9}{kib(r.event['heap_bytes']):>8}{kib(r.event['stack_bytes']):>8}"
              f"{r.compute:>13,}{r.blocks:>12,}{r.model:>12,}{r.io:>11,}{100 * r.blocks / r.compute:>8.1f}%")
    native, aot, wasm3 = runs["native"], runs["aot"], runs["wasm3"]
    print(f"  blocks vs native: aot {aot.blocks / native.blocks:.2f}x (goal <= 1.5x), "
          f"wasm3 {wasm3.blocks / native.blocks:.1f}x; share of the inference inside wasm3: "
          f"{100 * wasm3.blocks / wasm3.compute:.1f}%")
    print(f"  flash aot / wasm3: {sum(aot.flash.values()) / sum(wasm3.flash.values()):.2f} (goal < 1); "
          f"aot blocks share {100 * aot.blocks / aot.compute:.1f}% of an inference"
          + (" (goal <= 20%)" if example.startswith("micro_speech") else ""))
    print(f"  desktop (wasmtime): {desktop * 1e3:.3f} ms per inference; .rune code {code_bytes:,} bytes, "
          f"rune memory {memory_bytes:,} bytes")


def main() -> None:
    from rune.boards import find_board
    from rune.compiler.build import build
    from rune.container.rune_file import RuneFile
    from rune.firmware.project import NativeSources

    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--examples", nargs="+",
                        default=["sine", "micro_speech", "micro_speech_streaming", "person_detection"])
    parser.add_argument("--board", default="netduinoplus2")
    parser.add_argument("--inferences", type=int, default=3)
    parser.add_argument("--desktop-runs", type=int, default=50)
    options = parser.parse_args()
    board = find_board(options.board)
    print(f"{board.id}: instructions per inference (QEMU -icount), bytes in K = 1024; "
          f"flash columns: total, what runs the module, the model engine, the .rune")
    with tempfile.TemporaryDirectory() as scratch:
        for example in options.examples:
            built = build(EXAMPLES / example, Path(scratch) / f"{example}.rune", target="device")
            native = NativeSources(built.generated.render(),
                                   list(dict.fromkeys(d for b in built.generated.blocks for d in b.source_dirs)))
            rune = RuneFile.load(built.path)
            runs = {engine: run_on_device(rune, board, engine, native, example_sources(example), options.inferences)
                    for engine in ENGINES}
            desktop = desktop_seconds(built.path, example_sources(example), options.desktop_runs)
            report(example, runs, desktop, built.code_bytes, built.manifest["memory"]["used_bytes"])


if __name__ == "__main__":
    main()
