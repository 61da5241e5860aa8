"""The rune ABI, version 1: the contract between a rune's wasm module and any host.

docs/abi.md is the full description; this module holds the facts code needs. The firmware's C
host (firmware_templates/) and the generated glue (compiler/templates/glue.c.j2) implement the
same contract.
"""

from __future__ import annotations

import struct
from dataclasses import dataclass

ABI_VERSION = 1
IMPORT_MODULE = f"rune_v{ABI_VERSION}"

# name -> (parameter types, result types); all i32.
IMPORTS = {
    "capability_read": (("i32", "i32", "i32"), ("i32",)),  # (capability, buffer, bytes) -> status
    "model_infer": (("i32", "i32", "i32"), ("i32",)),  # (model, buffers, count) -> status
    "output_write": (("i32", "i32", "i32"), ("i32",)),  # (output, buffer, bytes) -> status
}

REQUIRED_EXPORTS = {"memory": "memory", "_initialize": "func", "rune_init": "func", "rune_call": "func",
                    "rune_status": "func"}
# The exported functions' (parameter types, result types). Hosts rely on them: wasmtime's engine
# calls the exports without checking each call.
EXPORT_SIGNATURES = {"_initialize": ((), ()), "rune_init": ((), ("i32",)), "rune_call": ((), ("i32",)),
                     "rune_status": ((), ("i32",))}
# Informational globals the build leaves in (where the rune's data ends).
OPTIONAL_EXPORTS = {"__heap_base": "global", "__data_end": "global"}

# Status codes a rune's rune_init / rune_call return and store in its status block.
OK = 0
E_CAPABILITY = 1
E_MODEL = 2
E_OUTPUT = 3
E_BLOCK = 4
E_NOT_INITIALISED = 5
STATUS_NAMES = {OK: "ok", E_CAPABILITY: "capability failed", E_MODEL: "model failed",
                E_OUTPUT: "output failed", E_BLOCK: "processing block failed",
                E_NOT_INITIALISED: "not initialised"}

# struct { u32 abi_version; u32 stage; i32 code; char message[116]; }
STATUS_LAYOUT = struct.Struct("<IIi116s")

# A model's tensors are passed as an array of { u32 address; u32 bytes; }, inputs then outputs.
BUFFER_LAYOUT = struct.Struct("<II")


@dataclass
class Status:
    abi_version: int
    stage: int
    code: int
    message: str

    @classmethod
    def unpack(cls, raw: bytes) -> "Status":
        version, stage, code, message = STATUS_LAYOUT.unpack(raw[:STATUS_LAYOUT.size])
        return cls(version, stage, code, message.split(b"\0", 1)[0].decode("utf-8", errors="replace"))


def module_problems(module: bytes) -> list[str]:
    """What makes a wasm module break this ABI (empty if it conforms): the compiler checks what it
    built, and the runtime what it loads, before any engine does. Raises wasm.WasmError if the
    module is malformed."""
    from rune.container import wasm

    foreign: dict[str, list[str]] = {}
    for imp in wasm.imports(module):
        if imp.module != IMPORT_MODULE or imp.name not in IMPORTS:
            foreign.setdefault(imp.module, []).append(imp.name)
    problems = [f"it imports {module_name}.{', '.join(names)}, which the rune ABI does not provide"
                for module_name, names in foreign.items()]
    found = {e.name: e for e in wasm.exports(module)}
    problems += [f"it does not export the {kind} '{name}'" for name, kind in REQUIRED_EXPORTS.items()
                 if name not in found or found[name].kind != kind]
    types = wasm.function_types(module)
    for name, (params, results) in EXPORT_SIGNATURES.items():
        export = found.get(name)
        if export is None or export.kind != "func":
            continue  # reported above
        if export.index >= len(types):
            raise wasm.WasmError(f"the export '{name}' is function {export.index}, of {len(types)}")
        expected = wasm.FuncType(params, results)
        if types[export.index] != expected:
            problems.append(f"its export '{name}' has the type {types[export.index]}, not {expected}")
    limits = wasm.memory_limits(module)
    if limits is not None and limits.maximum != limits.initial:  # hosts keep the memory's address
        most = "no maximum" if limits.maximum is None else f"at most {limits.maximum}"
        problems.append(f"its memory can grow ({limits.initial} pages, {most}); the ABI fixes its size "
                        f"(initial == maximum)")
    return problems
