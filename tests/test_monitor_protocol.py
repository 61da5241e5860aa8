"""The firmware's line protocol, checked without a board: CRCs, sequence numbers, resets, and
the capability frames the host sends."""

from __future__ import annotations

import struct
import zlib

from rune.monitor.protocol import LineTracker, output_of, parse_line
from rune.monitor.session import DeviceSession, capability_frame


def device_line(body: str, seq: int) -> bytes:
    covered = (body[:-1] + f',"seq":{seq}').encode()
    return covered + f',"crc":"{zlib.crc32(covered):08x}"}}\n'.encode()


OUTPUT = '{"type_name":"f32","channel":0,"elements":[0.5,"NaN"],"dimensions":[2]}'


def test_a_good_line_is_the_desktop_line():
    line = parse_line(device_line(OUTPUT, 7))
    assert (line.kind, line.text, line.seq) == ("output", OUTPUT, 7)
    assert output_of(line.data).json_line() == OUTPUT


def test_a_damaged_line_is_corrupted():
    raw = bytearray(device_line(OUTPUT, 3))
    raw[30] ^= 0x01
    assert parse_line(bytes(raw)).kind == "corrupted"
    assert parse_line(b'{"type_name":"f32", garbage\n').kind == "corrupted"
    assert parse_line(b"hello\n").kind == "text"


def test_the_tracker_counts_corrupted_lost_and_resets():
    tracker = LineTracker()
    boot = '{"event":"boot","rune":"r","board":"b","abi":1,"reset":"power"}'
    damaged = bytearray(device_line(OUTPUT, 1))
    damaged[25] ^= 1
    for raw in (device_line(boot, 0), bytes(damaged), device_line(OUTPUT, 2), device_line(OUTPUT, 5),
                device_line(boot.replace("power", "watchdog"), 0), device_line(OUTPUT, 1)):
        warnings = tracker.observe(parse_line(raw))
    assert (tracker.corrupted, tracker.lost, tracker.resets) == (1, 2, 1)
    assert warnings == []


class FakeLink:
    """Records what the session writes; serves lines the test gives it."""

    def __init__(self, lines):
        self.lines, self.written = list(lines), b""

    def readline(self):
        return self.lines.pop(0) if self.lines else b""

    def write(self, data):
        self.written += data

    def flush(self):
        pass


def test_capability_requests_are_answered_with_frames():
    import numpy as np

    from rune.runtime.sources import CapabilitySpec, Source

    class Fixed(Source):
        def read(self, spec):
            return np.array([1, -2, 3], np.int16)

    spec = CapabilitySpec(0, "mic", "SOUND", {}, "i16", (3,), 6)
    link = FakeLink([device_line('{"request":"capability","index":0,"bytes":6}', 0)])
    session = DeviceSession(link, [spec], {0: Fixed()}, timeout=0.2)
    events = session.events()
    assert next(events).warnings == []
    payload = struct.pack("<3h", 1, -2, 3)
    assert link.written == capability_frame(0, payload)
    assert link.written[:4] == b"RUNE" and link.written[-4:] == struct.pack("<I", zlib.crc32(payload))
