"""Hardware-in-the-loop tests: runes built, flashed to a board and compared with the desktop.

By default they run on the emulated STM32F4 (QEMU netduinoplus2), and on mps2-an386 for what
does not fit an STM32F4; on a real board with

    pytest hil_tests --board nucleo_f411re --port /dev/ttyACM0
"""

from __future__ import annotations

import os
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
EXAMPLES = ROOT / "examples"
SHARED = ROOT.parent / "shared" / "data"


def pytest_addoption(parser):
    parser.addoption("--board", default=None, help="Run on this board (default: the emulated boards).")
    parser.addoption("--port", default=None, help="The serial port of a real board (e.g. /dev/ttyACM0).")


@pytest.fixture(scope="session")
def board_port(request):
    """(board id or None for the emulated default, serial port or None): skips, saying why, when
    a real board is asked for but not attached."""
    chosen, port = request.config.getoption("--board"), request.config.getoption("--port")
    if chosen:
        from rune.boards import find_board

        board = find_board(chosen)
        if not board.emulated and not port:
            pytest.skip(f"{board.id} is a real board: pass --port to say where it is attached")
        if not board.emulated and not (port.startswith(("socket://", "rfc2217://")) or os.path.exists(port)):
            pytest.skip(f"no board attached at {port}")
    return chosen, port


@pytest.fixture(scope="session", params=["aot", "wasm3"])
def device(request, board_port):
    """A function: (rune path, sources, board id or None) -> context manager of a DeviceSession,
    once for each engine that runs the rune's module on the board."""
    from rune.boards import find_board
    from rune.container.rune_file import RuneFile
    from rune.firmware.device import build_firmware, running_on
    from rune.paths import cache_dir

    chosen, port = board_port

    def open_device(rune_path: Path, sources: dict, default_board: str = "netduinoplus2", random_seed: int = 0,
                    watchdog_ms: int = 60_000):
        board = find_board(chosen or default_board)
        rune = RuneFile.load(rune_path)
        # one project folder per test worker: runes of different tests may share a name
        worker = os.environ.get("PYTEST_XDIST_WORKER", "main")
        folder = cache_dir() / "firmware" / f"{rune.name}-{board.id}-{request.param}-{worker}"
        project, _ = build_firmware(rune, board, folder, engine=request.param, random_seed=random_seed,
                                    watchdog_ms=watchdog_ms)
        return running_on(project, sources, port=port, timeout=120)

    return open_device


def device_lines(session, inferences: int, keep=("output",)) -> list:
    """The lines (as `rune run --json` prints them) of the next `inferences` inferences."""
    lines = []
    done = 0
    for event in session.events():
        line = event.line
        assert line.kind not in ("corrupted",), f"a corrupted line: {line.text}"
        if line.kind == "error" and line.data["error"] == "start":
            pytest.fail(f"the rune did not start on the board: {line.data['message']}")
        if line.kind in keep:
            lines.append(line)
        if line.kind == "event" and line.data["event"] == "inference":
            done += 1
            if done == inferences:
                return lines
    return lines


class Sequence:
    """A capability source that gives one source's data after another, one per inference."""

    def __init__(self, sources):
        self.sources = list(sources)
        self.position = 0

    def read(self, spec):
        data = self.sources[self.position % len(self.sources)].read(spec)
        self.position += 1
        return data

    def remaining(self, spec):
        return None
