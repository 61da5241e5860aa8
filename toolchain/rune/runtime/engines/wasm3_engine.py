"""wasm3, the interpreter the firmware embeds, run in a worker process.

wasm3 has no fuel or interruption and is not hardened against hostile modules, so each rune
gets its own worker: a call that overruns its time limit, or a module that crashes the
interpreter, kills only the worker.
"""

from __future__ import annotations

import os
import subprocess
import sys
import time
from multiprocessing.connection import Connection

from rune.runtime.engines.base import Engine, EngineCrash, EngineTimeout, EngineTrap


class _WorkerMemory:
    """The rune's memory inside the worker, reached through the protocol."""

    def __init__(self, engine: "Wasm3Engine"):
        self.engine = engine
        self.size = engine.memory_size

    def read(self, address: int, length: int) -> bytes:
        self.engine.send(("read", address, length))
        return self.engine.receive("data")[1]

    def write(self, address: int, data: bytes) -> None:
        self.engine.send(("write", address, bytes(data)))  # one way: a round trip costs more than a small model


class Wasm3Engine(Engine):
    name = "wasm3"

    def __init__(self, module: bytes, host, timeout: float):
        from rune.container import wasm

        self.host = host
        self.timeout = timeout
        limits = wasm.memory_limits(module)
        self.memory_size = (limits.initial if limits else 0) * wasm.PAGE_SIZE
        self.deadline = None
        to_worker_r, to_worker_w = os.pipe()
        from_worker_r, from_worker_w = os.pipe()
        self.process = subprocess.Popen(
            [sys.executable, "-m", "rune.runtime.engines.wasm3_worker", str(to_worker_r), str(from_worker_w)],
            pass_fds=(to_worker_r, from_worker_w), stdin=subprocess.DEVNULL, stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL)
        os.close(to_worker_r)
        os.close(from_worker_w)
        self.outbox = Connection(to_worker_w)
        self.inbox = Connection(from_worker_r)
        self.deadline = time.monotonic() + max(timeout, 10.0)  # starting Python takes a moment
        self.send(("load", module))
        reply = self.receive()
        if reply[0] != "done":
            self.close()
            raise EngineCrash(f"wasm3 cannot load the module: {reply[1]}")

    def send(self, message) -> None:
        try:
            self.outbox.send(message)
        except (BrokenPipeError, OSError):
            raise self._died() from None

    def receive(self, expected: str | None = None):
        remaining = self.deadline - time.monotonic()
        if remaining <= 0 or not self.inbox.poll(remaining):
            if self.process.poll() is not None:
                raise self._died()
            self.close()
            raise EngineTimeout()
        try:
            message = self.inbox.recv()
        except (EOFError, OSError):
            raise self._died() from None
        if expected and message[0] != expected:
            raise EngineCrash(f"the wasm3 worker answered {message[0]!r} instead of {expected!r}")
        return message

    def _died(self) -> EngineCrash:
        code = self.process.wait(timeout=5)
        self.close()
        how = f"was killed by signal {-code}" if code < 0 else f"exited with status {code}"
        return EngineCrash(f"the wasm3 engine process {how}")

    def call(self, export: str) -> int:
        if self.process.poll() is not None:
            raise self._died()
        self.deadline = time.monotonic() + self.timeout
        self.send(("call", export))
        memory = _WorkerMemory(self)
        while True:
            message = self.receive()
            kind = message[0]
            if kind == "import":
                _, name, args = message
                self.send(("return", getattr(self.host, name)(memory, *args)))
            elif kind == "done":
                return message[1]
            elif kind == "trap":
                raise EngineTrap(message[1])
            else:
                raise EngineCrash(f"wasm3: {message[1]}")

    def read(self, address: int, length: int) -> bytes:
        self.deadline = time.monotonic() + 5.0
        self.send(("read", address, length))
        return self.receive("data")[1]

    def close(self) -> None:
        if self.process.poll() is None:
            self.process.kill()
            self.process.wait()
        for connection in (self.outbox, self.inbox):
            try:
                connection.close()
            except (OSError, AttributeError):
                pass
