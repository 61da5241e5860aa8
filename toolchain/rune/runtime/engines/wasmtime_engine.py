"""wasmtime, in this process: compiled code, an interruptible time limit per call.

An inference crosses between Python and wasm about five times (rune_call, then each capability,
model and output import). wasmtime-py's general wrappers cost tens of microseconds per crossing
(they look up and convert types on every call), more than a small model takes to run. This engine
uses wasmtime's "unchecked" C API instead, through wasmtime-py's ctypes bindings (the version is
pinned): raw i32 values in one preallocated buffer, for functions whose types the runtime has
checked against the ABI (abi.module_problems) before loading the module.
"""

from __future__ import annotations

import ctypes
import threading
import time

import wasmtime
from wasmtime import _bindings
from wasmtime import _ffi as ffi

from rune import abi
from rune.runtime.engines.base import Engine, EngineCrash, EngineTimeout, EngineTrap


class _Memory:
    """The rune's memory, as a view of wasmtime's buffer. A rune's memory never grows (its initial
    and maximum sizes are equal: abi.module_problems), so the buffer stays where it is as long as
    the instance lives. The host checks every range against `size` before it reads or writes."""

    def __init__(self, memory: wasmtime.Memory, store: wasmtime.Store):
        self.size = memory.data_len(store)
        buffer = (ctypes.c_ubyte * self.size).from_address(ctypes.addressof(memory.data_ptr(store).contents))
        self.view = memoryview(buffer).cast("B")  # slicing a memoryview costs a fifth of ctypes.string_at

    def read(self, address: int, length: int) -> bytes:
        return self.view[address:address + length].tobytes()

    def write(self, address: int, data: bytes) -> None:
        self.view[address:address + len(data)] = data


class _Watchdog:
    """One thread that interrupts the engine when an armed deadline passes.

    Arming and disarming only set the deadline; the thread is woken only when it is idle, so a run
    of short calls costs it nothing (waking a thread per call would cost more than the call). When
    it wakes for a deadline that a later call has moved, it goes back to sleep until the new one.
    An interruption between calls is harmless: each call sets its epoch deadline afresh."""

    def __init__(self, engine: wasmtime.Engine):
        self.engine = engine
        self.condition = threading.Condition()
        self.deadline: float | None = None
        self.idle = True
        self.closed = False
        self.thread = threading.Thread(target=self._watch, name="rune-watchdog", daemon=True)
        self.thread.start()

    def arm(self, seconds: float) -> None:
        with self.condition:
            self.deadline = time.monotonic() + seconds
            if self.idle:
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
                    self.idle = True
                    self.condition.wait()
                    self.idle = False
                    continue
                remaining = self.deadline - time.monotonic()
                if remaining > 0:
                    self.condition.wait(remaining)
                    continue
                self.engine.increment_epoch()
                self.deadline = None


# The C functions themselves (wasmtime-py's Python wrappers around them add a call each).
_call_unchecked = _bindings._wasmtime_func_call_unchecked
_set_epoch_deadline = _bindings._wasmtime_context_set_epoch_deadline
_CALLBACK = ffi.wasmtime_func_unchecked_callback_t
# The same C signature with the values as int32s: reading a Python int from them costs less than
# making a ctypes union object per value.
_I32_CALLBACK = ctypes.CFUNCTYPE(ctypes.c_size_t, ctypes.c_void_p, ctypes.c_void_p, ctypes.POINTER(ctypes.c_int32),
                                 ctypes.c_size_t)
assert ctypes.sizeof(ffi.wasmtime_val_raw_t) == 16
_FINALIZER = ctypes.CFUNCTYPE(None, ctypes.c_void_p)
_no_finalizer = _FINALIZER(lambda env: None)


