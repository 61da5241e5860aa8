"""The lines a Rune firmware writes (docs/firmware.md, "Serial protocol").

Every line is a JSON object ending in `"seq":N,"crc":"xxxxxxxx"}`; the CRC-32 covers everything
before `,"crc"`. Output lines are, without those two fields, exactly the lines `rune run --json`
prints. A reader detects a corrupted line (its CRC), lost lines (a gap in seq) and a board reset
(a boot event, seq back to 0).
"""

from __future__ import annotations

import json
import re
import zlib
from dataclasses import dataclass

TAIL = re.compile(rb',"seq":(\d+),"crc":"([0-9a-f]{8})"\}\s*$')


@dataclass
class DeviceLine:
    kind: str  # "output", "event", "error", "request", "corrupted", "text"
    text: str  # the line as `rune run --json` would print it (no seq and crc)
    data: dict | None
    seq: int | None


def parse_line(raw: bytes) -> DeviceLine:
    match = TAIL.search(raw)
    if not match:
        text = raw.decode("utf-8", errors="replace").strip()
        return DeviceLine("corrupted" if text.startswith("{") else "text", text, None, None)
    covered = raw[:match.start()] + b',"seq":' + match.group(1)
    if zlib.crc32(covered) != int(match.group(2), 16):
        return DeviceLine("corrupted", raw.decode("utf-8", errors="replace").strip(), None, int(match.group(1)))
    text = (raw[:match.start()] + b"}").decode("utf-8")
    try:
        data = json.loads(text)
    except json.JSONDecodeError:
        return DeviceLine("corrupted", text, None, int(match.group(1)))
    kind = ("output" if "type_name" in data else "event" if "event" in data else "error" if "error" in data
            else "request" if "request" in data else "text")
    return DeviceLine(kind, text, data, int(match.group(1)))


class LineTracker:
    """Counts what went wrong on the link: corrupted and lost lines, and resets."""

    def __init__(self):
        self.expected_seq: int | None = None
        self.corrupted = 0
        self.lost = 0
        self.resets = 0

    def observe(self, line: DeviceLine) -> list[str]:
        """Warnings about this line (empty if all is well)."""
        warnings = []
        if line.kind == "corrupted":
            self.corrupted += 1
            warnings.append(f"a corrupted line was dropped: {line.text[:80]}")
            if self.expected_seq is not None:
                self.expected_seq += 1  # it was a line, only damaged: not a lost one
            return warnings
        if line.seq is None:
            return warnings
        if line.kind == "event" and line.data.get("event") == "boot":
            if self.expected_seq is not None:
                self.resets += 1
                warnings.append(f"the board restarted (reason: {line.data.get('reset', 'unknown')})")
        elif self.expected_seq is not None and line.seq != self.expected_seq:
            missing = line.seq - self.expected_seq
            if missing > 0:
                self.lost += missing
                warnings.append(f"{missing} line(s) lost before line {line.seq}")
        self.expected_seq = line.seq + 1
        return warnings


def output_of(data: dict, source: str = ""):
    """An output line as the runtime's Output (for the human rendering)."""
    import numpy as np

    from rune.runtime.outputs import Output
    from rune.runtime.sources import NUMPY_TYPES

    type_name, dims = data["type_name"], data["dimensions"]
    if type_name == "utf8":
        value = list(data["elements"])
    else:
        special = {"NaN": float("nan"), "Infinity": float("inf"), "-Infinity": float("-inf")}
        elements = [special.get(e, e) if isinstance(e, str) else e for e in data["elements"]]
        value = np.array(elements, dtype=NUMPY_TYPES[type_name]).reshape(dims)
    return Output(data["channel"], "", source or f"channel {data['channel']}", type_name, dims, value)
