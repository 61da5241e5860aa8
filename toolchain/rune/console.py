"""Messages for people: logs and progress on stderr (results go to stdout)."""

from __future__ import annotations

import sys

import click


def info(message: str) -> None:
    click.echo(click.style("rune: ", fg="cyan", bold=True) + message, err=True)


def warn(message: str) -> None:
    click.echo(click.style("rune: warning: ", fg="yellow", bold=True) + message, err=True)


def error(message: str) -> None:
    click.echo(click.style("rune: error: ", fg="red", bold=True) + message, err=True)


def diagnostics(text: str) -> None:
    """Compiler-style diagnostics ("file:line:col: error: ..."), with the severity highlighted."""
    for line in text.splitlines():
        line = line.replace(": error: ", ": " + click.style("error", fg="red", bold=True) + ": ", 1)
        line = line.replace("    hint: ", "    " + click.style("hint", fg="green") + ": ", 1)
        click.echo(line, err=True)


def stderr_is_terminal() -> bool:
    return sys.stderr.isatty()


def size(n: int) -> str:
    return f"{n:,} bytes"