class WasmtimeEngine(Engine):
    name = "wasmtime"

    def __init__(self, module: bytes, host, timeout: float):
        self.timeout = timeout
        config = wasmtime.Config()
        config.epoch_interruption = True
        self.engine = wasmtime.Engine(config)
        self.store = wasmtime.Store(self.engine)
        self.context = self.store._context()
        try:
            compiled = wasmtime.Module(self.engine, module)
        except wasmtime.WasmtimeError as e:
            raise EngineCrash(f"wasmtime cannot load the module: {str(e).splitlines()[0]}") from None
        linker = wasmtime.Linker(self.engine)
        memory_ref: list[_Memory] = []
        self.callbacks = [self._define_import(linker, name, getattr(host, name), host, memory_ref)
                          for name in abi.IMPORTS]  # kept alive as long as the module may call them
        try:
            self.instance = linker.instantiate(self.store, compiled)
        except (wasmtime.WasmtimeError, wasmtime.Trap) as e:
            raise EngineCrash(f"wasmtime cannot instantiate the module: {str(e).splitlines()[0]}") from None
        exports = self.instance.exports(self.store)
        # Everything a call passes, made once: the functions (by reference) and the value buffer.
        # Their types are the ABI's (abi.module_problems): called unchecked with another type, a
        # function could read past the buffer.
        self.functions = {name: exports[name]._func for name in abi.EXPORT_SIGNATURES}
        self.references = {name: ctypes.byref(function) for name, function in self.functions.items()}
        self.values = (ffi.wasmtime_val_raw_t * 1)()  # no parameters, at most one i32 result
        self._new_trap_slot()
        self.memory = _Memory(exports["memory"], self.store)
        self.memory_size = self.memory.size
        memory_ref.append(self.memory)
        self.watchdog = _Watchdog(self.engine)

    @staticmethod
    def _define_import(linker: wasmtime.Linker, name: str, method, host, memory_ref: list):
        """Define an (i32, ...) -> i32 import as a raw callback: its arguments arrive in `values`,
        its result goes into values[0]. The linker checks the module's import has this type."""
        params, results = abi.IMPORTS[name]
        assert len(params) == 3 and len(results) == 1, "every ABI v1 import is (i32, i32, i32) -> i32"

        def callback(env, caller, values, length):
            try:  # values: wasmtime_val_raw_t[3], 16 bytes each, seen as int32s: their i32 at 0, 4, 8
                values[0] = method(memory_ref[0], values[0], values[4], values[8])
            except BaseException as e:  # never let an exception unwind through wasm
                values[0] = host.fail(e)
            return 0  # no trap

        raw = _I32_CALLBACK(callback)
        i32 = wasmtime.ValType.i32()
        kind = wasmtime.FuncType([i32] * 3, [i32])
        module_name, import_name = abi.IMPORT_MODULE.encode(), name.encode()
        error = ffi.wasmtime_linker_define_func_unchecked(linker.ptr(), module_name, len(module_name), import_name,
                                                          len(import_name), kind.ptr(), ctypes.cast(raw, _CALLBACK),
                                                          None, _no_finalizer)
        if error:
            raise wasmtime.WasmtimeError._from_ptr(error)
        return raw

    def _new_trap_slot(self) -> None:
        """Where wasmtime puts a trap: a null pointer, until a trap is taken out of it."""
        self.trap = ctypes.POINTER(ffi.wasm_trap_t)()
        self.trap_reference = ctypes.byref(self.trap)

    def call(self, export: str) -> int:
        _set_epoch_deadline(self.context, 1)
        self.watchdog.arm(self.timeout)
        try:
            error = _call_unchecked(self.context, self.references[export], self.values, 1, self.trap_reference)
        finally:
            self.watchdog.disarm()
        if error:
            raise EngineTrap(str(wasmtime.WasmtimeError._from_ptr(error)).splitlines()[0])
        if self.trap:
            trap = wasmtime.Trap._from_ptr(self.trap)  # which now owns (and frees) it
            self._new_trap_slot()
            if trap.trap_code == wasmtime.TrapCode.INTERRUPT:
                raise EngineTimeout()
            raise EngineTrap(_trap_message(trap))
        return 0 if export == "_initialize" else self.values[0].i32

    def read(self, address: int, length: int) -> bytes:
        if address < 0 or length < 0 or address + length > self.memory.size:
            raise EngineTrap(f"the range {address}..{address + length} is outside the rune's memory")
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
