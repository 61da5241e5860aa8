"""Desktop runtime figures: per example and engine, the time to load the .rune and the median
time of one inference over many runs, beside the same pipeline written by hand in Python
(bench/handwritten.py), measured in the same run. Goal: wasmtime no slower than by hand.

    .venv/bin/python bench/host.py [--runs 200]
"""

from __future__ import annotations

import argparse
import statistics
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).parent))

import handwritten  # noqa: E402
from handwritten import EXAMPLES, SHARED  # noqa: E402


def timed(functions: list, runs: int) -> list[float]:
    """Median seconds per call of each function, calls interleaved so that all see the same
    machine (other processes, CPU frequency)."""
    for function in functions:
        for _ in range(5):  # warm up
            function()
    samples = [[] for _ in functions]
    for _ in range(runs):
        for function, collected in zip(functions, samples):
            started = time.perf_counter()
            function()
            collected.append(time.perf_counter() - started)
    return [statistics.median(s) for s in samples]


def main() -> None:
    from rune.compiler.build import build
    from rune.runtime import ImageSource, RandomSource, Runtime, SoundSource

    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--runs", type=int, default=200)
    runs = parser.parse_args().runs

    wav = SHARED / "audio" / "yes_1000ms.wav"
    image = SHARED / "images" / "person.png"
    cases = {
        "sine": ({"rand": lambda: RandomSource(1)}, [("numpy + tflite-micro", handwritten.Sine)]),
        "micro_speech": ({"audio": lambda: SoundSource(wav)},
                         [("TFLM preprocessor + model", lambda: handwritten.MicroSpeechWithTflmFeatures(wav)),
                          ("numpy features + model", lambda: handwritten.MicroSpeechWithNumpyFeatures(wav))]),
        "person_detection": ({"image": lambda: ImageSource(image)},
                             [("Pillow + tflite-micro", lambda: handwritten.PersonDetection(image))]),
    }
    print(f"median of {runs} inferences each; ratio = Rune / fastest hand-written pipeline\n")
    print(f"{'example':<18}{'engine':<10}{'load':>10}{'inference':>12}{'by hand':>12}{'ratio':>8}")
    with tempfile.TemporaryDirectory() as scratch:
        for example, (sources, references) in cases.items():
            rune_path = build(EXAMPLES / example, Path(scratch) / f"{example}.rune").path
            pipelines = [make() for _, make in references]
            runtimes, loads = [], []
            for engine in ("wasmtime", "wasm3"):
                started = time.perf_counter()
                runtime = Runtime.load(rune_path, engine=engine)
                loads.append(time.perf_counter() - started)
                for name, make in sources.items():
                    runtime.set_source(name, make())
                runtimes.append(runtime)
            medians = timed([*pipelines, *(r.run for r in runtimes)], runs)
            by_hand, ours = medians[:len(pipelines)], medians[len(pipelines):]
            best = min(by_hand)
            for engine, load, inference in zip(("wasmtime", "wasm3"), loads, ours):
                print(f"{example:<18}{engine:<10}{load * 1e3:>8.1f}ms{inference * 1e3:>10.3f}ms"
                      f"{best * 1e3:>10.3f}ms{inference / best:>8.2f}")
            for (label, _), seconds in zip(references, by_hand):
                print(f"{'':<18}{'':<10}{'':>10}{'':>12}{seconds * 1e3:>10.3f}ms  by hand: {label}")
            for runtime in runtimes:
                runtime.close()


if __name__ == "__main__":
    main()
