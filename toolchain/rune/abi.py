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
    """What makes a wasm module break this ABI (empty if it conforms)."""
    from rune.container import wasm

    foreign: dict[str, list[str]] = {}
    for imp in wasm.imports(module):
        if imp.module != IMPORT_MODULE or imp.name not in IMPORTS:
            foreign.setdefault(imp.module, []).append(imp.name)
    problems = [f"it imports {module_name}.{', '.join(names)}, which the rune ABI does not provide"
                for module_name, names in foreign.items()]
    found = {e.name: e.kind for e in wasm.exports(module)}
    problems += [f"it does not export the {kind} '{name}'" for name, kind in REQUIRED_EXPORTS.items()
                 if found.get(name) != kind]
    return problems
