"""A processing block's manifest (block.yaml): what it accepts, what it produces, its arguments.

The manifest is data: output types and shapes are expressions over the inputs and arguments
(see expressions.py), so the compiler checks a whole pipeline without running anything.
"""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from rune.blocks.arguments import ArgSpec, ArgumentError, convert
from rune.blocks.expressions import ExpressionError, TensorView, evaluate, referenced_names
from rune.diagnostics import Diagnostic, Location, RuneError, display_path
from rune.tensors import ElementType, TensorType

TYPE_GROUPS = {
    "any": [t for t in ElementType],
    "numeric": [t for t in ElementType if t.is_numeric],
    "integer": [t for t in ElementType if t.is_integer],
    "float": [t for t in ElementType if t.is_float],
}


class BlockTypeError(ValueError):
    """The block cannot accept these inputs or arguments."""

    def __init__(self, message: str, hint: str | None = None, subject: str | None = None):
        super().__init__(message)
        self.hint = hint
        self.subject = subject  # the argument the problem is about, if one is


@dataclass
class InputSpec:
    name: str
    types: list[ElementType]
    description: str = ""


@dataclass
class OutputSpec:
    name: str
    type: str  # an element type name or an expression
    shape: Any  # a list of expressions or one expression giving a list
    description: str = ""
    attributes: dict[str, Any] = field(default_factory=dict)  # name -> expression, see TensorType


@dataclass
class Check:
    expr: str
    message: str


@dataclass
class BlockManifest:
    name: str
    description: str
    folder: Path
    sources: list[Path]
    inputs: list[InputSpec]
    outputs: list[OutputSpec]
    args: dict[str, ArgSpec]
    checks: list[Check] = field(default_factory=list)
    state_bytes: Any = 0
    scratch_bytes: Any = 0
    has_init: bool = False
    builtin: bool = False
    libraries: list[str] = field(default_factory=list)
    derive_script: str | None = None
    derive_values: dict[str, str] = field(default_factory=dict)  # name -> type, e.g. "i16[]"

    @property
    def c_name(self) -> str:
        return self.name

    @property
    def reference_path(self) -> Path:
        return self.folder / "reference.py"

    @property
    def source_dirs(self) -> list[Path]:
        """The folders whose C sources are compiled for this block: its own and its libraries'."""
        from rune.blocks.python_modules import library_dirs

        return [self.folder, *library_dirs(self.libraries)]

    def arg_spec(self, name: str) -> ArgSpec | None:
        """The argument called `name` or known by that alias."""
        if name in self.args:
            return self.args[name]
        return next((a for a in self.args.values() if name in a.aliases), None)

    def names(self, inputs: list[TensorType], args: dict[str, Any]) -> dict[str, Any]:
        views = [TensorView(t.dtype.type_name, list(t.shape), t.count, len(t.shape), dict(t.attributes))
                 for t in inputs]
        names = {name: None for name in self.args}  # an optional argument not given is None
        names.update(args)
        for spec, view in zip(self.inputs, views):
            names[spec.name] = view
        names["inputs"] = views
        if views:
            names.setdefault("input", views[0])
        return names

    def missing_args(self, given) -> list[str]:
        """The required arguments not among `given` (names)."""
        return [spec.name for spec in self.args.values() if spec.required and spec.name not in given]

    def complete_args(self, inputs: list[TensorType], args: dict[str, Any]) -> dict[str, Any]:
        """The arguments with the defaults that depend on the inputs (`default_expr`) filled in.

        Called before `derive` and `infer`: such a default may follow what the producer of an
        input declares about it, as noise_filtering's correction_bits follows the fft block's
        FFT length."""
        missing = [spec for spec in self.args.values() if spec.default_expr and args.get(spec.name) is None]
        if not missing:
            return args
        names = self.names(inputs, args)
        completed = dict(args)
        for spec in missing:
            try:
                value = evaluate(spec.default_expr, names)
                # None leaves the argument unset, as if it had no default (an optional argument)
                if value is not None:
                    completed[spec.name] = convert(spec, value, lambda name: b"")
            except ExpressionError as e:
                raise BlockTypeError(f"the manifest of '{self.name}' has a bad default for '{spec.name}': {e}") from None
            except ArgumentError as e:
                raise BlockTypeError(f"'{spec.name}' cannot be derived from the inputs: {e}",
                                     f"give {spec.name} explicitly", subject=spec.name) from None
        return completed

    def infer(self, inputs: list[TensorType], args: dict[str, Any]) -> list[TensorType]:
        """The output types for these inputs and (already converted) arguments."""
        if len(inputs) != len(self.inputs):
            expected = ", ".join(i.name for i in self.inputs)
            raise BlockTypeError(f"takes {len(self.inputs)} input(s) ({expected}), got {len(inputs)}")
        for spec, tensor in zip(self.inputs, inputs):
            if tensor.dtype not in spec.types:
                accepted = ", ".join(t.type_name for t in spec.types)
                raise BlockTypeError(f"input '{spec.name}' cannot be {tensor.dtype}",
                                     f"'{self.name}' accepts {accepted}")
        names = self.names(inputs, args)
        try:
            for check in self.checks:
                if not evaluate(check.expr, names):
                    mentioned = [n for n in referenced_names(check.expr) if n in args]
                    raise BlockTypeError(_format_message(check.message, names),
                                         subject=mentioned[0] if mentioned else None)
            return [self._infer_output(spec, names) for spec in self.outputs]
        except ExpressionError as e:
            raise BlockTypeError(f"the manifest of '{self.name}' has a bad expression: {e}") from None

    def _infer_output(self, spec: OutputSpec, names: dict) -> TensorType:
        try:
            dtype = ElementType.parse(spec.type)
        except ValueError:
            dtype = ElementType.parse(evaluate(spec.type, names))
        if isinstance(spec.shape, list):
            shape = [evaluate(d, names) for d in spec.shape]
        else:
            shape = evaluate(spec.shape, names)
        shape = tuple(int(d) for d in shape)
        if any(d <= 0 for d in shape):
            raise BlockTypeError(f"output '{spec.name}' would have the shape {list(shape)}",
                                 "check the block's arguments against its input size")
        # An attribute whose expression gives None is not declared (e.g. one that only a mode has).
        attributes = {name: evaluate(expr, names) for name, expr in spec.attributes.items()}
        return TensorType(dtype, shape, {name: value for name, value in attributes.items() if value is not None})

    def memory(self, inputs: list[TensorType], args: dict[str, Any]) -> tuple[int, int]:
        """(state bytes, scratch bytes) for these inputs and arguments."""
        names = self.names(inputs, args)
        try:
            return int(evaluate(self.state_bytes, names)), int(evaluate(self.scratch_bytes, names))
        except ExpressionError as e:
            raise BlockTypeError(f"the manifest of '{self.name}' has a bad size expression: {e}") from None


