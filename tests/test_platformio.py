"""PlatformIO's first use: runs that find its core folder new take turns, later runs do not."""

from __future__ import annotations

import multiprocessing

WAIT = 5.0  # seconds a run inside waits to see the other one inside too


def _enter(cache: str, inside, other, overlapped, index: int) -> None:
    import os

    os.environ["RUNE_CACHE_DIR"] = cache
    from rune.firmware.platformio import _first_use_alone

    with _first_use_alone():
        inside.set()
        overlapped[index] = other.wait(WAIT)


def _two_runs(cache: str) -> list[bool]:
    """Whether each of two runs started together saw the other inside at the same time."""
    context = multiprocessing.get_context("spawn")
    events = [context.Event(), context.Event()]
    overlapped = context.Array("b", 2)
    runs = [context.Process(target=_enter, args=(cache, events[i], events[1 - i], overlapped, i)) for i in (0, 1)]
    for run in runs:
        run.start()
    for run in runs:
        run.join(60)
    return list(overlapped)


def test_the_first_runs_of_platformio_take_turns_and_later_ones_do_not(tmp_path):
    """Two first runs at once made PlatformIO fail with FileExistsError as both created its core."""
    assert not all(_two_runs(str(tmp_path))), "the first inside never saw the other there"
    assert (tmp_path / "platformio" / "core" / ".rune-ready").exists()
    assert all(_two_runs(str(tmp_path))), "once the core is set up, runs overlap"
