"""A conversation with a running firmware: read its lines, answer its requests for capability
data from host-side sources (the same sources `rune run` uses, so the bytes are identical), and
hand over outputs, events and errors."""

from __future__ import annotations

import struct
import time
import zlib
from dataclasses import dataclass, field

import numpy as np

from rune.monitor.protocol import DeviceLine, LineTracker, parse_line
from rune.runtime.sources import CapabilitySpec, Source

FRAME_CAPABILITY = 1


def capability_frame(index: int, payload: bytes) -> bytes:
    return b"RUNE" + struct.pack("<BBHI", FRAME_CAPABILITY, index, 0, len(payload)) + payload + \
        struct.pack("<I", zlib.crc32(payload))


@dataclass
class SessionEvent:
    line: DeviceLine
    warnings: list[str] = field(default_factory=list)


class DeviceSession:
    def __init__(self, link, capabilities: list[CapabilitySpec] | None = None,
                 sources: dict[int, Source] | None = None, timeout: float = 60.0):
        self.link = link
        self.capabilities = capabilities or []
        self.sources = sources or {}
        self.timeout = timeout  # seconds without any line before giving up
        self.tracker = LineTracker()

    def events(self):
        """Lines as they come (requests answered here); stops when the link stays silent."""
        last = time.monotonic()
        while True:
            raw = self.link.readline()
            if not raw:
                if time.monotonic() - last > self.timeout:
                    raise TimeoutError(f"the board said nothing for {self.timeout:g} s")
                continue
            last = time.monotonic()
            line = parse_line(raw)
            warnings = self.tracker.observe(line)
            if line.kind == "request":
                warnings += self.answer(line.data)
            yield SessionEvent(line, warnings)

    def answer(self, request: dict) -> list[str]:
        index = request.get("index")
        if request.get("request") != "capability" or not isinstance(index, int):
            return [f"the board made an unknown request: {request}"]
        if index >= len(self.capabilities) or index not in self.sources:
            name = self.capabilities[index].stage if index < len(self.capabilities) else str(index)
            return [f"the board asks for capability '{name}', but no source was given for it"]
        spec = self.capabilities[index]
        data = np.ascontiguousarray(np.asarray(self.sources[index].read(spec)),
                                    dtype=np.dtype(spec.dtype).newbyteorder("<")).tobytes()
        if len(data) != request.get("bytes"):
            return [f"capability '{spec.stage}' has {len(data)} bytes, the board asks for {request.get('bytes')}"]
        self.link.write(capability_frame(index, data))
        self.link.flush()
        return []