def _format_message(message: str, names: dict) -> str:
    try:
        return message.format(**{k: v for k, v in names.items() if not k.startswith("_")})
    except (KeyError, IndexError, ValueError, AttributeError):
        return message


# -- loading ----------------------------------------------------------------------------------

MANIFEST_NAME = "block.yaml"
_SCHEMA_PATH = Path(__file__).with_name("block.schema.json")


def load_manifest(folder: Path, builtin: bool = False) -> BlockManifest:
    path = folder / MANIFEST_NAME
    display = display_path(path)
    try:
        text = path.read_text(encoding="utf-8")
    except OSError as e:
        raise RuneError(Diagnostic(f"cannot read the block manifest: {e.strerror or e}", Location(display))) from None
    data = _load_yaml(text, display)
    _validate(data, text, display)
    return _build(data, folder, builtin, display)


def _load_yaml(text: str, display: str):
    from rune.yaml_nodes import YamlSyntaxError, load

    try:
        return load(text)
    except YamlSyntaxError as e:
        location = Location(display, e.line + 1, e.column + 1) if e.line is not None else Location(display)
        raise RuneError(Diagnostic(f"invalid YAML: {e}", location)) from None


def _validate(data, text: str, display: str) -> None:
    """Check the manifest against block.schema.json; a manifest that passed once is remembered."""
    from rune.schemas import schema_errors

    plain = json.loads(json.dumps(data, default=str))
    errors = sorted(schema_errors(_SCHEMA_PATH, plain, text.encode("utf-8")), key=lambda e: list(e.absolute_path))
    if errors:
        raise RuneError([Diagnostic(f"{_path_text(e.absolute_path)}: {e.message}", _locate(data, e.absolute_path, display))
                         for e in errors])


