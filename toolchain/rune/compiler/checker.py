"""Check a Runefile and type every tensor in it, at build time.

Names, wiring, cycles, files, capability kinds, blocks, arguments, resources, element types and
shapes between connected stages, and models against the tensors inside the .tflite: every
problem becomes a diagnostic with file, line, column and stage, and all of them are reported in
one run.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

from rune import capabilities
from rune.blocks.arguments import ArgSpec, ArgumentError, convert
from rune.blocks.derive import derive_values
from rune.blocks.manifest import BlockTypeError
from rune.blocks.registry import BlockNotFound, resolve
from rune.compiler.pipeline import Edge, Pipeline, Resource, Stage
from rune.diagnostics import Diagnostics, Location, RuneError, closest, display_path
from rune.files import read_file
from rune.runefile.document import Arg, DeclaredTensor, RunefileDocument, StageDecl, StageKind
from rune.tensors import TensorType
from rune.tflite.model import ModelError, read_model

OUT_KINDS = ("SERIAL",)
MAX_RANK = 8  # RUNE_MAX_RANK in rune_block.h
MAX_TENSOR_BYTES = 2**31 - 1  # element counts and offsets are 32-bit in the rune (and far beyond any device)


def check(document: RunefileDocument) -> Pipeline:
    return _Checker(document).run()


class _Checker:
    def __init__(self, document: RunefileDocument):
        self.doc = document
        self.diag = Diagnostics(list(document.errors))
        self.notes: list[str] = []
        self.resources: dict[str, Resource] = {}
        self.stages: dict[str, Stage] = {}
        self.decls: dict[str, StageDecl] = {}
        self.broken: set[str] = set()  # stages whose errors make their outputs unknown
        self.unwired: set[str] = set()  # stages with an input that is wrong or in a cycle: inputs unknown

    def run(self) -> Pipeline:
        self.load_resources()
        for decl in self.doc.stages:
            if decl.name in self.decls:
                first = self.decls[decl.name].location
                self.diag.error(f"a stage named '{decl.name}' is already declared at line {first.line}",
                                decl.location, stage=decl.name, hint="give every stage its own name")
                continue
            self.decls[decl.name] = decl
            self.stages[decl.name] = self.resolve_stage(decl)
        self.check_wiring()
        order, blocked = self.execution_order()
        # Stages in or after a cycle have unknown inputs, but what does not depend on them is checked.
        self.unwired.update(blocked)
        for name in order + blocked:
            self.infer(self.decls[name])
        self.diag.raise_if_any()
        stages = [self.stages[name] for name in order]
        for index, stage in enumerate(stages):
            stage.index = index
        positions = {s.name: s.index for s in stages}
        for stage in stages:
            stage.inputs = [Edge(positions[self.producer_name(stage, i)], e.output, e.tensor)
                            for i, e in enumerate(stage.inputs)]
        return Pipeline(self.doc.path, self.doc.syntax, self.doc.image, stages, self.resources, self.notes)

    # -- resources ---------------------------------------------------------------------------

    def load_resources(self) -> None:
        for decl in self.doc.resources.values():
            if decl.inline is not None:
                data = decl.inline.encode("utf-8")
            else:
                path = self.doc.directory / decl.path
                try:
                    data = read_file(path)
                except OSError as e:
                    self.diag.error(f"resource '{decl.name}': cannot read {display_path(path)} ({e.strerror})",
                                    decl.location, hint="paths are relative to the Runefile's folder")
                    continue
            if decl.type == "string":
                try:
                    data.decode("utf-8")
                except UnicodeDecodeError:
                    self.diag.error(f"resource '{decl.name}' is declared as a string but is not UTF-8 text",
                                    decl.location, hint="declare it with 'type: binary'")
                    continue
            self.resources[decl.name] = Resource(decl.name, decl.type, data)

    def read_resource(self, name: str) -> bytes:
        if name in self.resources:
            return self.resources[name].data
        if name in self.doc.resources:  # declared but unreadable: already reported
            raise _AlreadyReported
        suggestion = closest(name, self.doc.resources)
        raise ArgumentError(f"unknown resource ${name}",
                            f"did you mean ${suggestion}?" if suggestion else
                            "declare it under 'resources:' (YAML Runefiles only)")

    # -- stages ------------------------------------------------------------------------------

    def resolve_stage(self, decl: StageDecl) -> Stage:
        stage = Stage(-1, decl.name, decl.kind, decl.target, decl.location)
        resolver = {
            StageKind.CAPABILITY: self.resolve_capability,
            StageKind.PROC_BLOCK: self.resolve_block,
            StageKind.MODEL: self.resolve_model,
            StageKind.OUT: self.resolve_out,
        }[decl.kind]
        if not resolver(decl, stage):
            self.broken.add(decl.name)
        return stage

    def resolve_capability(self, decl: StageDecl, stage: Stage) -> bool:
        kind = capabilities.KINDS.get(decl.target.upper())
        if kind is None:
            suggestion = closest(decl.target.upper(), capabilities.KINDS)
            self.diag.error(f"unknown capability '{decl.target}'", decl.target_location, stage=decl.name,
                            hint=(f"did you mean '{suggestion}'? " if suggestion else "") +
                            f"capabilities: {', '.join(capabilities.KINDS)}")
            return False
        stage.capability = kind.name
        declared = decl.outputs[0] if len(decl.outputs) == 1 else None
        if len(decl.outputs) > 1:
            self.diag.error(f"a capability has one output, {len(decl.outputs)} are declared",
                            decl.outputs[1].location, stage=decl.name)
            return False
        stage.args = self.convert_args(decl, kind.args, kind.arg_spec, f"the {kind.name} capability")
        if stage.args is None:
            return False
        if declared and declared.shape is not None:
            capabilities.prepare_args(kind, stage.args, TensorType(declared.dtype or kind.default_type,
                                                                   declared.shape))
        missing = [a.name for a in kind.args.values() if a.required and a.name not in stage.args]
        if missing:
            self.diag.error(f"the {kind.name} capability needs the argument(s) {', '.join(missing)}",
                            decl.location, stage=decl.name,
                            hint=f"add them under 'args:' (or as --{missing[0].replace('_', '-')} VALUE)")
            return False
        return True

    def resolve_block(self, decl: StageDecl, stage: Stage) -> bool:
        try:
            resolution = resolve(decl.target, self.doc.directory)
        except BlockNotFound as e:
            self.diag.error(str(e), decl.target_location, stage=decl.name, hint=e.hint)
            return False
        except RuneError as e:  # a broken block manifest
            self.diag.extend(e)
            return False
        if resolution.note:
            self.notes.append(f"stage '{decl.name}': {resolution.note}")
        stage.block = resolution.manifest
        stage.args = self.convert_args(decl, stage.block.args, stage.block.arg_spec, f"block '{stage.block.name}'")
        if stage.args is None:
            return False
        missing = stage.block.missing_args(stage.args)
        if missing:
            self.diag.error(f"block '{stage.block.name}' needs the argument(s) {', '.join(missing)}",
                            decl.location, stage=decl.name,
                            hint="; ".join(f"{n}: {stage.block.args[n].description}" for n in missing))
            return False
        return True

    def resolve_model(self, decl: StageDecl, stage: Stage) -> bool:
        path = (self.doc.directory / decl.target).resolve()
        try:
            data = read_file(path)
        except OSError as e:
            self.diag.error(f"cannot read the model {display_path(path)} ({e.strerror})", decl.target_location,
                            stage=decl.name, hint="model paths are relative to the Runefile's folder")
            return False
        try:
            stage.model = read_model(data)
        except ModelError as e:
            self.diag.error(f"{display_path(path)}: {e}", decl.target_location, stage=decl.name)
            return False
        stage.model_path, stage.model_data = path, data
        if decl.args:
            first = next(iter(decl.args.values()))
            self.diag.error("a model stage takes no arguments", first.location, stage=decl.name)
        for tensor in stage.model.inputs + stage.model.outputs:
            if tensor.element_type is None:
                self.diag.error(f"tensor '{tensor.name}' of the model has the unsupported element type "
                                f"{tensor.type_name}", decl.target_location, stage=decl.name)
                return False
        return True

    def resolve_out(self, decl: StageDecl, stage: Stage) -> bool:
        if decl.target.upper() not in OUT_KINDS:
            self.diag.error(f"unknown output kind '{decl.target}'", decl.target_location, stage=decl.name,
                            hint=f"outputs: {', '.join(OUT_KINDS)}")
            return False
        stage.out_kind = decl.target.upper()
        if decl.outputs:
            self.diag.error("an out stage produces no tensors; remove its 'outputs'", decl.outputs[0].location,
                            stage=decl.name)
        if decl.args:
            first = next(iter(decl.args.values()))
            self.diag.error(f"an out stage takes no arguments ('{first.spelled}')", first.location, stage=decl.name)
        return True

    def convert_args(self, decl: StageDecl, specs: dict[str, ArgSpec], lookup, what: str) -> dict[str, Any] | None:
        values: dict[str, Any] = {}
        ok = True
        for arg in decl.args.values():
            spec = lookup(arg.name)
            if spec is None:
                ok = False
                suggestion = closest(arg.name, list(specs) + [a for s in specs.values() for a in s.aliases])
                accepted = ", ".join(specs) or "none"
                self.diag.error(f"unknown argument '{arg.spelled}' for {what}", arg.location, stage=decl.name,
                                hint=f"did you mean '{suggestion}'?" if suggestion else f"arguments: {accepted}")
                continue
            if spec.name in values:
                ok = False
                self.diag.error(f"argument '{spec.name}' is given twice (also as an alias)", arg.location,
                                stage=decl.name)
                continue
            converted = self.convert_arg(spec, arg, decl.name)
            if converted is None:
                ok = False
                continue
            values[spec.name] = converted
        for spec in specs.values():
            if spec.name not in values and spec.default is not None:
                values[spec.name] = spec.default
        return values if ok else None

    def convert_arg(self, spec: ArgSpec, arg: Arg, stage: str):
        try:
            return convert(spec, arg.value, self.read_resource)
        except _AlreadyReported:
            return None
        except ArgumentError as e:
            self.diag.error(f"argument '{arg.spelled}' ({spec.describe_type()}): {e}", arg.value_location,
                            stage=stage, hint=e.hint)
            return None

    # -- wiring ------------------------------------------------------------------------------

    def check_wiring(self) -> None:
        for decl in self.decls.values():
            if decl.kind is StageKind.CAPABILITY and decl.inputs:
                self.diag.error("a capability takes no inputs", decl.inputs[0].location, stage=decl.name,
                                hint="capabilities are where data enters the pipeline")
            if decl.kind is not StageKind.CAPABILITY and not decl.inputs:
                self.diag.error("this stage has no inputs", decl.location, stage=decl.name,
                                hint="list the stages it reads under 'inputs:' (or connect it with RUN)")
                self.unwired.add(decl.name)
            for ref in decl.inputs:
                if ref.stage == decl.name:
                    self.diag.error("a stage cannot read its own output", ref.location, stage=decl.name)
                    self.unwired.add(decl.name)
                elif ref.stage not in self.decls:
                    suggestion = closest(ref.stage, self.decls)
                    self.diag.error(f"unknown input '{ref.stage}'", ref.location, stage=decl.name,
                                    hint=f"did you mean '{suggestion}'?" if suggestion else
                                    f"stages: {', '.join(self.decls)}")
                    self.unwired.add(decl.name)
                elif self.decls[ref.stage].kind is StageKind.OUT:
                    self.diag.error(f"'{ref.stage}' is an out stage and produces nothing to read", ref.location,
                                    stage=decl.name)
                    self.unwired.add(decl.name)

    def valid_edges(self, decl: StageDecl) -> set[str]:
        """The stages a stage really reads (bad references are reported by check_wiring)."""
        return {r.stage for r in decl.inputs if r.stage in self.decls and r.stage != decl.name
                and self.decls[r.stage].kind is not StageKind.OUT}

    def execution_order(self) -> tuple[list[str], list[str]]:
        """Stages in an order where every input is produced first (declaration order breaks ties),
        and the stages that cannot be ordered because they are in a cycle or after one."""
        position = {name: i for i, name in enumerate(self.decls)}
        waiting = {name: self.valid_edges(d) for name, d in self.decls.items()}
        order: list[str] = []
        ready = sorted((n for n, deps in waiting.items() if not deps), key=position.get)
        while ready:
            name = ready.pop(0)
            order.append(name)
            for other, deps in waiting.items():
                if name in deps:
                    deps.discard(name)
                    if not deps and other not in order and other not in ready:
                        ready.append(other)
                        ready.sort(key=position.get)
        blocked = [n for n in self.decls if n not in order]
        self.report_cycles(blocked)
        return order, blocked

    def report_cycles(self, blocked: list[str]) -> None:
        """One error for each group of stages that read each other, directly or not (the other
        blocked stages are only downstream of such a group)."""
        upstream = {name: self.upstream(name, blocked) for name in blocked}
        reported: set[str] = set()
        for name in blocked:
            if name in reported or name not in upstream[name]:
                continue
            group = [other for other in blocked if other in upstream[name] and name in upstream[other]]
            reported.update(group)
            cycle = self.find_cycle(group)
            first = self.decls[cycle[0]]
            self.diag.error(f"the stages {' -> '.join(cycle + cycle[:1])} form a cycle", first.location,
                            stage=first.name, hint="a pipeline flows one way: remove one of these inputs")

    def upstream(self, name: str, among: list[str]) -> set[str]:
        """The stages among `among` that `name` reads, directly or through others of them."""
        allowed, found, todo = set(among), set(), [name]
        while todo:
            for producer in self.valid_edges(self.decls[todo.pop()]) & allowed:
                if producer not in found:
                    found.add(producer)
                    todo.append(producer)
        return found

    def find_cycle(self, group: list[str]) -> list[str]:
        """A cycle through stages that all read each other (inputs from outside the group are ignored)."""
        rank = {name: i for i, name in enumerate(group)}
        path: list[str] = []
        name = group[0]
        while name not in path:
            path.append(name)
            name = min((n for n in self.valid_edges(self.decls[name]) if n in rank), key=rank.get)
        return path[path.index(name):][::-1]

    # -- types -------------------------------------------------------------------------------

    def producer_name(self, stage: Stage, input_index: int) -> str:
        return self.decls[stage.name].inputs[input_index].stage

    def infer(self, decl: StageDecl) -> None:
        stage = self.stages[decl.name]
        if decl.name in self.broken:
            return
        inputs = None if decl.name in self.unwired else self.input_tensors(decl)
        try:
            if decl.kind is StageKind.MODEL:  # its outputs come from the .tflite, whatever its inputs
                self.infer_model(decl, stage, inputs)
            elif inputs is None:
                raise _StageFailed
            elif decl.kind is StageKind.CAPABILITY:
                self.infer_capability(decl, stage)
            elif decl.kind is StageKind.PROC_BLOCK:
                self.infer_block(decl, stage, inputs)
            self.check_sizes(decl, stage.outputs)
        except _StageFailed:
            self.broken.add(decl.name)
            return
        stage.inputs = [Edge(-1, ref.index, tensor) for ref, tensor in zip(decl.inputs, inputs or [])]

    def input_tensors(self, decl: StageDecl) -> list[TensorType] | None:
        tensors = []
        for i, ref in enumerate(decl.inputs):
            if ref.stage in self.broken:
                return None  # already reported at its source
            producer = self.stages[ref.stage]
            if ref.index >= len(producer.outputs):
                self.diag.error(f"'{ref.stage}' has {len(producer.outputs)} output(s); there is no output "
                                f"{ref.index}", ref.location, stage=decl.name,
                                hint=f"outputs are numbered from 0: '{ref.stage}' or '{ref.stage}.1'")
                return None
            tensor = producer.outputs[ref.index]
            if i < len(decl.declared_inputs):
                expected = decl.declared_inputs[i]
                if not self.matches(expected, tensor):
                    self.diag.error(f"declares its input as {expected}, but '{ref}' produces {tensor}",
                                    expected.location, stage=decl.name,
                                    hint=f"declare the input as {tensor} (or '_' to infer it)")
                    return None
            tensors.append(tensor)
        return tensors

    @staticmethod
    def matches(declared: DeclaredTensor, tensor: TensorType) -> bool:
        if declared.dtype is not None and declared.dtype != tensor.dtype:
            return False
        return declared.shape is None or TensorType(tensor.dtype, declared.shape).compatible_with(tensor)

    def reconcile(self, decl: StageDecl, produced: list[TensorType], what: str) -> list[TensorType]:
        """Check declared outputs against what the stage produces; the declared shape names the tensor."""
        if not decl.outputs:
            return produced
        if len(decl.outputs) != len(produced):
            self.diag.error(f"declares {len(decl.outputs)} output(s), but {what} produces {len(produced)}: "
                            f"{', '.join(map(str, produced))}", decl.outputs[0].location, stage=decl.name)
            raise _StageFailed
        result = []
        for declared, tensor in zip(decl.outputs, produced):
            if not self.matches(declared, tensor):
                self.diag.error(f"declares the output {declared}, but {what} produces {tensor}", declared.location,
                                stage=decl.name, hint=f"declare it as type {tensor.dtype}, dimensions "
                                f"{list(tensor.shape)}")
                raise _StageFailed
            # The declared shape names the tensor; the producer's attributes stay with it.
            result.append(tensor.reshaped(declared.shape) if declared.shape is not None else tensor)
        return result

    def infer_capability(self, decl: StageDecl, stage: Stage) -> None:
        kind = capabilities.KINDS[stage.capability]
        declared = decl.outputs[0] if decl.outputs else None
        declared_tensor = None
        if declared and declared.shape is not None:
            declared_tensor = TensorType(declared.dtype or kind.default_type, declared.shape)
        try:
            tensor = capabilities.infer_output(kind, stage.args, declared.dtype if declared else None, declared_tensor)
        except (ValueError, KeyError) as e:
            self.diag.error(str(e), declared.location if declared else decl.location, stage=decl.name)
            raise _StageFailed from None
        if kind.name == "RAND":
            try:
                capabilities.check_random_range(tensor.dtype, stage.args.get("min"), stage.args.get("max"))
            except capabilities.RangeError as e:
                arg = decl.args.get(e.arg)
                self.diag.error(str(e), (arg.value_location or arg.location) if arg else decl.location,
                                stage=decl.name)
                raise _StageFailed from None
        stage.outputs = self.reconcile(decl, [tensor], f"the {kind.name} capability")

    def infer_block(self, decl: StageDecl, stage: Stage, inputs: list[TensorType]) -> None:
        block = stage.block
        try:
            stage.args = block.complete_args(inputs, stage.args)  # defaults that follow the inputs
            stage.derived = derive_values(block, stage.args)
            values = {**stage.args, **stage.derived}
            produced = block.infer(inputs, values)
            stage.state_bytes, stage.scratch_bytes = block.memory(inputs, values)
        except BlockTypeError as e:
            subject = decl.args.get(e.subject) if e.subject else None
            where = subject.value_location if subject else decl.inputs[0].location if decl.inputs else decl.location
            self.diag.error(f"block '{block.name}' {e}" if str(e).startswith(("input", "takes"))
                            else f"block '{block.name}': {e}", where, stage=decl.name, hint=e.hint)
            raise _StageFailed from None
        stage.outputs = self.reconcile(decl, produced, f"block '{block.name}'")

    def infer_model(self, decl: StageDecl, stage: Stage, inputs: list[TensorType] | None) -> None:
        """Check the connected inputs (if they are known) against the model's, and the declared
        outputs against the model's in any case."""
        model = stage.model
        if inputs is not None and len(inputs) != len(model.inputs):
            self.diag.error(f"the model takes {len(model.inputs)} input(s) "
                            f"({', '.join(t.describe() for t in model.inputs)}), but {len(inputs)} are connected",
                            decl.location, stage=decl.name,
                            hint=f"connect {len(model.inputs)} stage(s), one per model input, in the model's order")
            inputs = None
        for ref, tensor, expected in zip(decl.inputs, inputs or [], model.inputs):
            wanted = expected.tensor_type
            if not tensor.compatible_with(wanted):
                self.diag.error(f"input '{ref}' is {tensor}, but the model's input '{expected.name}' is {wanted}",
                                ref.location, stage=decl.name, hint=_conversion_hint(tensor, wanted))
        stage.outputs = self.reconcile(decl, [t.tensor_type for t in model.outputs], "the model")

    def check_sizes(self, decl: StageDecl, tensors: list[TensorType]) -> None:
        """Tensors the generated C and a 32-bit rune can hold (the checker is the place to say so,
        not the C compiler or the memory limit)."""
        for i, tensor in enumerate(tensors):
            where = decl.outputs[i].location if i < len(decl.outputs) else decl.location
            if len(tensor.shape) > MAX_RANK:
                self.diag.error(f"output {i} is {tensor}, with {len(tensor.shape)} dimensions; a tensor may have "
                                f"at most {MAX_RANK}", where, stage=decl.name,
                                hint="drop dimensions of size 1 or merge dimensions")
                raise _StageFailed
            if tensor.bytes > MAX_TENSOR_BYTES:
                self.diag.error(f"output {i} is {tensor}, {tensor.bytes:,} bytes; a tensor may take at most "
                                f"{MAX_TENSOR_BYTES:,} bytes", where, stage=decl.name,
                                hint="check its dimensions (a rune's whole memory is a few dozen KiB on a "
                                     "microcontroller)")
                raise _StageFailed


class _AlreadyReported(Exception):
    """An argument refers to something whose error has been reported already."""


class _StageFailed(Exception):
    """This stage's outputs are unknown; stages reading them are skipped (their error is reported)."""


def _conversion_hint(have: TensorType, want: TensorType) -> str:
    if have.dtype != want.dtype:
        return f"convert it to {want.dtype} with a processing block, or declare the source as {want.dtype}"
    return f"reshape or resize it to {list(want.shape)} ({want.count} elements; it has {have.count})"
