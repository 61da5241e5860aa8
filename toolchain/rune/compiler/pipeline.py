"""A checked pipeline: stages in execution order with every tensor's element type and shape known."""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from rune.blocks.manifest import BlockManifest
from rune.diagnostics import Location
from rune.runefile.document import StageKind
from rune.tensors import TensorType
from rune.tflite.model import ModelInfo


@dataclass
class Edge:
    """An input of a stage: output `output` of the stage at position `stage`."""

    stage: int
    output: int
    tensor: TensorType


@dataclass
class Stage:
    index: int  # position in execution order
    name: str
    kind: StageKind
    target: str  # as written in the Runefile
    location: Location
    inputs: list[Edge] = field(default_factory=list)
    outputs: list[TensorType] = field(default_factory=list)
    args: dict[str, Any] = field(default_factory=dict)
    derived: dict[str, Any] = field(default_factory=dict)  # a block's build-time constants
    capability: str | None = None  # RAND, SOUND, ...
    block: BlockManifest | None = None
    model_path: Path | None = None
    model_data: bytes | None = None
    model: ModelInfo | None = None
    out_kind: str | None = None  # SERIAL
    state_bytes: int = 0
    scratch_bytes: int = 0

    @property
    def kind_label(self) -> str:
        if self.kind is StageKind.CAPABILITY:
            return self.capability or "capability"
        if self.kind is StageKind.PROC_BLOCK:
            return self.block.name if self.block else "proc-block"
        if self.kind is StageKind.MODEL:
            return "model"
        return self.out_kind or "out"


@dataclass
class Resource:
    name: str
    type: str  # "string" or "binary"
    data: bytes


@dataclass
class Pipeline:
    source: Path  # the Runefile
    syntax: str
    image: str | None
    stages: list[Stage]
    resources: dict[str, Resource] = field(default_factory=dict)
    notes: list[str] = field(default_factory=list)  # for the build log

    def of_kind(self, kind: StageKind) -> list[Stage]:
        return [s for s in self.stages if s.kind is kind]

    def stage(self, name: str) -> Stage:
        return next(s for s in self.stages if s.name == name)
