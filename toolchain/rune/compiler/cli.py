"""`rune build`."""

from __future__ import annotations

from pathlib import Path

import click

from rune.compiler.build import TARGETS
from rune.compiler.wasm_build import DEFAULT_MEMORY_LIMIT, DEFAULT_STACK_BYTES, MAX_MEMORY_LIMIT


@click.command("build")
@click.argument("path", type=click.Path(path_type=Path), default=".", required=False)
@click.option("-o", "--output", type=click.Path(path_type=Path, dir_okay=False),
              help="Where to write the .rune (default: NAME.rune next to the Runefile).")
@click.option("--name", help="The rune's name: letters, digits, '_' and '-', starting with a letter "
                             "(default: the Runefile's folder name, made valid: other characters become '_', "
                             "and 'rune_' is put first if it does not start with a letter).")
@click.option("--memory-limit", type=click.IntRange(4096, MAX_MEMORY_LIMIT), default=DEFAULT_MEMORY_LIMIT, show_default=True,
              help="Fail if the rune needs more bytes of memory than this.")
@click.option("--stack-size", type=click.IntRange(min=1024), default=DEFAULT_STACK_BYTES, show_default=True,
              help="Bytes of stack for the rune's code.")
@click.option("--target", type=click.Choice(TARGETS), default="desktop", show_default=True,
              help="What the rune is for: on a device every model must run on Rune's engine (an error if not; "
                   "for the desktop a warning).")
def build_command(path, output, name, memory_limit, stack_size, target):
    """Compile a Runefile into a .rune.

    PATH is a Runefile (YAML or the older Docker-like syntax) or a folder holding Runefile.yml,
    Runefile.yaml or Runefile. Every problem is reported with file, line and column; the exit
    status is 2 if there are any. The path of the .rune is printed on stdout.
    """
    from rune import console
    from rune.compiler.build import build
    from rune.diagnostics import display_path

    result = build(path, output, name, memory_limit=memory_limit, stack_bytes=stack_size, target=target,
                   log=console.info, warn=console.warn)
    memory = result.manifest["memory"]
    other = memory["used_bytes"] - memory["stack_bytes"] - memory["arena_bytes"] - memory["state_bytes"]
    console.info(f"memory: {memory['used_bytes']:,} of {memory_limit:,} bytes allowed "
                 f"(stack {memory['stack_bytes']:,}, tensors {memory['arena_bytes']:,}, "
                 f"block state {memory['state_bytes']:,}, constants {other:,})")
    payload = len(result.data) - result.code_bytes
    console.info(f"wrote {display_path(result.path)} ({len(result.data):,} bytes: code and manifest {result.code_bytes:,}; "
                 f"models, their plans and resources {payload:,}) in {result.seconds:.2f} s")
    click.echo(str(result.path))
