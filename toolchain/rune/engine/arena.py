"""Offline arena planning: place buffers with known lifetimes at fixed offsets.

Greedy first-fit like TFLM's GreedyMemoryPlanner, with two improvements:
  * several placement orders (heuristic and seeded-random) are tried, with and
    without reserving room for in-place outputs, and the smallest arena wins;
  * an operator's output may partially overlap one of its inputs when the kernel's
    read/write order makes that safe ("in-place slack", computed per operator).
"""

from __future__ import annotations

import random
from dataclasses import dataclass, field

ALIGN = 4
RANDOM_ORDERS = 24   # extra shuffled placement orders tried (deterministic seed)


def align_up(n, a=ALIGN):
    return (n + a - 1) // a * a


def align_down(n, a=ALIGN):
    return n // a * a


@dataclass
class Buf:
    size: int
    first: int            # first time step the buffer must hold valid data
    last: int             # last time step it is needed (inclusive)
    # other buffer id -> slack: this buffer (an op output) may start at most `slack`
    # bytes after that buffer (its input) even though their lifetimes meet.
    below: dict[int, int] = field(default_factory=dict)
    # other buffer id -> slack: the other buffer (an op output) may start at most
    # `slack` bytes after this one (this is its input).
    above: dict[int, int] = field(default_factory=dict)


def _lifetimes_meet(a: Buf, b: Buf):
    return a.first <= b.last and b.first <= a.last


def _allowed(bufs, i, off, j, placed_off):
    """May buffer i at `off` coexist with placed buffer j at `placed_off`?"""
    a, b = bufs[i], bufs[j]
    if off + a.size <= placed_off or placed_off + b.size <= off:
        return True
    if j in a.below:          # i is the output, j its input
        return off <= placed_off + a.below[j]
    if j in a.above:          # i is the input, j the output
        return placed_off <= off + a.above[j]
    return False


def _place(bufs: list[Buf], order, reserve):
    """First-fit in `order`. With `reserve`, an op input whose output must sit below
    it (negative slack) keeps that much room free underneath for the output."""
    offsets = [None] * len(bufs)
    placed = []
    for i in order:
        b = bufs[i]
        if b.size == 0:
            offsets[i] = 0
            continue
        live = [j for j in placed if _lifetimes_meet(b, bufs[j])]
        floor = 0
        if reserve:
            floor = max([align_up(-s) for j, s in b.above.items() if offsets[j] is None and s < 0] + [0])
        cands = {floor}
        for j in live:
            cands.add(offsets[j] + bufs[j].size)
            if j in b.below:
                cands.add(align_down(offsets[j] + b.below[j]))
            if j in b.above:
                cands.add(align_up(offsets[j] - b.above[j]))
        for off in sorted(c for c in cands if c >= floor):
            if all(_allowed(bufs, i, off, j, offsets[j]) for j in live):
                offsets[i] = off
                break
        placed.append(i)
    total = max((offsets[i] + bufs[i].size for i in range(len(bufs))), default=0)
    return offsets, align_up(total)


def plan_arena(bufs: list[Buf]):
    """Returns (offsets, arena_bytes). Sizes must already be multiples of ALIGN."""
    n = len(bufs)
    orders = [
        sorted(range(n), key=lambda i: (-bufs[i].size, bufs[i].first)),
        sorted(range(n), key=lambda i: (bufs[i].first, -bufs[i].size)),
        sorted(range(n), key=lambda i: (-(bufs[i].last - bufs[i].first), -bufs[i].size)),
        sorted(range(n), key=lambda i: (-bufs[i].size * (bufs[i].last - bufs[i].first + 1), i)),
    ]
    rng = random.Random(0)
    for _ in range(RANDOM_ORDERS):
        order = list(range(n))
        rng.shuffle(order)
        orders.append(order)
    best = None
    for order in orders:
        for reserve in (False, True):
            offsets, total = _place(bufs, order, reserve)
            if best is None or total < best[1]:
                best = (offsets, total)
    return best
