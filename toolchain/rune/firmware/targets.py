"""Where a firmware runs: one small interface per kind of target (as TVM's Project API):

    target.flash(project)     build artefacts -> running firmware (QEMU started, or board flashed)
    target.open() -> link     a pyserial connection to its console
    target.close()            stop the emulator, close the connection
"""

from __future__ import annotations

import json
import os
import signal
import socket
import tempfile
import time
from pathlib import Path

from rune.boards import Board
from rune.diagnostics import Diagnostic, RuneError
from rune.firmware.platformio import run_pio
from rune.firmware.project import FirmwareProject


class Target:
    def __init__(self, board: Board):
        self.board = board

    def flash(self, project: FirmwareProject) -> None:
        raise NotImplementedError

    def open(self):
        raise NotImplementedError

    def close(self) -> None:
        pass

    def __enter__(self):
        return self

    def __exit__(self, *exc):
        self.close()


def _upload(project: FirmwareProject, env: dict[str, str] | None = None) -> None:
    result = run_pio(project.folder, ["upload"], env, timeout=300)
    if result.returncode != 0:
        tail = "\n".join(result.stdout.splitlines()[-15:] + result.stderr.splitlines()[-10:])
        raise RuneError(Diagnostic(f"uploading to {project.board.id} failed:\n{tail}"))


class QemuTarget(Target):
    """An emulated board: `upload` starts QEMU paused and detached, with its console on a local
    TCP port; opening the link connects to it and lets the emulator run (no output is lost)."""

    def __init__(self, board: Board):
        super().__init__(board)
        self.scratch = Path(tempfile.mkdtemp(prefix="rune-qemu-"))
        self.port = _free_port()
        self.qmp = self.scratch / "qmp.sock"
        self.pidfile = self.scratch / "qemu.pid"
        self.link = None

    def flash(self, project: FirmwareProject) -> None:
        _upload(project, {"RUNE_QEMU_PORT": str(self.port), "RUNE_QEMU_QMP": str(self.qmp),
                          "RUNE_QEMU_PIDFILE": str(self.pidfile)})

    def open(self):
        import serial

        deadline = time.monotonic() + 10
        while True:
            try:
                self.link = serial.serial_for_url(f"socket://127.0.0.1:{self.port}", timeout=1)
                break
            except (serial.SerialException, OSError):
                if time.monotonic() > deadline:
                    raise RuneError("QEMU did not open its serial port") from None
                time.sleep(0.05)
        self._qmp("cont")
        return self.link

    def _qmp(self, command: str) -> None:
        connection = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
        connection.settimeout(5)
        connection.connect(str(self.qmp))
        reader = connection.makefile("rb")
        reader.readline()  # greeting
        for message in ({"execute": "qmp_capabilities"}, {"execute": command}):
            connection.sendall(json.dumps(message).encode() + b"\n")
            while True:  # events may come before the reply
                reply = reader.readline()
                if not reply:
                    raise RuneError("QEMU closed its control connection")
                if "return" in json.loads(reply) or "error" in json.loads(reply):
                    break
        connection.close()

    def close(self) -> None:
        if self.link is not None:
            self.link.close()
            self.link = None
        try:
            pid = int(self.pidfile.read_text().strip())
            os.kill(pid, signal.SIGKILL)
        except (OSError, ValueError):
            pass
        for path in (self.qmp, self.pidfile):
            path.unlink(missing_ok=True)
        try:
            self.scratch.rmdir()
        except OSError:
            pass


class SerialTarget(Target):
    """A real board: flashed with its upload protocol, then read on its serial port."""

    def __init__(self, board: Board, port: str | None, baud: int):
        super().__init__(board)
        self.port = port
        self.baud = baud
        self.link = None

    def flash(self, project: FirmwareProject) -> None:
        _upload(project)

    def open(self):
        import serial

        if not self.port:
            raise RuneError(Diagnostic(f"which serial port is the {self.board.id} on?",
                                       hint="pass --port, e.g. --port /dev/ttyACM0"))
        try:
            self.link = serial.serial_for_url(self.port, baudrate=self.baud, timeout=1)
        except (serial.SerialException, ValueError) as e:
            raise RuneError(Diagnostic(f"cannot open {self.port}: {e}")) from None
        return self.link

    def close(self) -> None:
        if self.link is not None:
            self.link.close()
            self.link = None


def target_for(board: Board, port: str | None = None, baud: int | None = None) -> Target:
    if board.emulated:
        return QemuTarget(board)
    return SerialTarget(board, port, baud or board.console["baud"])


def _free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]
