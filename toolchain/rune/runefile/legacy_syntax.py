"""The older Docker-like Runefile syntax of the original Rune:

    FROM runicos/base
    CAPABILITY<I16[16000]> audio SOUND --hz 16000
    PROC_BLOCK<I16[16000],I8[1960]> fft hotg-ai/rune#proc_blocks/fft
    MODEL<I8[1960],I8[4]> model ./model.tflite
    PROC_BLOCK<I8[4],UTF8> label hotg-ai/rune#proc_blocks/ohv_label --labels=silence,unknown,yes,no
    OUT serial
    RUN audio fft model label serial

`_` in a type means "infer it". A line ending in a backslash continues on the next line. A `#`
that starts a word starts a comment; inside a word it belongs to it, as in paths such as
`hotg-ai/rune#proc_blocks/fft`.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from pathlib import Path

from rune.diagnostics import Diagnostics, Location, closest
from rune.runefile.document import (
    STAGE_NAME, Arg, DeclaredTensor, InputRef, RunefileDocument, StageDecl, StageKind, normalise_arg_name,
    parse_special_string,
)
from rune.tensors import ElementType, type_names

INSTRUCTIONS = ("FROM", "CAPABILITY", "PROC_BLOCK", "MODEL", "OUT", "RUN")
KINDS = {"CAPABILITY": StageKind.CAPABILITY, "PROC_BLOCK": StageKind.PROC_BLOCK, "MODEL": StageKind.MODEL}
TYPE_PATTERN = re.compile(r"^(?P<type>[A-Za-z_&][A-Za-z0-9_]*)\s*(\[(?P<dims>[^\]]*)\])?$")


@dataclass
class Token:
    text: str
    column: int  # 1-based


@dataclass
class Line:
    """A logical line: physical lines joined where they end in a backslash."""

    number: int
    text: str
    # Where each joined part starts: (offset in text, physical line, column), so that an error in
    # a continued line points at the line and column the user wrote.
    parts: list[tuple[int, int, int]] = field(default_factory=list)

    def position(self, column: int) -> tuple[int, int]:
        """The physical (line, column) of a 1-based column of the joined text."""
        offset, line, start = next((p for p in reversed(self.parts) if p[0] < column), (0, self.number, 1))
        return line, start + (column - 1 - offset)


def parse_legacy_runefile(text: str, path: Path, display: str) -> RunefileDocument:
    return _LegacyFrontEnd(text, path, display).parse()


class _LegacyFrontEnd:
    def __init__(self, text: str, path: Path, display: str):
        self.text = text
        self.path = path
        self.file = display
        self.diag = Diagnostics()
        self.image: str | None = None
        self.stages: list[StageDecl] = []
        self.runs: list[list[tuple[Token, Line]]] = []
        self.named: set[str] = set()  # every stage a declaration names, even one with errors

    def at(self, line: Line, column: int) -> Location:
        return Location(self.file, *line.position(column))

    def parse(self) -> RunefileDocument:
        for line in logical_lines(self.text):
            self.parse_line(line)
        self.connect_runs()
        if not self.stages and not self.diag:
            self.diag.error("the Runefile declares no stages", Location(self.file, 1, 1),
                            hint="declare CAPABILITY, PROC_BLOCK, MODEL and OUT stages and connect them with RUN")
        self.diag.raise_if_any()
        return RunefileDocument(self.path, "legacy", self.image, self.stages, {})

    def parse_line(self, line: Line) -> None:
        tokens = self.tokenize(line)
        if not tokens:
            return
        head = tokens[0]
        keyword, types = split_type_annotation(head.text)
        keyword_upper = keyword.upper()
        if keyword_upper not in INSTRUCTIONS:
            suggestion = closest(keyword_upper, INSTRUCTIONS)
            self.diag.error(f"unknown instruction '{keyword}'", self.at(line, head.column),
                            hint=f"did you mean '{suggestion}'?" if suggestion else
                            f"instructions are {', '.join(INSTRUCTIONS)}")
            return
        if keyword_upper == "FROM":
            self.parse_from(line, tokens)
        elif keyword_upper == "RUN":
            if len(tokens) < 2:
                self.diag.error("RUN needs the names of the stages to run, in order", self.at(line, head.column))
            self.runs.append([(t, line) for t in tokens[1:]])
        elif keyword_upper == "OUT":
            self.parse_out(line, tokens)
        else:
            self.parse_stage(line, tokens, keyword_upper, types)

    def parse_from(self, line: Line, tokens: list[Token]) -> None:
        if len(tokens) != 2:
            self.diag.error("FROM takes one image name, e.g. 'FROM runicos/base'", self.at(line, tokens[0].column))
            return
        self.image = tokens[1].text

    def parse_out(self, line: Line, tokens: list[Token]) -> None:
        if len(tokens) not in (2, 3):
            self.diag.error("OUT takes a stage name and optionally an output kind, e.g. 'OUT serial'",
                            self.at(line, tokens[0].column))
            return
        name = tokens[1]
        kind = tokens[2] if len(tokens) == 3 else Token("SERIAL", name.column)
        if not self.valid_name(name, line):
            return
        self.stages.append(StageDecl(name.text, StageKind.OUT, kind.text, self.at(line, name.column),
                                     self.at(line, kind.column)))

    def parse_stage(self, line: Line, tokens: list[Token], keyword: str, types: str | None) -> None:
        head = tokens[0]
        if types is None:
            example = "<F32[1]>" if keyword == "CAPABILITY" else "<F32[1], F32[1]>"
            self.diag.error(f"{keyword} needs its types in angle brackets, e.g. {keyword}{example}",
                            self.at(line, head.column), hint="write '_' for a type the compiler should infer")
            return
        if len(tokens) < 3:
            what = {"CAPABILITY": "a kind such as SOUND", "MODEL": "a model file",
                    "PROC_BLOCK": "a proc-block path"}[keyword]
            self.diag.error(f"{keyword} needs a stage name and {what}", self.at(line, head.column))
            return
        name, target = tokens[1], tokens[2]
        if not self.valid_name(name, line):
            return
        self.named.add(name.text)
        type_column = head.column + len(keyword) + 1
        declared = self.parse_types(types, line, type_column, name.text)
        if declared is None:
            return
        if keyword == "CAPABILITY":
            if len(declared) != 1:
                self.diag.error(f"CAPABILITY declares one output type, found {len(declared)}",
                                self.at(line, type_column), stage=name.text)
                return
            inputs, outputs = [], declared
        else:
            if len(declared) != 2:
                self.diag.error(f"{keyword} declares '<Input, Output>' types, found {len(declared)}",
                                self.at(line, type_column), stage=name.text,
                                hint="write '_' for a type the compiler should infer")
                return
            inputs, outputs = declared[:1], declared[1:]
        self.stages.append(StageDecl(
            name=name.text, kind=KINDS[keyword], target=target.text,
            location=self.at(line, name.column), target_location=self.at(line, target.column),
            outputs=outputs,
            declared_inputs=inputs,
            args=self.parse_args(tokens[3:], line, name.text),
        ))

    def parse_types(self, text: str, line: Line, column: int, stage: str) -> list[DeclaredTensor] | None:
        declared = []
        for part, offset in split_top_level(text):
            location = self.at(line, column + offset + len(part) - len(part.lstrip()))
            part = part.strip()
            if part == "_":
                declared.append(DeclaredTensor(None, None, location))
                continue
            m = TYPE_PATTERN.match(part)
            if not m:
                self.diag.error(f"cannot read the type '{part}'", location, stage=stage,
                                hint="write a type like F32, U8[1, 96, 96, 1] or _")
                return None
            try:
                dtype = None if m["type"] == "_" else ElementType.parse(m["type"])
            except ValueError:
                suggestion = closest(m["type"].lower(), type_names())
                self.diag.error(f"unknown element type '{m['type']}'", location, stage=stage,
                                hint=f"did you mean '{suggestion.upper()}'?" if suggestion else
                                f"use one of {', '.join(t.upper() for t in type_names())}")
                return None
            shape = None
            if m["dims"] is not None:
                try:
                    shape = tuple(int(d) for d in m["dims"].split(",") if d.strip())
                    if any(d <= 0 for d in shape):
                        raise ValueError
                except ValueError:
                    self.diag.error(f"dimensions must be positive integers, not [{m['dims']}]", location,
                                    stage=stage)
                    return None
            declared.append(DeclaredTensor(dtype, shape, location))
        return declared

    def parse_args(self, tokens: list[Token], line: Line, stage: str) -> dict[str, Arg]:
        args: dict[str, Arg] = {}
        i = 0
        while i < len(tokens):
            token = tokens[i]
            if not token.text.startswith("--") or len(token.text) < 3:
                self.diag.error(f"unexpected '{token.text}'; arguments look like '--name value' or '--name=value'",
                                self.at(line, token.column), stage=stage)
                i += 1
                continue
            key, eq, value = token.text[2:].partition("=")
            value_column = token.column + 3 + len(key)
            if not eq:
                if i + 1 < len(tokens) and not tokens[i + 1].text.startswith("--"):
                    value, value_column = tokens[i + 1].text, tokens[i + 1].column
                    i += 1
                else:
                    value, value_column = "true", token.column
            i += 1
            name = normalise_arg_name(key)
            if name in args:
                self.diag.error(f"argument '--{key}' is given twice", self.at(line, token.column), stage=stage)
                continue
            args[name] = Arg(name, scalar(value), self.at(line, token.column), spelled=key,
                             value_location=self.at(line, value_column))
        return args

    def valid_name(self, token: Token, line: Line) -> bool:
        if STAGE_NAME.match(token.text):
            return True
        self.diag.error(f"invalid stage name '{token.text}'", self.at(line, token.column),
                        hint="use letters, digits, '_' and '-', starting with a letter or '_'")
        return False

    def connect_runs(self) -> None:
        """RUN a b c: each stage takes the previous one's output."""
        for run in self.runs:
            previous = None
            for token, line in run:
                stage = next((s for s in self.stages if s.name == token.text), None)
                if stage is None and token.text in self.named:  # its declaration's error is reported
                    previous = None
                    continue
                if stage is None:
                    names = [s.name for s in self.stages]
                    suggestion = closest(token.text, names)
                    self.diag.error(f"RUN names an unknown stage '{token.text}'", self.at(line, token.column),
                                    hint=f"did you mean '{suggestion}'?" if suggestion else
                                    f"declared stages: {', '.join(names) or 'none'}")
                    previous = None
                    continue
                if previous is not None:
                    stage.inputs.append(InputRef(previous.name, 0, self.at(line, token.column)))
                previous = stage

    def tokenize(self, line: Line) -> list[Token]:
        tokens, i, text = [], 0, line.text
        while i < len(text):
            if text[i].isspace():
                i += 1
                continue
            if text[i] == "#":  # a comment to the end of the line
                break
            start, chunk = i, []
            depth = 0  # inside <...>, spaces belong to the type annotation
            while i < len(text) and (depth > 0 or not text[i].isspace()):
                ch = text[i]
                if ch in "\"'":
                    end = text.find(ch, i + 1)
                    if end < 0:
                        self.diag.error("unterminated quoted string", self.at(line, i + 1))
                        return []
                    chunk.append(text[i + 1:end])
                    i = end + 1
                    continue
                depth += ch == "<"
                depth -= ch == ">" and depth > 0
                chunk.append(ch)
                i += 1
            tokens.append(Token("".join(chunk), start + 1))
        return tokens


