"""wasmtime, in this process: compiled code, an interruptible time limit per call."""

from __future__ import annotations

import threading

import wasmtime

from rune import abi
from rune.runtime.engines.base import Engine, EngineCrash, EngineTimeout, EngineTrap


class _CallerMemory:
    """The rune's memory as seen from inside a host call."""

    def __init__(self, memory: wasmtime.Memory, context):
        self.memory = memory
        self.context = context
        self.size = memory.data_len(context)

    def read(self, address: int, length: int) -> bytes:
        return bytes(self.memory.read(self.context, address, address + length))

    def write(self, address: int, data: bytes) -> None:
        self.memory.write(self.context, data, address)


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
        for name, (params, results) in abi.IMPORTS.items():
            method = getattr(host, name)
            linker.define_func(abi.IMPORT_MODULE, name, wasmtime.FuncType([i32] * len(params), [i32] * len(results)),
                               self._bridge(method), access_caller=True)
        try:
            self.instance = linker.instantiate(self.store, compiled)
        except (wasmtime.WasmtimeError, wasmtime.Trap) as e:
            raise EngineCrash(f"wasmtime cannot instantiate the module: {str(e).splitlines()[0]}") from None
        self.exports = self.instance.exports(self.store)
        self.memory = self.exports["memory"]

    @staticmethod
    def _bridge(method):
        def call(caller, *args):
            return method(_CallerMemory(caller["memory"], caller), *args)
        return call

    def call(self, export: str) -> int:
        function = self.exports[export]
        self.store.set_epoch_deadline(1)
        timer = threading.Timer(self.timeout, self.engine.increment_epoch)
        timer.daemon = True
        timer.start()
        try:
            result = function(self.store)
        except wasmtime.Trap as e:
            if e.trap_code == wasmtime.TrapCode.INTERRUPT:
                raise EngineTimeout() from None
            raise EngineTrap(_trap_message(e)) from None
        except wasmtime.WasmtimeError as e:
            raise EngineTrap(str(e).splitlines()[0]) from None
        finally:
            timer.cancel()
        return 0 if result is None else int(result)

    def read(self, address: int, length: int) -> bytes:
        return bytes(self.memory.read(self.store, address, address + length))


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
