"""Desktop runtime figures: per example and engine, the time to load the .rune and the median
time of one inference over many runs, beside the same pipeline written by hand in Python
(bench/handwritten.py), measured in the same run. Goal: wasmtime no slower than by hand. For
wasmtime it also prints how much of an inference is the model itself (the same TFLM calls the
hand-written pipelines make) and how much is everything else.

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


def timed(functions: list, runs: int, burst: int = 10) -> list[float]:
    """Median seconds per call of each function over `runs` calls. The functions take turns, `burst`
    calls at a time, so that all see the same machine (other processes, CPU frequency) while each
    runs as an application's loop runs it, with its code and data in the caches."""
    for function in functions:
        for _ in range(5):  # warm up
            function()
    samples = [[] for _ in functions]
    for _ in range(-(-runs // burst)):
        for function, collected in zip(functions, samples):
            for _ in range(burst):
                started = time.perf_counter()
                function()
                collected.append(time.perf_counter() - started)
    return [statistics.median(s) for s in samples]


def duration(seconds: float) -> str:
    return f"{seconds * 1e6:.1f} us" if abs(seconds) < 1e-3 else f"{seconds * 1e3:.3f} ms"


def models_of(runtime):
    """A function running the rune's models alone, as its host does, on zero inputs."""
    from rune.tensors import TensorType

    calls = [(session, [bytes(TensorType.from_json(t).bytes) for t in entry["inputs"]])
             for session, entry in zip(runtime.models, runtime.manifest["models"])]
    return lambda: [session.invoke(inputs) for session, inputs in calls]


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
            models_alone = models_of(runtimes[0])
            medians = timed([*pipelines, *(r.run for r in runtimes), models_alone], runs)
            by_hand, ours, model = medians[:len(pipelines)], medians[len(pipelines):-1], medians[-1]
            best = min(by_hand)
            for engine, load, inference in zip(("wasmtime", "wasm3"), loads, ours):
                print(f"{example:<18}{engine:<10}{load * 1e3:>8.1f}ms{duration(inference):>12}"
                      f"{duration(best):>12}{inference / best:>8.2f}")
            for (label, _), seconds in zip(references, by_hand):
                print(f"{'':<18}{'':<10}{'':>10}{'':>12}{duration(seconds):>12}  by hand: {label}")
            print(f"{'':<18}wasmtime: the model alone {duration(model)}, the rest of an inference "
                  f"{duration(ours[0] - model)} (capabilities, blocks, outputs, crossing the sandbox)")
            for runtime in runtimes:
                runtime.close()


if __name__ == "__main__":
    main()
