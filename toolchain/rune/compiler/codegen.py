"""Generate a pipeline's C glue (and each block's argument header) from the jinja2 templates.

The layout of the rune's memory is decided here: every tensor, and every block's scratch space,
gets an offset in one arena, planned from lifetimes so that tensors no longer needed are reused.
"""

from __future__ import annotations

import re
import struct
from dataclasses import dataclass, field
from pathlib import Path

from rune import __version__
from rune.abi import ABI_VERSION
from rune.blocks.manifest import BlockManifest
from rune.compiler.pipeline import Pipeline, Stage
from rune.planning import Allocation, plan_arena
from rune.runefile.document import StageKind
from rune.tensors import ElementType, TensorType

TEMPLATES = Path(__file__).with_name("templates")
ALIGNMENT = 16


@dataclass
class Layout:
    """Where each tensor lives in the arena."""

    arena_bytes: int
    tensors: dict[tuple[int, int], int]  # (stage, output) -> offset
    scratch: dict[int, int]  # stage -> offset
    state_bytes: int


@dataclass
class GeneratedSources:
    """The glue and argument headers of one rune, rendered only when they must be compiled:
    `fingerprint` identifies the text exactly, so a cached module needs no rendering."""

    context: dict  # the template variables
    fingerprint: str
    layout: Layout
    blocks: list[BlockManifest] = field(default_factory=list)
    capability_order: list[str] = field(default_factory=list)  # stage names by capability index
    model_order: list[str] = field(default_factory=list)
    channels: list[tuple[str, int, int]] = field(default_factory=list)  # (out stage, producer, output)

    def render(self) -> dict[str, str]:
        """file name -> contents."""
        env = _environment()
        files = {f"{b.name}_args.h": render_args_header(b, env) for b in self.blocks}
        files["rune_glue.c"] = env.get_template("glue.c.j2").render(**self.context)
        return files


