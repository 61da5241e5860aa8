"""Errors that point at the user's input: file, line, column, stage, and how to fix it.

Every front end, checker and builder reports problems as `Diagnostic`s collected in a
`Diagnostics` list so that one run reports all of them; `RuneError` carries them to the CLI,
which prints them and exits with status 2.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path


@dataclass(frozen=True)
class Location:
    """A position in a source file; line and column count from 1 (0 means unknown)."""

    file: str
    line: int = 0
    column: int = 0

    def __str__(self) -> str:
        if self.line and self.column:
            return f"{self.file}:{self.line}:{self.column}"
        if self.line:
            return f"{self.file}:{self.line}"
        return self.file


@dataclass(frozen=True)
class Diagnostic:
    message: str
    location: Location | None = None
    stage: str | None = None
    hint: str | None = None
    severity: str = "error"

    def render(self) -> str:
        where = f"{self.location}: " if self.location else ""
        stage = f"stage '{self.stage}': " if self.stage else ""
        text = f"{where}{self.severity}: {stage}{self.message}"
        if self.hint:
            text += f"\n    hint: {self.hint}"
        return text


class RuneError(Exception):
    """A problem with the user's input. The CLI prints it without a traceback and exits with 2."""

    exit_code = 2

    def __init__(self, diagnostics: list[Diagnostic] | Diagnostic | str):
        if isinstance(diagnostics, str):
            diagnostics = [Diagnostic(diagnostics)]
        elif isinstance(diagnostics, Diagnostic):
            diagnostics = [diagnostics]
        self.diagnostics = list(diagnostics)
        super().__init__(self.render())

    def render(self) -> str:
        return "\n".join(d.render() for d in self.diagnostics)


@dataclass
class Diagnostics:
    """Collects problems so that a whole file is checked before anything is reported."""

    items: list[Diagnostic] = field(default_factory=list)

    def error(self, message: str, location: Location | None = None, *, stage: str | None = None,
              hint: str | None = None) -> None:
        self.items.append(Diagnostic(message, location, stage, hint))

    def extend(self, error: RuneError) -> None:
        self.items.extend(error.diagnostics)

    def __bool__(self) -> bool:
        return bool(self.items)

    def raise_if_any(self) -> None:
        if self.items:
            raise RuneError(sorted(self.items, key=_position))


def _position(d: Diagnostic) -> tuple:
    loc = d.location or Location("")
    return (loc.file, loc.line, loc.column)


def display_path(path: Path | str) -> str:
    """A path as the user would like to read it: relative to the working directory when inside it."""
    path = Path(path)
    try:
        return str(path.resolve().relative_to(Path.cwd().resolve()))
    except ValueError:
        return str(path)


def closest(name: str, candidates) -> str | None:
    """The candidate the user most likely meant, for "did you mean" hints."""
    import difflib

    matches = difflib.get_close_matches(name, list(candidates), n=1, cutoff=0.6)
    return matches[0] if matches else None
