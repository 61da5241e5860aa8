"""The host side of the rune ABI v1 (docs/abi.md): the three functions a rune imports.

Engines (wasmtime, wasm3) call these with a view of the rune's memory. Nothing the rune passes
is trusted: indices, sizes and addresses are checked against the manifest and the memory, and
a violation fails the call with a message instead of touching anything outside the rune.
"""

from __future__ import annotations

from typing import Callable, Protocol

import numpy as np

from rune import abi
from rune.runtime.errors import RunError
from rune.runtime.outputs import Output, decode_text
from rune.runtime.sources import NUMPY_TYPES
from rune.tensors import TensorType

MAX_STRING = 64 * 1024


class Memory(Protocol):
    size: int

    def read(self, address: int, length: int) -> bytes: ...

    def write(self, address: int, data: bytes) -> None: ...


class ModelSession(Protocol):
    def invoke(self, inputs: list[bytes]) -> list[bytes]: ...


class Host:
    def __init__(self, manifest: dict, capability_data: Callable[[int], bytes], models: list[ModelSession]):
        self.manifest = manifest
        self.capability_data = capability_data
        self.models = models
        self.outputs: list[Output] = []
        self.error: BaseException | None = None  # why the last import failed

    def begin_call(self) -> None:
        self.outputs = []
        self.error = None

    def fail(self, error: BaseException) -> int:
        if self.error is None:
            self.error = error
        return 1

    # -- imports ---------------------------------------------------------------------------

    def capability_read(self, memory: Memory, capability: int, address: int, length: int) -> int:
        try:
            entry = _entry(self.manifest["capabilities"], capability, "capability")
            _expect_size(length, entry["bytes"], f"capability '{entry['stage']}'")
            _check_range(memory, address, length)
            data = self.capability_data(capability)
            if len(data) != length:
                raise RunError(f"internal error: the source of '{entry['stage']}' gave {len(data)} bytes, "
                               f"not {length}")
            memory.write(address, data)
            return 0
        except BaseException as e:  # reported by the runtime once the call returns
            return self.fail(e)

    def model_infer(self, memory: Memory, model: int, buffers: int, count: int) -> int:
        try:
            entry = _entry(self.manifest["models"], model, "model")
            inputs, outputs = entry["inputs"], entry["outputs"]
            if count != len(inputs) + len(outputs):
                raise RunError(f"the rune passed {count} tensors to model '{entry['stage']}', which has "
                               f"{len(inputs)} input(s) and {len(outputs)} output(s)")
            table = memory_read(memory, buffers, count * abi.BUFFER_LAYOUT.size)
            regions = [abi.BUFFER_LAYOUT.unpack_from(table, i * abi.BUFFER_LAYOUT.size) for i in range(count)]
            tensors = inputs + outputs
            for (address, length), tensor in zip(regions, tensors):
                _expect_size(length, TensorType.from_json(tensor).bytes, f"tensor '{tensor['name']}' of model '{entry['stage']}'")
                _check_range(memory, address, length)
            data = [memory.read(address, length) for address, length in regions[:len(inputs)]]
            results = self.models[model].invoke(data)
            for (address, length), result in zip(regions[len(inputs):], results):
                if len(result) != length:
                    raise RunError(f"model '{entry['stage']}' produced {len(result)} bytes instead of {length}")
                memory.write(address, result)
            return 0
        except BaseException as e:
            return self.fail(e)

    def output_write(self, memory: Memory, output: int, address: int, length: int) -> int:
        try:
            entry = _entry(self.manifest["outputs"], output, "output")
            _expect_size(length, entry["bytes"], f"output channel {output}")
            raw = memory_read(memory, address, length)
            self.outputs.append(make_output(entry, raw, memory))
            return 0
        except BaseException as e:
            return self.fail(e)


def make_output(entry: dict, raw: bytes, memory: Memory | None = None) -> Output:
    """An output from the bytes of its tensor (for utf8: the string pointers, read from memory)."""
    type_name, dims = entry["type"], list(entry["dimensions"])
    if type_name == "utf8":
        pointers = np.frombuffer(raw, dtype="<u4")
        value = [read_string(memory, int(p)) for p in pointers]
    else:
        value = np.frombuffer(raw, dtype=np.dtype(NUMPY_TYPES[type_name]).newbyteorder("<")).reshape(dims).copy()
    return Output(entry["channel"], entry["stage"], entry["source"]["stage"], type_name, dims, value)


def read_string(memory: Memory, address: int) -> str:
    """A NUL-terminated string in the rune's memory, read in chunks up to MAX_STRING bytes."""
    collected = b""
    while True:
        if address >= memory.size:
            raise RunError("the rune passed a string that runs past the end of its memory")
        chunk = memory.read(address, min(256, memory.size - address))
        end = chunk.find(b"\0")
        if end >= 0:
            return decode_text(collected + chunk[:end])
        collected += chunk
        address += len(chunk)
        if len(collected) > MAX_STRING:
            raise RunError(f"the rune passed a string longer than {MAX_STRING} bytes")


def memory_read(memory: Memory, address: int, length: int) -> bytes:
    _check_range(memory, address, length)
    return memory.read(address, length)


def _check_range(memory: Memory, address: int, length: int) -> None:
    if address < 0 or length < 0 or address + length > memory.size:
        raise RunError(f"the rune passed the memory range {address}..{address + length}, outside its "
                       f"{memory.size} bytes of memory")


def _entry(entries: list, index: int, what: str) -> dict:
    if not 0 <= index < len(entries):
        raise RunError(f"the rune asked for {what} {index}, but its manifest declares {len(entries)}")
    return entries[index]


def _expect_size(length: int, expected: int, what: str) -> None:
    if length != expected:
        raise RunError(f"the rune passed {length} bytes for {what}, which has {expected}")