def plan_layout(pipeline: Pipeline) -> Layout:
    last_use: dict[tuple[int, int], int] = {}
    for stage in pipeline.stages:
        for edge in stage.inputs:
            key = (edge.stage, edge.output)
            last_use[key] = max(last_use.get(key, 0), stage.index)
    allocations = []
    for stage in pipeline.stages:
        for output, tensor in enumerate(stage.outputs):
            key = (stage.index, output)
            allocations.append(Allocation(key, tensor.bytes, stage.index, last_use.get(key, stage.index)))
        if stage.scratch_bytes:
            allocations.append(Allocation(("scratch", stage.index), stage.scratch_bytes, stage.index, stage.index))
    arena = plan_arena(allocations, ALIGNMENT)
    tensors = {a.key: a.offset for a in allocations if a.key[0] != "scratch"}
    scratch = {a.key[1]: a.offset for a in allocations if a.key[0] == "scratch"}
    states = sum(-(-s.state_bytes // ALIGNMENT) * ALIGNMENT for s in pipeline.stages)
    return Layout(arena, tensors, scratch, states)


def generate(pipeline: Pipeline, name: str) -> GeneratedSources:
    layout = plan_layout(pipeline)
    blocks = _unique_blocks(pipeline)
    glue = _GlueContext(pipeline, layout)
    context = dict(
        version=__version__, source=pipeline.source.name, name=name, abi=ABI_VERSION,
        blocks=blocks, arena_bytes=layout.arena_bytes, stages=glue.stages,
        block_stages=[s for s in glue.stages if s["kind"] == "proc-block"],
        model_stages=[s for s in glue.stages if s["kind"] == "model"],
    )
    return GeneratedSources(context, _fingerprint(context), layout, blocks, glue.capability_order, glue.model_order,
                            glue.channels)


def _fingerprint(context: dict) -> str:
    """A hash of everything the rendered text depends on: the templates and the variables."""
    import hashlib
    import json

    def plain(value):
        if isinstance(value, BlockManifest):  # what the templates read of a block
            return {"name": value.name, "has_init": value.has_init, "derive": value.derive_values,
                    "args": [(a.name, a.type, a.description, a.values) for a in value.args.values()]}
        raise TypeError(f"cannot fingerprint {type(value).__name__}")

    digest = hashlib.sha256()
    for template in sorted(TEMPLATES.glob("*.j2")):
        digest.update(template.read_bytes())
    digest.update(json.dumps(context, default=plain, sort_keys=True).encode())
    return digest.hexdigest()


def render_args_header(block: BlockManifest, env=None) -> str:
    env = env or _environment()
    fields = []
    for arg in block.args.values():
        fields.extend(_arg_fields(arg.name, arg.type, arg.description))
    for name, kind in block.derive_values.items():
        fields.extend(_arg_fields(name, kind, "derived at build time"))
    enums = [a for a in block.args.values() if a.type == "enum"]
    return env.get_template("block_args.h.j2").render(
        block=block, fields=fields, enums=enums, guard=f"{block.name.upper()}_ARGS_H")


def _environment():
    import jinja2

    from rune.paths import cache_dir

    # Compiled templates are cached: compiling them costs more than the rest of a warm build.
    bytecode = cache_dir() / "templates"
    bytecode.mkdir(exist_ok=True)
    return jinja2.Environment(loader=jinja2.FileSystemLoader(TEMPLATES), trim_blocks=True, lstrip_blocks=True,
                              keep_trailing_newline=True, undefined=jinja2.StrictUndefined,
                              bytecode_cache=jinja2.FileSystemBytecodeCache(str(bytecode)))


def _unique_blocks(pipeline: Pipeline) -> list[BlockManifest]:
    seen: dict[str, BlockManifest] = {}
    for stage in pipeline.of_kind(StageKind.PROC_BLOCK):
        seen.setdefault(stage.block.name, stage.block)
    return list(seen.values())


# -- the glue's view of each stage ------------------------------------------------------------

class _GlueContext:
    def __init__(self, pipeline: Pipeline, layout: Layout):
        self.pipeline = pipeline
        self.layout = layout
        self.capability_order: list[str] = []
        self.model_order: list[str] = []
        self.channels: list[tuple[str, int, int]] = []
        self.stages = [self.describe(stage) for stage in pipeline.stages]

    def describe(self, stage: Stage) -> dict:
        info = {"index": stage.index, "name": stage.name, "kind": stage.kind.value, "c_name": c_identifier(stage.name)}
        if stage.kind is StageKind.CAPABILITY:
            info.update(capability=stage.capability, capability_index=len(self.capability_order),
                        offset=self.layout.tensors[(stage.index, 0)], bytes=stage.outputs[0].bytes)
            self.capability_order.append(stage.name)
        elif stage.kind is StageKind.PROC_BLOCK:
            info.update(self.describe_block(stage))
        elif stage.kind is StageKind.MODEL:
            buffers = [{"offset": self.layout.tensors[(e.stage, e.output)], "bytes": e.tensor.bytes}
                       for e in stage.inputs]
            buffers += [{"offset": self.layout.tensors[(stage.index, i)], "bytes": t.bytes}
                        for i, t in enumerate(stage.outputs)]
            info.update(model_index=len(self.model_order), buffers=buffers)
            self.model_order.append(stage.name)
        else:
            channels = []
            for edge in stage.inputs:
                channels.append({"channel": len(self.channels), "offset": self.layout.tensors[(edge.stage, edge.output)],
                                 "bytes": edge.tensor.bytes})
                self.channels.append((stage.name, edge.stage, edge.output))
            info.update(channels=channels)
        return info

    def describe_block(self, stage: Stage) -> dict:
        prefix = f"arg_{c_identifier(stage.name)}"
        definitions, values = [], []
        for spec in stage.block.args.values():
            value = stage.args.get(spec.name)
            defs, initialisers = arg_initialisers(spec.type, value, f"{prefix}_{spec.name}", spec.values)
            definitions.extend(defs)
            values.extend(initialisers)
        for name, kind in stage.block.derive_values.items():
            defs, initialisers = arg_initialisers(kind, stage.derived[name], f"{prefix}_{name}", [])
            definitions.extend(defs)
            values.extend(initialisers)
        inputs = [self.tensor_initialiser(e.tensor, self.layout.tensors[(e.stage, e.output)]) for e in stage.inputs]
        outputs = [self.tensor_initialiser(t, self.layout.tensors[(stage.index, i)]) for i, t in enumerate(stage.outputs)]
        return {
            "block": stage.block, "definitions": definitions, "initialiser": " ".join(v + "," for v in values) or "0",
            "input_tensors": inputs, "output_tensors": outputs, "state_bytes": stage.state_bytes,
            "scratch_bytes": stage.scratch_bytes, "scratch_offset": self.layout.scratch.get(stage.index, 0),
        }

    @staticmethod
    def tensor_initialiser(tensor: TensorType, offset: int) -> str:
        dims = ", ".join(str(d) for d in tensor.shape) or "0"
        return (f"{{arena + {offset}, {tensor.dtype.code}, {tensor.count}, {len(tensor.shape)}, "
                f"{{{dims}}}}}  /* {tensor} */")


# -- arguments as C ---------------------------------------------------------------------------

_SCALAR_C = {"f32": "float", "f64": "double", "i32": "int32_t", "u32": "uint32_t", "bool": "bool", "enum": "int32_t"}


def _arg_fields(name: str, arg_type: str, description: str) -> list[dict]:
    comment = description.split(". ")[0].rstrip(".")[:90] if description else ""
    if arg_type in _SCALAR_C:
        return [{"declaration": f"{_SCALAR_C[arg_type]} {name}", "comment": comment}]
    if arg_type == "str":
        return [{"declaration": f"const char *{name}", "comment": comment or "NUL-terminated; NULL if not given"}]
    if arg_type.endswith("[]"):
        element = ElementType.parse(arg_type[:-2]).c_type
        return [{"declaration": f"const {element} *{name}", "comment": comment},
                {"declaration": f"uint32_t {name}_count", "comment": ""}]
    element = {"str_list": "const char *const", "f32_list": "const float", "i32_list": "const int32_t",
               "bytes": "const uint8_t"}[arg_type]
    size_name = "len" if arg_type == "bytes" else "count"
    return [{"declaration": f"{element} *{name}", "comment": comment},
            {"declaration": f"uint32_t {name}_{size_name}", "comment": ""}]


def arg_initialisers(arg_type: str, value, symbol: str, choices: list[str]) -> tuple[list[str], list[str]]:
    """(static definitions, struct initialiser values) for one argument."""
    if value is None:
        zero = {"str": ["0"], "str_list": ["0", "0"], "f32_list": ["0", "0"], "i32_list": ["0", "0"],
                "bytes": ["0", "0"]}
        return [], zero.get(arg_type, ["0"])
    if arg_type == "f32":
        return [], [c_float(value)]
    if arg_type == "f64":
        return [], [c_double(value)]
    if arg_type in ("i32", "u32"):
        return [], [_c_integer(value) + ("u" if arg_type == "u32" else "")]
    if arg_type == "bool":
        return [], ["true" if value else "false"]
    if arg_type == "enum":
        return [], [str(choices.index(value))]
    if arg_type == "str":
        return [], [c_string(value)]
    if arg_type == "str_list":
        items = ", ".join(c_string(v) for v in value)
        return [f"static const char *const {symbol}[] = {{{items}}};"], [symbol, str(len(value))]
    if arg_type == "f32_list":
        items = ", ".join(c_float(v) for v in value)
        return [f"static const float {symbol}[] = {{{items}}};"], [symbol, str(len(value))]
    if arg_type == "i32_list":
        items = ", ".join(str(int(v)) for v in value)
        return [f"static const int32_t {symbol}[] = {{{items}}};"], [symbol, str(len(value))]
    if arg_type.endswith("[]"):
        element = ElementType.parse(arg_type[:-2])
        literal = c_float if element is ElementType.F32 else c_double if element is ElementType.F64 else _c_integer
        items = ", ".join(literal(v) for v in value) or "0"
        return [f"static const {element.c_type} {symbol}[] = {{{items}}};"], [symbol, str(len(value))]
    if arg_type == "bytes":
        data = bytes(value)
        items = ",".join(str(b) for b in data) or "0"
        return [f"static const uint8_t {symbol}[] = {{{items}}};"], [symbol, str(len(data))]
    raise ValueError(f"unknown argument type {arg_type}")


def _c_integer(value: int) -> str:
    """An integer literal; the most negative int32 cannot be written as a plain negative literal."""
    return "(-2147483647 - 1)" if int(value) == -2**31 else str(int(value))


def c_identifier(name: str) -> str:
    return re.sub(r"[^A-Za-z0-9_]", "_", name)


def c_string(text: str) -> str:
    """A C string literal for any text (non-printable and non-ASCII bytes as octal escapes)."""
    out = []
    for byte in text.encode("utf-8"):
        ch = chr(byte)
        if ch in "\\\"":
            out.append("\\" + ch)
        elif 32 <= byte < 127 and ch != "?":  # '?' could start a trigraph
            out.append(ch)
        else:
            out.append(f"\\{byte:03o}")
    return '"' + "".join(out) + '"'


def c_float(value: float) -> str:
    """The exact single-precision value as a C literal (rounded once, here)."""
    single = struct.unpack("<f", struct.pack("<f", value))[0]
    return f"{single!r}f" if "e" in repr(single) or "." in repr(single) else f"{single!r}.0f"


def c_double(value: float) -> str:
    text = repr(float(value))
    return text if ("e" in text or "." in text) else text + ".0"
