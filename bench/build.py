"""Build figures for each example: cold and warm build time, and the .rune's size without its
models, their plans and resources (the "code overhead").

    .venv/bin/python bench/build.py

Cold: an empty Rune cache (zig's own build of the C library for wasm, done once per machine,
is kept and timed separately). Warm: `rune build` again with the cache filled, as a user runs
it (the whole command, Python start-up included, with Python's bytecode cache on as it is by
default; some environments turn it off with PYTHONDONTWRITEBYTECODE). Targets: warm <= 0.3 s,
overhead <= 12 KB.

A model's plan for Rune's engine (the `rune.plan.*` section, docs/engine.md) is data derived
from the model, not code, so it counts with the model as payload, as in `rune build`'s log.
"""

from __future__ import annotations

import os
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
EXAMPLES = ["sine", "micro_speech", "micro_speech_streaming", "person_detection"]
WARM_RUNS = 7


def rune_build(example: str, output: Path, cache: Path) -> float:
    env = dict(os.environ, RUNE_CACHE_DIR=str(cache))
    env.pop("PYTHONDONTWRITEBYTECODE", None)
    started = time.perf_counter()
    subprocess.run([sys.executable, "-m", "rune", "build", str(ROOT / "examples" / example), "-o", str(output)],
                   check=True, capture_output=True, env=env)
    return time.perf_counter() - started


def main() -> None:
    from rune.container.rune_file import RuneFile

    with tempfile.TemporaryDirectory() as scratch:
        scratch = Path(scratch)
        libc = scratch / "libc-cache"
        libc_seconds = rune_build("sine", scratch / "first.rune", libc)
        print(f"zig's one-time build of the C library for wasm32 (first build on a machine): {libc_seconds:.1f} s\n")
        print(f"{'example':<24}{'cold':>9}{'warm (median of %d)' % WARM_RUNS:>22}{'.rune':>10}{'payload':>13}"
              f"{'overhead':>10}")
        for example in EXAMPLES:
            cold_cache = scratch / f"cold-{example}"
            cold_cache.mkdir()
            (cold_cache / "zig").symlink_to(libc / "zig")
            output = scratch / f"{example}.rune"
            cold = rune_build(example, output, cold_cache)
            warm = statistics.median(rune_build(example, output, cold_cache) for _ in range(WARM_RUNS))
            rune = RuneFile.load(output)
            payload = sum(m["bytes"] + m.get("plan", {}).get("bytes", 0) for m in rune.manifest["models"]) + sum(
                r["bytes"] for r in rune.manifest["resources"])
            overhead = len(rune.data) - payload
            print(f"{example:<24}{cold:>8.2f}s{warm:>21.3f}s{len(rune.data):>10,}{payload:>13,}{overhead:>10,}")
    print("\ntargets: warm build <= 0.3 s; overhead <= 12 KB (the original Rune: 90-180 KB)")


if __name__ == "__main__":
    main()
