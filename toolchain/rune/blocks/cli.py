"""`rune proc-block ...`."""

from __future__ import annotations

import click


@click.group("proc-block")
def proc_block_group():
    """List, describe and create processing blocks."""


@proc_block_group.command("list")
def list_command():
    """The built-in blocks, with what each does."""
    from rune.blocks.manifest import load_manifest
    from rune.blocks.registry import builtin_names
    from rune.paths import proc_blocks_dir

    names = builtin_names()
    width = max(map(len, names))
    for name in names:
        manifest = load_manifest(proc_blocks_dir() / name, builtin=True)
        summary = manifest.description.split(". ")[0].rstrip(".")
        click.echo(f"{name:<{width}}  {summary}")


@proc_block_group.command("show")
@click.argument("reference")
def show_command(reference):
    """Describe a block: inputs, outputs and arguments. REFERENCE is a built-in name or a folder."""
    from pathlib import Path

    from rune.blocks.registry import BlockNotFound, resolve
    from rune.diagnostics import Diagnostic, RuneError

    try:
        block = resolve(reference, Path.cwd()).manifest
    except BlockNotFound as e:
        raise RuneError(Diagnostic(str(e), hint=e.hint)) from None
    lines = [f"{block.name}: {block.description}", "", "Inputs:"]
    for i in block.inputs:
        lines.append(f"  {i.name}: {', '.join(t.type_name for t in i.types)}" + (f" - {i.description}" if i.description else ""))
    lines.append("Outputs:")
    for o in block.outputs:
        shape = o.shape if isinstance(o.shape, str) else "[" + ", ".join(map(str, o.shape)) + "]"
        lines.append(f"  {o.name}: type {o.type}, shape {shape}" + (f" - {o.description}" if o.description else ""))
    if block.args:
        lines.append("Arguments:")
        for a in block.args.values():
            extra = " (required)" if a.required else (f" (default {a.default})" if a.default is not None else "")
            aliases = f" (also: {', '.join(a.aliases)})" if a.aliases else ""
            lines.append(f"  {a.name}: {a.describe_type()}{extra}{aliases} - {a.description}")
    click.echo("\n".join(lines))
