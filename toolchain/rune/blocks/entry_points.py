"""A block's entry points (NAME_run, and NAME_init with `init: true`) missing from its C.

The linker reports them as undefined symbols of generated code ("wasm-ld: error:
<generated>/module.wasm.lto.o: undefined symbol: myblock_run"), which says nothing about what to
fix. This turns them into an error naming the function and the block's file, pointing at a
near miss (`myblock_rnu`) when the C has one.
"""

from __future__ import annotations

import re
from pathlib import Path
from typing import Iterable

from rune.blocks.manifest import BlockManifest
from rune.diagnostics import Diagnostic, Location, closest, display_path

# wasm-ld: "undefined symbol: NAME"; GNU ld: "undefined reference to `NAME'"
_UNDEFINED = re.compile(r"undefined (?:symbol: |reference to [`'\"])(?P<name>\w+)")
# "TYPE NAME(" at the start of a line: a function definition or declaration (or a statement such
# as "return f(", hence the keywords left out)
_DEFINITION = re.compile(r"^[ \t]*(?:static[ \t]+)?(?P<type>\w+)[ \t]+\**[ \t]*(?P<name>\w+)[ \t]*\(", re.MULTILINE)
_STATEMENTS = {"return", "else", "case", "goto", "sizeof", "do"}


def missing_entry_points(linker_output: str, blocks: Iterable[BlockManifest]) -> list[Diagnostic]:
    """One error per entry point the linker could not find; empty if none is missing."""
    undefined = {m["name"] for m in _UNDEFINED.finditer(linker_output)}
    diagnostics = []
    for block in blocks:
        wanted = [f"{block.c_name}_run"] + ([f"{block.c_name}_init"] if block.has_init else [])
        for function in (f for f in wanted if f in undefined):
            diagnostics.append(_missing(block, function))
    return diagnostics


def _missing(block: BlockManifest, function: str) -> Diagnostic:
    signature = f"int32_t {function}(const {block.c_name}_args *args, const rune_block_ctx *ctx)"
    why = "its manifest says init: true" if function.endswith("_init") else "the pipeline calls it"
    definitions = {}  # name -> (file, line, column) of functions the block's C defines
    for source in block.sources:
        text = source.read_text(errors="replace")
        for m in _DEFINITION.finditer(text):
            if m["type"] in _STATEMENTS:
                continue
            line = text.count("\n", 0, m.start("name")) + 1
            column = m.start("name") - (text.rfind("\n", 0, m.start("name")) + 1) + 1
            definitions.setdefault(m["name"], (source, line, column))
    near = closest(function, definitions)
    if near:
        source, line, column = definitions[near]
        return Diagnostic(f"block '{block.name}' must define {function} ({why}); its C defines {near}",
                          Location(display_path(source), line, column), hint=f"rename it: {signature}")
    files = block.sources or [block.folder / f"{block.name}.c"]
    where = display_path(files[0]) if len(files) == 1 else display_path(block.folder)
    return Diagnostic(f"block '{block.name}' must define {function} ({why}), and its C does not",
                      Location(where), hint=f"add {signature} to {_file_names(files)}")


def _file_names(files: list[Path]) -> str:
    return " or ".join(p.name for p in files)
