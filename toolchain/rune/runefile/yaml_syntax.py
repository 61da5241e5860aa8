"""The YAML Runefile (`version: 1`), parsed with line and column numbers for every error."""

from __future__ import annotations

from pathlib import Path

from rune.diagnostics import Diagnostics, Location, RuneError, closest
from rune.runefile.document import (
    STAGE_NAME, Arg, DeclaredTensor, InputRef, ResourceDecl, RunefileDocument, StageDecl, StageKind,
    normalise_arg_name, parse_special_string,
)
from rune.tensors import ElementType, type_names

TOP_LEVEL_KEYS = ("version", "image", "pipeline", "resources")
KIND_KEYS = {
    "capability": StageKind.CAPABILITY,
    "model": StageKind.MODEL,
    "proc-block": StageKind.PROC_BLOCK,
    "proc_block": StageKind.PROC_BLOCK,
    "out": StageKind.OUT,
}
STAGE_KEYS = tuple(KIND_KEYS) + ("inputs", "outputs", "args")
RESOURCE_KEYS = ("path", "inline", "type")
RESOURCE_TYPES = ("string", "binary")


def parse_yaml_runefile(text: str, path: Path, display: str) -> RunefileDocument:
    return _YamlFrontEnd(text, path, display).parse()


class _YamlFrontEnd:
    def __init__(self, text: str, path: Path, display: str):
        self.text = text
        self.path = path
        self.file = display
        self.diag = Diagnostics()
        self.duplicates = Diagnostics()  # reported, but checking goes on (RunefileDocument.errors)

    # -- locations ---------------------------------------------------------------------------

    def at(self, line0: int, col0: int) -> Location:
        return Location(self.file, line0 + 1, col0 + 1)

    def key_at(self, mapping, key) -> Location:
        try:
            return self.at(*mapping.lc.key(key))
        except (AttributeError, KeyError, TypeError):
            return self.node_at(mapping)

    def value_at(self, mapping, key) -> Location:
        try:
            return self.at(*mapping.lc.value(key))
        except (AttributeError, KeyError, TypeError):
            return self.key_at(mapping, key)

    def item_at(self, sequence, index: int) -> Location:
        try:
            return self.at(*sequence.lc.item(index))
        except (AttributeError, KeyError, TypeError, IndexError):
            return self.node_at(sequence)

    def node_at(self, node) -> Location:
        try:
            return self.at(node.lc.line, node.lc.col)
        except AttributeError:  # a plain scalar: point at the document's first line of content
            lines = self.text.splitlines()
            first = next((i for i, line in enumerate(lines) if line.strip() and not line.lstrip().startswith("#")), 0)
            return Location(self.file, first + 1, 1)

    # -- parsing -----------------------------------------------------------------------------

    def load(self):
        from rune.yaml_nodes import YamlSyntaxError, load

        duplicates: list[YamlSyntaxError] = []
        try:
            root = load(self.text, duplicates)
        except YamlSyntaxError as e:
            raise RuneError(_diagnostic(f"invalid YAML: {e}", self.yaml_error_at(e), self.yaml_hint(e))) from None
        for e in duplicates:  # the first value is kept
            self.duplicates.error(str(e), self.yaml_error_at(e), hint=self.yaml_hint(e))
        return root

    def yaml_error_at(self, e) -> Location:
        return self.at(e.line, e.column) if e.line is not None else Location(self.file)

    def yaml_hint(self, e) -> str:
        if "duplicate" in str(e):
            return "every stage and every key of a mapping must have its own name"
        if "levels deep" in str(e):
            return "a Runefile needs only a few levels: stages, their keys, and flat lists"
        lines = self.text.splitlines()
        if e.line is not None and e.line < len(lines) and lines[e.line][e.column:e.column + 1] == "\t":
            return "indent with spaces: YAML does not allow tabs"
        return ("YAML nests by indentation: check the indentation, colons, brackets and quotes here "
                "and on the lines before")

    def parse(self) -> RunefileDocument:
        root = self.load()
        if root is None:
            raise RuneError(_diagnostic("the Runefile is empty", Location(self.file, 1, 1),
                                        "start with 'version: 1' and a 'pipeline:' mapping"))
        if not _is_mapping(root):
            from rune.runefile.legacy_syntax import INSTRUCTIONS

            first = self.text.split(None, 1)[0].split("<")[0].upper() if self.text.split() else ""
            hint = ("this looks like the older Docker-like syntax: name the file 'Runefile'"
                    if first in INSTRUCTIONS else
                    "start with 'version: 1', then 'pipeline:' and the stages indented under it "
                    "(docs/runefile.md)")
            raise RuneError(_diagnostic("a Runefile must be a YAML mapping with 'version' and 'pipeline'",
                                        self.node_at(root), hint))
        for key in root:
            if key not in TOP_LEVEL_KEYS:
                self.unknown_key(root, key, TOP_LEVEL_KEYS, "top-level key")

        self.check_version(root)
        image = None
        if "image" in root:
            image = root["image"]
            if not isinstance(image, str):
                self.diag.error("'image' must be a string such as 'runicos/base'", self.value_at(root, "image"))
                image = None

        stages = self.parse_pipeline(root)
        resources = self.parse_resources(root)
        if self.diag:
            self.diag.items += self.duplicates.items
            self.diag.raise_if_any()
        return RunefileDocument(self.path, "yaml", image, stages, resources, self.duplicates.items)

    def check_version(self, root) -> None:
        if "version" not in root:
            self.diag.error("the Runefile has no 'version'", self.node_at(root),
                            hint="add 'version: 1' at the top")
        elif root["version"] != 1 or isinstance(root["version"], bool):
            self.diag.error(f"unsupported Runefile version {root['version']!r}", self.value_at(root, "version"),
                            hint="this compiler reads 'version: 1'")

    def parse_pipeline(self, root) -> list[StageDecl]:
        if "pipeline" not in root:
            self.diag.error("the Runefile has no 'pipeline'", self.node_at(root),
                            hint="add a 'pipeline:' mapping of stage names to stages")
            return []
        pipeline = root["pipeline"]
        if not _is_mapping(pipeline) or not pipeline:
            self.diag.error("'pipeline' has no stages" if _is_mapping(pipeline)
                            else "'pipeline' must be a mapping of stage names to stages",
                            self.value_at(root, "pipeline"),
                            hint="give it stages: a capability, processing blocks or a model, and an out stage")
            return []
        stages = []
        for name, body in pipeline.items():
            stage = self.parse_stage(pipeline, name, body)
            if stage:
                stages.append(stage)
        return stages

    def parse_stage(self, pipeline, name, body) -> StageDecl | None:
        location = self.key_at(pipeline, name)
        if not isinstance(name, str) or not STAGE_NAME.match(name):
            self.diag.error(f"invalid stage name {name!r}", location,
                            hint="use letters, digits, '_' and '-', starting with a letter or '_'")
            return None
        if not _is_mapping(body):
            self.diag.error("a stage must be a mapping with one of 'capability', 'model', 'proc-block' or 'out'",
                            self.value_at(pipeline, name), stage=name)
            return None
        for key in body:
            if key not in STAGE_KEYS:
                self.unknown_key(body, key, STAGE_KEYS, "stage key", stage=name)
        kinds = [k for k in body if k in KIND_KEYS]
        if len(kinds) != 1:
            what = "none" if not kinds else f"{len(kinds)} ({', '.join(kinds)})"
            self.diag.error(f"a stage needs exactly one of 'capability', 'model', 'proc-block' or 'out', found {what}",
                            location, stage=name)
            return None
        kind_key = kinds[0]
        target = body[kind_key]
        if not isinstance(target, str) or not target.strip():
            self.diag.error(f"'{kind_key}' must be a non-empty string", self.value_at(body, kind_key), stage=name)
            return None
        return StageDecl(
            name=name,
            kind=KIND_KEYS[kind_key],
            target=target.strip(),
            location=location,
            target_location=self.value_at(body, kind_key),
            inputs=self.parse_inputs(body, name),
            outputs=self.parse_outputs(body, name),
            args=self.parse_args(body, name),
        )

    def parse_inputs(self, body, stage: str) -> list[InputRef]:
        if "inputs" not in body:
            return []
        inputs = body["inputs"]
        if isinstance(inputs, str):  # a single input written without a list
            return [r for r in [self.parse_input_ref(inputs, self.value_at(body, "inputs"), stage)] if r]
        if not _is_sequence(inputs):
            self.diag.error("'inputs' must be a list of stage names ('stage' or 'stage.N')",
                            self.value_at(body, "inputs"), stage=stage)
            return []
        refs = []
        for i, item in enumerate(inputs):
            ref = self.parse_input_ref(item, self.item_at(inputs, i), stage)
            if ref:
                refs.append(ref)
        return refs

    def parse_input_ref(self, item, location: Location, stage: str) -> InputRef | None:
        if not isinstance(item, str):
            self.diag.error(f"an input must be a stage name, not {item!r}", location, stage=stage)
            return None
        name, dot, index = item.strip().rpartition(".")
        if not dot or not index.isdigit():
            name, index = item.strip(), "0"
        return InputRef(name, int(index), location)

    def parse_outputs(self, body, stage: str) -> list[DeclaredTensor]:
        if "outputs" not in body:
            return []
        outputs = body["outputs"]
        if not _is_sequence(outputs):
            self.diag.error("'outputs' must be a list of {type, dimensions}", self.value_at(body, "outputs"),
                            stage=stage)
            return []
        declared = []
        for i, item in enumerate(outputs):
            location = self.item_at(outputs, i)
            if not _is_mapping(item):
                self.diag.error("an output must be a mapping with 'type' and 'dimensions'", location, stage=stage)
                continue
            for key in item:
                if key not in ("type", "dimensions"):
                    self.unknown_key(item, key, ("type", "dimensions"), "output key", stage=stage)
            declared.append(DeclaredTensor(self.parse_type(item, stage), self.parse_dimensions(item, stage),
                                           location))
        return declared

    def parse_type(self, output, stage: str) -> ElementType | None:
        if "type" not in output:
            return None
        raw = output["type"]
        try:
            return ElementType.parse(raw)
        except ValueError:
            suggestion = closest(str(raw).lower(), type_names())
            self.diag.error(f"unknown element type {raw!r}", self.value_at(output, "type"), stage=stage,
                            hint=f"did you mean '{suggestion}'?" if suggestion else
                            f"use one of {', '.join(type_names())}")
            return None

    def parse_dimensions(self, output, stage: str) -> tuple[int, ...] | None:
        if "dimensions" not in output:
            return None
        dims = output["dimensions"]
        if isinstance(dims, int) and not isinstance(dims, bool):
            dims = [dims]
        if not isinstance(dims, list) or not all(
                isinstance(d, int) and not isinstance(d, bool) and d > 0 for d in dims):
            self.diag.error(f"'dimensions' must be a list of positive integers, not {_show(dims)}",
                            self.value_at(output, "dimensions"), stage=stage)
            return None
        return tuple(int(d) for d in dims)

    def parse_args(self, body, stage: str) -> dict[str, Arg]:
        if "args" not in body or body["args"] is None:
            return {}
        args = body["args"]
        if not _is_mapping(args):
            self.diag.error("'args' must be a mapping of argument names to values", self.value_at(body, "args"),
                            stage=stage)
            return {}
        parsed: dict[str, Arg] = {}
        for key, value in args.items():
            location = self.key_at(args, key)
            name = normalise_arg_name(key)
            if name in parsed:
                self.diag.error(f"argument '{key}' is given twice (as '{parsed[name].spelled}' and '{key}')",
                                location, stage=stage)
                continue
            value_location = self.value_at(args, key)
            converted = self.arg_value(value, value_location, stage, str(key))
            if converted is not _INVALID:
                parsed[name] = Arg(name, converted, location, spelled=str(key), value_location=value_location)
        return parsed

    def arg_value(self, value, location: Location, stage: str, key: str):
        if _is_sequence(value):
            # Checked before looking inside: a deeply nested list must not recurse (or repeat the error).
            if any(_is_sequence(v) for v in value):
                self.diag.error(f"argument '{key}': nested lists are not supported", location, stage=stage,
                                hint="write a flat list such as [1, 2, 3]")
                return _INVALID
            items = [self.arg_value(v, self.item_at(value, i), stage, key) for i, v in enumerate(value)]
            return _INVALID if _INVALID in items else items
        if _is_mapping(value):
            self.diag.error(f"argument '{key}' must be a number, string or list, not a mapping", location,
                            stage=stage)
            return _INVALID
        if value is None:
            self.diag.error(f"argument '{key}' has no value", location, stage=stage)
            return _INVALID
        if isinstance(value, (bool, int, float)):
            return value
        return parse_special_string(str(value))

    def parse_resources(self, root) -> dict[str, ResourceDecl]:
        if "resources" not in root or root["resources"] is None:
            return {}
        resources = root["resources"]
        if not _is_mapping(resources):
            self.diag.error("'resources' must be a mapping of names to {path | inline, type}",
                            self.value_at(root, "resources"))
            return {}
        parsed = {}
        for name, body in resources.items():
            location = self.key_at(resources, name)
            if not _is_mapping(body):
                self.diag.error(f"resource '{name}' must be a mapping with 'path' or 'inline'", location)
                continue
            for key in body:
                if key not in RESOURCE_KEYS:
                    self.unknown_key(body, key, RESOURCE_KEYS, "resource key")
            decl = ResourceDecl(str(name), location)
            has = [k for k in ("path", "inline") if k in body]
            if len(has) != 1:
                self.diag.error(f"resource '{name}' needs exactly one of 'path' or 'inline'", location)
                continue
            value = body[has[0]]
            if not isinstance(value, str):
                self.diag.error(f"resource '{name}': '{has[0]}' must be a string", self.value_at(body, has[0]))
                continue
            setattr(decl, has[0], str(value))
            rtype = body.get("type", "string")
            if rtype not in RESOURCE_TYPES:
                self.diag.error(f"resource '{name}': unknown type {rtype!r}", self.value_at(body, "type"),
                                hint="use 'string' or 'binary'")
                continue
            decl.type = rtype
            parsed[str(name)] = decl
        return parsed

    def unknown_key(self, mapping, key, allowed, what: str, stage: str | None = None) -> None:
        suggestion = closest(str(key), allowed)
        hint = f"did you mean '{suggestion}'?" if suggestion else f"expected one of: {', '.join(allowed)}"
        self.diag.error(f"unknown {what} '{key}'", self.key_at(mapping, key), stage=stage, hint=hint)


_INVALID = object()


def _is_mapping(node) -> bool:
    from collections.abc import Mapping

    return isinstance(node, Mapping)


def _is_sequence(node) -> bool:
    return isinstance(node, list)


def _show(value) -> str:
    return repr(list(value) if isinstance(value, list) else value)


def _diagnostic(message, location, hint=None):
    from rune.diagnostics import Diagnostic

    return Diagnostic(message, location, hint=hint)