def logical_lines(text: str):
    """Lines with comments and blanks removed and backslash continuations joined."""
    pending: Line | None = None
    for number, raw in enumerate(text.splitlines(), start=1):
        stripped = raw.rstrip()
        if pending is None and (not stripped.strip() or stripped.lstrip().startswith("#")):
            continue
        continues = stripped.endswith("\\")
        body = stripped[:-1] if continues else stripped
        if pending is None:
            pending = Line(number, body, [(0, number, 1)])
        else:
            indent = len(body) - len(body.lstrip())
            offset = len(pending.text) + 1  # after the space that joins the parts
            pending.text += " " + body.strip()
            pending.parts.append((offset, number, indent + 1))
        if not continues:
            yield pending
            pending = None
    if pending is not None:
        yield pending


def split_type_annotation(word: str) -> tuple[str, str | None]:
    """'PROC_BLOCK<F32,F32>' -> ('PROC_BLOCK', 'F32,F32'); 'OUT' -> ('OUT', None)."""
    if "<" not in word:
        return word, None
    keyword, _, rest = word.partition("<")
    return keyword, rest[:-1] if rest.endswith(">") else rest


def split_top_level(text: str) -> list[tuple[str, int]]:
    """Split at commas outside brackets, keeping each part's offset for error columns."""
    parts, depth, start = [], 0, 0
    for i, ch in enumerate(text):
        depth += ch == "["
        depth -= ch == "]"
        if ch == "," and depth == 0:
            parts.append((text[start:i], start))
            start = i + 1
    parts.append((text[start:], start))
    return parts


def scalar(text: str):
    """Command-line style values: integers, floats, booleans, otherwise strings."""
    lowered = text.lower()
    if lowered in ("true", "false"):
        return lowered == "true"
    for convert in (int, float):
        try:
            return convert(text)
        except ValueError:
            pass
    return parse_special_string(text)