def _path_text(path) -> str:
    return ".".join(str(p) for p in path) or "manifest"


def _locate(root, path, display: str) -> Location:
    """The line and column of a JSON path inside the located document."""
    node, line, column = root, 0, 0
    for part in path:
        try:
            if isinstance(part, int):
                line, column = node.lc.item(part)
            else:
                line, column = node.lc.key(part)
            node = node[part]
        except (AttributeError, KeyError, IndexError, TypeError):
            break
    return Location(display, line + 1, column + 1)


def _build(data, folder: Path, builtin: bool, display: str) -> BlockManifest:
    diagnostics = []

    def types_of(spec) -> list[ElementType]:
        if isinstance(spec, str):
            return TYPE_GROUPS[spec]
        result = []
        for name in spec:
            try:
                result.append(ElementType.parse(name))
            except ValueError as e:
                diagnostics.append(Diagnostic(str(e), Location(display)))
        return result

    args = {}
    for name, spec in (data.get("args") or {}).items():
        args[str(name)] = ArgSpec(
            name=str(name), type=spec["type"], description=str(spec.get("description", "")).strip(),
            default=_plain(spec.get("default")), required=bool(spec.get("required", False)),
            values=[str(v) for v in spec.get("values", [])], enum=spec.get("enum"),
            aliases=[str(a).replace("-", "_") for a in spec.get("aliases", [])],
            minimum=spec.get("minimum"), maximum=spec.get("maximum"),
            default_expr=str(spec["default_expr"]) if "default_expr" in spec else None)
        if "default" in spec and "default_expr" in spec:
            diagnostics.append(Diagnostic(f"argument '{name}' has both 'default' and 'default_expr'",
                                          Location(display)))
        if spec["type"] == "enum" and not spec.get("values"):
            diagnostics.append(Diagnostic(f"enum argument '{name}' needs 'values'", Location(display)))
    name = str(data["name"])
    manifest = BlockManifest(
        name=name,
        description=str(data["description"]).strip(),
        folder=folder,
        sources=sorted(folder.glob("*.c")),
        # descriptions folded with '>' end with a newline
        inputs=[InputSpec(str(i["name"]), types_of(i["types"]), str(i.get("description", "")).strip())
                for i in data["inputs"]],
        outputs=[OutputSpec(str(o["name"]), str(o["type"]), _plain(o["shape"]), str(o.get("description", "")).strip(),
                            _plain(o.get("attributes") or {}))
                 for o in data["outputs"]],
        args=args,
        checks=[Check(str(c["expr"]), str(c["message"])) for c in data.get("checks", [])],
        state_bytes=_plain(data.get("state_bytes", 0)),
        scratch_bytes=_plain(data.get("scratch_bytes", 0)),
        has_init=bool(data.get("init", False)),
        builtin=builtin,
        libraries=[str(name) for name in data.get("libraries", [])],
        derive_script=str(data["derive"]["script"]) if "derive" in data else None,
        derive_values={str(k): str(v) for k, v in data["derive"]["values"].items()} if "derive" in data else {},
    )
    from rune.blocks.python_modules import library_dirs

    for name, folder in zip(manifest.libraries, library_dirs(manifest.libraries)):
        if not folder.is_dir():
            diagnostics.append(Diagnostic(f"the library '{name}' does not exist (expected {folder})", Location(display)))
    if manifest.derive_script and not (manifest.folder / manifest.derive_script).is_file():
        diagnostics.append(Diagnostic(f"the derive script {manifest.derive_script} is missing", Location(display)))
    if not manifest.sources:
        diagnostics.append(Diagnostic(f"the block folder has no C source (expected {name}.c)", Location(display)))
    if diagnostics:
        raise RuneError(diagnostics)
    return manifest


def _plain(value):
    """Located containers as plain Python values."""
    if isinstance(value, dict):
        return {str(k): _plain(v) for k, v in value.items()}
    if isinstance(value, list):
        return [_plain(v) for v in value]
    if isinstance(value, bool):
        return bool(value)
    if isinstance(value, int):
        return int(value)
    if isinstance(value, float):
        return float(value)
    if isinstance(value, str):
        return str(value)
    return value
