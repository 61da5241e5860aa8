"""PlatformIO's first use: runs that find its core folder new take turns, later runs do not."""

from __future__ import annotations

import multiprocessing
import time


def _enter(cache: str, started, finished, index: int) -> None:
    import os

    os.environ["RUNE_CACHE_DIR"] = cache
    from rune.firmware.platformio import _first_use_alone

    with _first_use_alone():
        started[index] = time.monotonic()
        time.sleep(1.0)
        finished[index] = time.monotonic()


def _two_runs(cache: str) -> tuple[list[float], list[float]]:
    context = multiprocessing.get_context("spawn")
    started, finished = context.Array("d", 2), context.Array("d", 2)
    first = context.Process(target=_enter, args=(cache, started, finished, 0))
    first.start()
    time.sleep(0.5)  # (the first is inside by now: spawning takes about 0.2 s)
    second = context.Process(target=_enter, args=(cache, started, finished, 1))
    second.start()
    first.join(30)
    second.join(30)
    return list(started), list(finished)


def test_the_first_runs_of_platformio_take_turns_and_later_ones_do_not(tmp_path):
    """Two first runs at once made PlatformIO fail with FileExistsError as both created its core."""
    started, finished = _two_runs(str(tmp_path))
    assert started[1] >= finished[0], "the second run waited for the first"
    assert (tmp_path / "platformio" / "core" / ".rune-ready").exists()
    started, finished = _two_runs(str(tmp_path))
    assert started[1] < finished[0], "once the core is set up, runs overlap"
