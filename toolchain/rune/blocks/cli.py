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
            extra = " (required)" if a.required else (f" (default {a.default})" if a.default is not None else
                                                       " (default from the inputs)" if a.default_expr else "")
            aliases = f" (also: {', '.join(a.aliases)})" if a.aliases else ""
            lines.append(f"  {a.name}: {a.describe_type()}{extra}{aliases} - {a.description}")
    click.echo("\n".join(lines))


@proc_block_group.command("new")
@click.argument("name")
@click.option("--dir", "parent", type=click.Path(file_okay=False, path_type=__import__("pathlib").Path), default=".",
              show_default=True, help="Where to create the block's folder.")
def new_command(name, parent):
    """Create a processing block: NAME/ with block.yaml, NAME.c, reference.py and test_NAME.py.

    A Runefile next to it uses it as `proc-block: ./NAME`. docs/proc-blocks.md explains each file.
    """
    from rune import console
    from rune.blocks.scaffold import create_block
    from rune.diagnostics import display_path

    folder = create_block(name, parent)
    shown = display_path(folder)
    path = shown if "/" in shown else f"./{shown}"  # a bare name means a built-in block
    console.info(f"created {shown}: edit block.yaml, {name}.c and reference.py, then check it with")
    console.info(f"  rune proc-block test {path} --input f32[1,10]")
    click.echo(str(folder))


@proc_block_group.command("test")
@click.argument("reference")
@click.option("--input", "inputs", multiple=True, required=True, metavar="TYPE[DIMS]",
              help="An input tensor, e.g. f32[1,10] (once per input, in order).")
@click.option("--arg", "args", multiple=True, metavar="NAME=VALUE", help="An argument of the block.")
@click.option("--examples", type=click.IntRange(min=1), default=200, show_default=True,
              help="How many random inputs to compare.")
@click.option("--seed", type=int, default=0, show_default=True)
@click.option("--no-sanitizers", is_flag=True, help="Skip the AddressSanitizer / UBSan run.")
@click.option("--timeout", type=click.FloatRange(min=1, max=24 * 3600), default=300, show_default=True,
              help="Give up on a block whose check takes longer than this many seconds.")
def test_command(reference, inputs, args, examples, seed, no_sanitizers, timeout):
    """Check a block's C against its numpy reference (reference.py).

    The edge cases (zeros, extremes, NaN and infinities) first run under AddressSanitizer and
    UndefinedBehaviorSanitizer with exactly-sized buffers, which catch any access outside them.
    Then random inputs and the edge cases go through the C compiled natively and through the
    reference; the outputs must be identical. A block with state is also run several times in a
    row, init before the first run only, against its reference carrying its state. The check runs
    in a child process, so a block that crashes or never returns is reported, not fatal. Exit
    status 1 if anything is wrong.
    """
    from pathlib import Path

    from rune import console
    from rune.blocks.conformance import BlockCrashed, check_block_isolated, parse_tensor
    from rune.blocks.manifest import BlockTypeError
    from rune.blocks.registry import BlockNotFound, resolve
    from rune.diagnostics import Diagnostic, RuneError
    from rune.runefile.legacy_syntax import scalar

    try:
        block = resolve(reference, Path.cwd()).manifest
        tensors = [parse_tensor(text) for text in inputs]
    except BlockNotFound as e:
        raise RuneError(Diagnostic(str(e), hint=e.hint)) from None
    except ValueError as e:
        raise RuneError(Diagnostic(f"--input: {e}", hint="write a type and dimensions such as f32[1,10]")) from None
    values = {}
    for item in args:
        name, sep, value = item.partition("=")
        if not sep or block.arg_spec(name.replace("-", "_")) is None:
            raise RuneError(Diagnostic(f"--arg {item}: expected NAME=VALUE with one of the block's arguments",
                                       hint=f"arguments: {', '.join(block.args) or 'none'}"))
        values[name.replace("-", "_")] = scalar(value)
    try:
        report = check_block_isolated(block, values, tensors, examples, seed, sanitize=not no_sanitizers,
                                      timeout=timeout)
    except BlockCrashed as e:
        console.error(f"block '{block.name}': {e}")
        console.info(e.hint)
        raise SystemExit(1) from None
    except (BlockTypeError, ValueError) as e:
        raise RuneError(Diagnostic(f"block '{block.name}': {e}")) from None
    except RuntimeError as e:  # the C did not compile
        raise RuneError(Diagnostic(str(e))) from None
    summary = [f"{report.sanitized} ran clean under the sanitizers"] if report.sanitized else []
    if report.examples:  # a sanitizer report stops the check before the native runs
        summary.append(f"{report.identical} of {report.examples} inputs gave identical outputs"
                       + (f", {report.both_failed} refused by both" if report.both_failed else ""))
    if summary:
        console.info("; ".join(summary))
    for problem in report.problems:
        console.error(problem)
    if not report.passed:
        raise SystemExit(1)
    click.echo("ok")
