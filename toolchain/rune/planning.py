"""Offline memory planning: place buffers with known lifetimes in one arena, reusing space.

Greedy by size, first fit (the approach of TFLM's GreedyMemoryPlanner): buffers whose lifetimes
overlap never share bytes; the others may.
"""

from __future__ import annotations

from dataclasses import dataclass


@dataclass
class Allocation:
    key: object
    size: int
    first: int  # first step at which the buffer is live
    last: int  # last step at which it is live (inclusive)
    offset: int = -1


def align(value: int, alignment: int) -> int:
    return (value + alignment - 1) // alignment * alignment


def plan_arena(allocations: list[Allocation], alignment: int = 16) -> int:
    """Set each allocation's offset; returns the arena size in bytes."""
    placed: list[Allocation] = []
    for a in sorted(allocations, key=lambda a: (-a.size, a.first)):
        conflicts = sorted((p for p in placed if p.first <= a.last and a.first <= p.last), key=lambda p: p.offset)
        offset = 0
        for p in conflicts:
            if offset + a.size <= p.offset:
                break
            offset = max(offset, align(p.offset + p.size, alignment))
        a.offset = offset
        placed.append(a)
    return align(max((a.offset + a.size for a in allocations), default=0), alignment)
