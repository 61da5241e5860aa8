"""Runefile front ends: find a Runefile and read it (YAML or the older Docker-like syntax)."""

from __future__ import annotations

from pathlib import Path

from rune.diagnostics import Diagnostic, Location, RuneError, display_path
from rune.files import read_file
from rune.runefile.document import RunefileDocument

RUNEFILE_NAMES = ("Runefile.yml", "Runefile.yaml", "Runefile")


def find_runefile(path: Path | str) -> Path:
    """A Runefile path, or the Runefile inside a folder."""
    path = Path(path)
    if path.is_dir():
        for name in RUNEFILE_NAMES:
            if (path / name).is_file():
                return path / name
        raise RuneError(Diagnostic(f"no Runefile in {display_path(path)}",
                                   hint=f"expected one of {', '.join(RUNEFILE_NAMES)}"))
    if not path.exists():
        raise RuneError(Diagnostic(f"{display_path(path)} does not exist"))
    return path


def load_runefile(path: Path | str) -> RunefileDocument:
    path = find_runefile(path)
    display = display_path(path)
    try:
        data = read_file(path)
    except OSError as e:
        raise RuneError(Diagnostic(f"cannot read the Runefile: {e.strerror}", Location(display))) from None
    try:
        text = data.decode("utf-8")
    except UnicodeDecodeError as e:
        raise RuneError(_not_utf8(data, e.start, display)) from None
    return parse_runefile(text, path, display)


def _not_utf8(data: bytes, offset: int, display: str) -> Diagnostic:
    """Where the first byte that is not UTF-8 is: its line, and its column counted in characters."""
    line_start = data.rfind(b"\n", 0, offset) + 1
    column = len(data[line_start:offset].decode("utf-8", errors="replace")) + 1
    return Diagnostic(f"the Runefile is not UTF-8 text: byte 0x{data[offset]:02x} is not valid UTF-8 here",
                      Location(display, data.count(b"\n", 0, offset) + 1, column),
                      hint="save the file as UTF-8 (it is probably in Latin-1 or another older encoding)")


def parse_runefile(text: str, path: Path, display: str | None = None) -> RunefileDocument:
    """Choose the syntax: files named *.yml/*.yaml, or whose first instruction is not a legacy keyword, are YAML."""
    from rune.runefile.legacy_syntax import INSTRUCTIONS, parse_legacy_runefile
    from rune.runefile.yaml_syntax import parse_yaml_runefile

    display = display or display_path(path)
    text = text.removeprefix("\ufeff")  # a byte-order mark some editors write; invisible, so not a column
    if path.suffix in (".yml", ".yaml"):
        return parse_yaml_runefile(text, path, display)
    first = next((line.split()[0] for line in text.splitlines()
                  if line.strip() and not line.lstrip().startswith("#")), "")
    if first.split("<")[0].upper() in INSTRUCTIONS:
        return parse_legacy_runefile(text, path, display)
    return parse_yaml_runefile(text, path, display)
