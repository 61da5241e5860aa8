"""The host side of the rune ABI v1 (docs/abi.md): the three functions a rune imports.

Engines (wasmtime, wasm3) call these with a view of the rune's memory. Nothing the rune passes
is trusted: indices, sizes and addresses are checked against the manifest and the memory, and
a violation fails the call with a message instead of touching anything outside the rune.
"""

from __future__ import annotations

import struct
from typing import Callable, Protocol

import numpy as np

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
    """The imports, with what they check computed once from the manifest (an inference calls them
    a few times; computing sizes and dtypes there would cost more than a small model)."""

    def __init__(self, manifest: dict, capability_data: Callable[[int], bytes], models: list[ModelSession]):
        self.manifest = manifest
        self.capability_data = capability_data
        self.models = models
        self.outputs: list[Output] = []
        self.written: set[int] = set()
        self.error: BaseException | None = None  # why the last import failed
        self.capabilities = [(c["stage"], c["bytes"]) for c in manifest["capabilities"]]
        self.model_calls = [_ModelCall(entry) for entry in manifest["models"]]
        self.channels = [_Channel(entry) for entry in manifest["outputs"]]

    def begin_call(self) -> None:
        self.outputs = []
        self.written = set()  # the channels written in this call: each once (docs/abi.md)
        self.error = None

    def fail(self, error: BaseException) -> int:
        if self.error is None:
            self.error = error
        return 1

    # -- imports ---------------------------------------------------------------------------

    def capability_read(self, memory: Memory, capability: int, address: int, length: int) -> int:
        try:
            stage, expected = _entry(self.capabilities, capability, "capability")
            if length != expected:  # (messages are formatted only on failure: this runs per inference)
                raise _wrong_size(length, expected, f"capability '{stage}'")
            _check_range(memory, address, length)
            data = self.capability_data(capability)
            if len(data) != length:
                raise RunError(f"the source of capability '{stage}' gave {len(data)} bytes instead of {length}")
            memory.write(address, data)
            return 0
        except BaseException as e:  # reported by the runtime once the call returns
            return self.fail(e)

    def model_infer(self, memory: Memory, model: int, buffers: int, count: int) -> int:
        try:
            call = _entry(self.model_calls, model, "model")
            inputs, outputs = call.tensors(memory, buffers, count)
            results = self.models[model].invoke([memory.read(address, length) for address, length in inputs])
            for (address, length), result in zip(outputs, results):
                if len(result) != length:
                    raise RunError(f"model '{call.stage}' produced {len(result)} bytes instead of {length}")
                memory.write(address, result)
            return 0
        except BaseException as e:
            return self.fail(e)

    def output_write(self, memory: Memory, output: int, address: int, length: int) -> int:
        try:
            channel = _entry(self.channels, output, "output")
            if length != channel.bytes:
                raise _wrong_size(length, channel.bytes, f"output channel {output}")
            if output in self.written:
                raise RunError(f"the rune wrote output channel {output} twice in one inference")
            self.written.add(output)
            self.outputs.append(channel.output(memory_read(memory, address, length), memory))
            return 0
        except BaseException as e:
            return self.fail(e)


class _ModelCall:
    """What model_infer checks for one model: the sizes of its tensors, inputs then outputs."""

    def __init__(self, entry: dict):
        tensors = entry["inputs"] + entry["outputs"]
        self.stage = entry["stage"]
        self.input_count = len(entry["inputs"])
        self.sizes = tuple(TensorType.from_json(t).bytes for t in tensors)
        self.names = [t["name"] for t in tensors]
        self.table = struct.Struct("<" + "II" * len(tensors))

    def tensors(self, memory: Memory, buffers: int, count: int) -> tuple[list, list]:
        """The (address, bytes) of the model's inputs and of its outputs, from the rune's table of
        {u32 address; u32 bytes;} at `buffers`, each checked against the model and the memory."""
        if count != len(self.sizes):
            raise RunError(f"the rune passed {count} tensors to model '{self.stage}', which has "
                           f"{self.input_count} input(s) and {len(self.sizes) - self.input_count} output(s)")
        words = self.table.unpack(memory_read(memory, buffers, self.table.size))
        addresses, lengths = words[0::2], words[1::2]
        if lengths != self.sizes:  # one comparison in the usual case; the message names the tensor
            bad = next(i for i, (length, size) in enumerate(zip(lengths, self.sizes)) if length != size)
            raise _wrong_size(lengths[bad], self.sizes[bad], f"tensor '{self.names[bad]}' of model '{self.stage}'")
        regions = list(zip(addresses, lengths))
        for address, length in regions:
            _check_range(memory, address, length)
        return regions[:self.input_count], regions[self.input_count:]


class _Channel:
    """One output channel: its size and how its bytes become an Output."""

    def __init__(self, entry: dict):
        self.channel, self.stage, self.source = entry["channel"], entry["stage"], entry["source"]["stage"]
        self.type_name = entry["type"]
        self.bytes = entry["bytes"]
        self.dimensions = list(entry["dimensions"])
        self.shape = tuple(self.dimensions)
        self.utf8 = self.type_name == "utf8"
        self.dtype = None if self.utf8 else np.dtype(NUMPY_TYPES[self.type_name]).newbyteorder("<")

    def output(self, raw: bytes, memory: Memory | None) -> Output:
        if self.utf8:
            pointers = np.frombuffer(raw, dtype="<u4")
            value = [read_string(memory, int(p)) for p in pointers]
        else:
            value = np.ndarray(self.shape, self.dtype, bytearray(raw))  # writable, not shared
        return Output(self.channel, self.stage, self.source, self.type_name, list(self.dimensions), value)


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


def _entry(entries: list, index: int, what: str):
    if not 0 <= index < len(entries):
        raise RunError(f"the rune asked for {what} {index}, but its manifest declares {len(entries)}")
    return entries[index]


def _wrong_size(length: int, expected: int, what: str) -> RunError:
    return RunError(f"the rune passed {length} bytes for {what}, which has {expected}")
