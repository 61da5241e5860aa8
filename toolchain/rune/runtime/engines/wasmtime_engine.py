"""wasmtime, in this process: compiled code, an interruptible time limit per call."""

from __future__ import annotations

import ctypes
import threading
import time

import numpy as np
import wasmtime

from rune import abi
from rune.runtime.engines.base import Engine, EngineCrash, EngineTimeout, EngineTrap


class _Memory:
    """The rune's memory as a numpy view. A rune's memory never grows (its initial and maximum
    sizes are equal), so its address stays valid as long as the instance lives."""

    def __init__(self, memory: wasmtime.Memory, store: wasmtime.Store):
        self.size = memory.data_len(store)
        pointer = ctypes.cast(memory.data_ptr(store), ctypes.POINTER(ctypes.c_uint8))
        self.view = np.ctypeslib.as_array(pointer, shape=(self.size,))

    def read(self, address: int, length: int) -> bytes:
        return self.view[address:address + length].tobytes()

    def write(self, address: int, data: bytes) -> None:
        self.view[address:address + len(data)] = np.frombuffer(data, np.uint8)


class _Watchdog:
    """One thread that interrupts the engine when an armed deadline passes (starting a timer
    thread per call would cost more than the call)."""

    def __init__(self, engine: wasmtime.Engine):
        self.engine = engine
        self.condition = threading.Condition()
        self.deadline: float | None = None
        self.closed = False
        self.thread = threading.Thread(target=self._watch, name="rune-watchdog", daemon=True)
        self.thread.start()

    def arm(self, seconds: float) -> None:
        with self.condition:
            self.deadline = time.monotonic() + seconds
            self.condition.notify()

    def disarm(self) -> None:
        with self.condition:
            self.deadline = None

    def close(self) -> None:
        with self.condition:
            self.closed = True
            self.condition.notify()

    def _watch(self) -> None:
        with self.condition:
            while not self.closed:
                if self.deadline is None:
                    self.condition.wait()
                    continue
                remaining = self.deadline - time.monotonic()
                if remaining > 0:
                    self.condition.wait(remaining)
                    continue
                self.engine.increment_epoch()
                self.deadline = None


class WasmtimeEngine(Engine):
    name = "wasmtime"

    def __init__(self, module: bytes, host, timeout: float):
        self.timeout = timeout
        config = wasmtime.Config()
        config.epoch_interruption = True
        self.engine = wasmtime.Engine(config)
        self.store = wasmtime.Store(self.engine)
        try:
            compiled = wasmtime.Module(self.engine, module)
        except wasmtime.WasmtimeError as e:
            raise EngineCrash(f"wasmtime cannot load the module: {str(e).splitlines()[0]}") from None
        linker = wasmtime.Linker(self.engine)
        i32 = wasmtime.ValType.i32()
        memory_ref: list[_Memory] = []
        for name, (params, results) in abi.IMPORTS.items():
            method = getattr(host, name)
            linker.define_func(abi.IMPORT_MODULE, name, wasmtime.FuncType([i32] * len(params), [i32] * len(results)),
                               lambda *args, method=method: method(memory_ref[0], *args))
        try:
            self.instance = linker.instantiate(self.store, compiled)
        except (wasmtime.WasmtimeError, wasmtime.Trap) as e:
            raise EngineCrash(f"wasmtime cannot instantiate the module: {str(e).splitlines()[0]}") from None
        exports = self.instance.exports(self.store)
        self.functions = {name: exports[name] for name in abi.REQUIRED_EXPORTS if name != "memory"}
        self.memory = _Memory(exports["memory"], self.store)
        memory_ref.append(self.memory)
        self.watchdog = _Watchdog(self.engine)

    def call(self, export: str) -> int:
        function = self.functions[export]
        self.store.set_epoch_deadline(1)
        self.watchdog.arm(self.timeout)
        try:
            result = function(self.store)
        except wasmtime.Trap as e:
            if e.trap_code == wasmtime.TrapCode.INTERRUPT:
                raise EngineTimeout() from None
            raise EngineTrap(_trap_message(e)) from None
        except wasmtime.WasmtimeError as e:
            raise EngineTrap(str(e).splitlines()[0]) from None
        finally:
            self.watchdog.disarm()
        return 0 if result is None else int(result)

    def read(self, address: int, length: int) -> bytes:
        return self.memory.read(address, length)

    def close(self) -> None:
        self.watchdog.close()


_TRAP_TEXT = {
    "MEMORY_OUT_OF_BOUNDS": "out of bounds memory access",
    "UNREACHABLE": "unreachable executed",
    "STACK_OVERFLOW": "stack overflow",
    "INTEGER_DIVISION_BY_ZERO": "integer divide by zero",
    "INTEGER_OVERFLOW": "integer overflow",
    "BAD_CONVERSION_TO_INTEGER": "invalid conversion to integer",
    "INDIRECT_CALL_TO_NULL": "indirect call to null",
    "BAD_SIGNATURE": "indirect call type mismatch",
    "TABLE_OUT_OF_BOUNDS": "undefined table element",
}


def _trap_message(trap: wasmtime.Trap) -> str:
    code = trap.trap_code.name if trap.trap_code is not None else ""
    return _TRAP_TEXT.get(code, str(trap).splitlines()[0])
