"""The engine's AddressSanitizer + UBSan build on real models, damaged models and damaged plans.

Run by test_engine_malformed.py in a process started with rune.engine.native.sanitizer_env()
(libasan must be loaded before the library, so never inside the pytest worker). Any memory error
or undefined behaviour aborts this process with the sanitizer's report; exit status 0 means none.

    python tests/engine_sanitized.py [--full]
"""

from __future__ import annotations

import sys
from pathlib import Path

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parent))

from engine_damage import (HOSTILE_VALUES, damaged_models, hostile_operator_plans,  # noqa: E402
                           plan_if_possible_and_run, resealed_damaged_plans, run_once)
from engine_helpers import load_model, random_inputs  # noqa: E402
from rune.engine.native import NativeEngine  # noqa: E402
from rune.engine.planner import plan_model  # noqa: E402

MODELS = ["hello_world_int8", "hello_world_float", "micro_speech_quantized", "keyword_scrambled",
          "trained_lstm_int8", "person_detect"]


def main(full: bool) -> int:
    scale = 10 if full else 1
    rng = np.random.default_rng(0)
    counts = dict.fromkeys(["inferences", "damaged models", "damaged plans"], 0)
    for name in MODELS:
        model = load_model(name)
        plan = plan_model(model)
        engine = NativeEngine(plan.to_bytes(), model, sanitize=True)
        for inputs in random_inputs(model, rng, 3 * scale):
            engine.invoke([np.ascontiguousarray(a).tobytes() for a in inputs])
            counts["inferences"] += 1
        for data in damaged_models(model, rng, 12 * scale):
            plan_if_possible_and_run(data, sanitize=True)
            counts["damaged models"] += 1
        plans = [*resealed_damaged_plans(plan.to_bytes(), rng, 25 * scale),
                 *hostile_operator_plans(plan.to_bytes(), 24 if full else 4, HOSTILE_VALUES if full else [-1, 1 << 20])]
        if name == "person_detect" and not full:
            plans = plans[::8]
        for bad in plans:
            run_once(bad, model, sanitize=True)
            counts["damaged plans"] += 1
    print(", ".join(f"{n:,} {what}" for what, n in counts.items()), "under AddressSanitizer and UBSan")
    return 0


if __name__ == "__main__":
    sys.exit(main("--full" in sys.argv[1:]))
