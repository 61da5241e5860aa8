"""What a Runefile says, before any checking: stages, their wiring and arguments, with locations.

Both front ends (YAML and the older Docker-like syntax) produce a `RunefileDocument`; the
compiler's checker turns it into a typed pipeline.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from enum import Enum
from pathlib import Path
from typing import Any

from rune.diagnostics import Diagnostic, Location
from rune.tensors import ElementType

STAGE_NAME = re.compile(r"^[A-Za-z_][A-Za-z0-9_\-]*$")
ENUM_VALUE = re.compile(r"^@(?P<enum>[A-Za-z_][A-Za-z0-9_]*)::(?P<value>[A-Za-z_][A-Za-z0-9_]*)$")
RESOURCE_REF = re.compile(r"^\$(?P<name>[A-Za-z_][A-Za-z0-9_]*)$")


class StageKind(Enum):
    CAPABILITY = "capability"
    MODEL = "model"
    PROC_BLOCK = "proc-block"
    OUT = "out"


@dataclass(frozen=True)
class EnumValue:
    """`@PixelFormat::GrayScale`: a value of a named enumeration."""

    enum: str
    value: str

    def __str__(self) -> str:
        return f"@{self.enum}::{self.value}"


@dataclass(frozen=True)
class ResourceRef:
    """`$WORD_LIST`: the contents of a resource declared in `resources`."""

    name: str

    def __str__(self) -> str:
        return f"${self.name}"


@dataclass
class Arg:
    name: str  # normalised: "pixel-format" and "pixel_format" are both "pixel_format"
    value: Any  # int, float, str, bool, list, EnumValue or ResourceRef
    location: Location  # of the name
    spelled: str = ""  # the name as written, for messages
    value_location: Location | None = None

    def __post_init__(self):
        self.spelled = self.spelled or self.name
        self.value_location = self.value_location or self.location


def normalise_arg_name(name: str) -> str:
    return str(name).strip().replace("-", "_")


def parse_special_string(text: str):
    """Recognise `@Enum::Value` and `$RESOURCE` forms; other strings are returned unchanged."""
    if isinstance(text, str):
        if m := ENUM_VALUE.match(text.strip()):
            return EnumValue(m["enum"], m["value"])
        if m := RESOURCE_REF.match(text.strip()):
            return ResourceRef(m["name"])
    return text


@dataclass
class InputRef:
    stage: str
    index: int  # which output of that stage
    location: Location

    def __str__(self) -> str:
        return self.stage if self.index == 0 else f"{self.stage}.{self.index}"


@dataclass
class DeclaredTensor:
    """An output as the Runefile declares it; None parts are to be inferred."""

    dtype: ElementType | None
    shape: tuple[int, ...] | None
    location: Location

    def __str__(self) -> str:
        dtype = self.dtype.type_name if self.dtype else "_"
        if self.shape is None:
            return dtype
        return f"{dtype}[{', '.join(map(str, self.shape))}]"


@dataclass
class StageDecl:
    name: str
    kind: StageKind
    target: str  # capability kind, model path, proc-block reference or out kind
    location: Location  # where the stage is named
    target_location: Location
    inputs: list[InputRef] = field(default_factory=list)
    outputs: list[DeclaredTensor] = field(default_factory=list)
    args: dict[str, Arg] = field(default_factory=dict)
    # The legacy syntax declares the input type too: PROC_BLOCK<In, Out>.
    declared_inputs: list[DeclaredTensor] = field(default_factory=list)


@dataclass
class ResourceDecl:
    name: str
    location: Location
    path: str | None = None
    inline: str | None = None
    type: str = "string"  # "string" or "binary"


@dataclass
class RunefileDocument:
    path: Path
    syntax: str  # "yaml" or "legacy"
    image: str | None
    stages: list[StageDecl]
    resources: dict[str, ResourceDecl]
    # Errors found while reading that leave a sound document (a key given twice: the first is
    # kept); the checker reports them with its own, so that one run still shows everything.
    errors: list[Diagnostic] = field(default_factory=list)

    @property
    def directory(self) -> Path:
        return self.path.parent

    def stage(self, name: str) -> StageDecl | None:
        return next((s for s in self.stages if s.name == name), None)
