"""What goes wrong on a board is reported, and the firmware and the monitor keep going."""

from __future__ import annotations

import shutil

import pytest

from conftest import ROOT, Sequence, device_lines
from rune.compiler.build import build
from rune.runtime import RawSource

ASSETS = ROOT / "tests" / "assets"


@pytest.fixture(scope="module")
def faulty(tmp_path_factory):
    folder = tmp_path_factory.mktemp("faulty")
    shutil.copytree(ASSETS / "faulty", folder / "faulty")
    shutil.copy(ASSETS / "faulty.Runefile.yml", folder / "Runefile.yml")
    modes = {}
    for mode in range(5):
        modes[mode] = folder / f"mode{mode}.bin"
        modes[mode].write_bytes(bytes([mode]))
    return build(folder).path, modes


def modes(paths, sequence):
    return {0: Sequence(RawSource(paths[m]) for m in sequence)}


def test_a_trap_is_reported_and_the_next_inference_works(device, faulty):
    rune, paths = faulty
    with device(rune, modes(paths, [0, 1, 0, 3, 0, 4, 0])) as session:
        lines = device_lines(session, 4, keep=("output", "error"))
    kinds = [(line.kind, line.data.get("error"), line.data.get("stage")) for line in lines]
    assert kinds == [("output", None, None), ("error", "trap", "misbehave"), ("output", None, None),
                     ("error", "block", "misbehave"), ("output", None, None), ("error", "trap", "misbehave"),
                     ("output", None, None)]
    assert "out of bounds" in lines[1].data["message"] and lines[3].data["message"] == "faulty: asked to fail"


def test_a_hang_is_caught_by_the_watchdog_and_the_monitor_follows_the_reset(device, faulty):
    rune, paths = faulty
    with device(rune, modes(paths, [0, 2, 0, 0]), watchdog_ms=3000) as session:
        boots = []
        outputs = 0
        for event in session.events():
            if event.line.kind == "event" and event.line.data["event"] == "boot":
                boots.append(event.line.data["reset"])
            if event.line.kind == "output":
                outputs += 1
                if outputs == 3:
                    break
    assert boots == ["power", "watchdog"]
    assert session.tracker.resets == 1 and session.tracker.lost == 0


class Corrupting:
    """A serial link that damages or drops one line, as a noisy cable would."""

    def __init__(self, link, line_number: int, drop: bool):
        self.link, self.line_number, self.drop, self.count = link, line_number, drop, 0

    def readline(self):
        line = self.link.readline()
        if line:
            self.count += 1
            if self.count == self.line_number:
                if self.drop:
                    return self.link.readline()
                return line[:12] + bytes([line[12] ^ 0x20]) + line[13:]
        return line

    def __getattr__(self, name):
        return getattr(self.link, name)


@pytest.mark.parametrize("drop", [False, True], ids=["corrupted", "lost"])
def test_corrupted_and_lost_lines_are_detected(device, drop, tmp_path):
    (tmp_path / "Runefile.yml").write_text("""
version: 1
pipeline:
  rand: {capability: RAND, outputs: [{type: f32, dimensions: [2]}]}
  serial: {out: SERIAL, inputs: [rand]}
""")
    with device(build(tmp_path).path, {}) as session:
        session.link = Corrupting(session.link, 5, drop)
        for _, event in zip(range(12), session.events()):
            pass
    assert (session.tracker.corrupted, session.tracker.lost) == ((0, 1) if drop else (1, 0))
