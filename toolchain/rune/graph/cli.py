"""`rune graph`."""

from __future__ import annotations

import shutil
import subprocess
from pathlib import Path

import click


def _stages(path: Path) -> tuple[str, list[dict]]:
    """The pipeline of a .rune (from its manifest) or of a Runefile (checked, not built)."""
    if path.suffix == ".rune":
        from rune.container.cli import load_rune

        rune = load_rune(path)
        return rune.name, rune.manifest["stages"]
    from rune.compiler.build import default_name
    from rune.compiler.checker import check
    from rune.compiler.manifest import stage_entry
    from rune.runefile import find_runefile, load_runefile

    runefile = find_runefile(path)
    pipeline = check(load_runefile(runefile))
    return default_name(runefile), [stage_entry(s, pipeline.stages) for s in pipeline.stages]


@click.command("graph")
@click.argument("path", type=click.Path(exists=True, path_type=Path), default=".", required=False)
@click.option("-o", "--output", type=click.Path(dir_okay=False, path_type=Path),
              help="Write to this file instead of stdout (the format follows its extension unless --format is given).")
@click.option("--format", "fmt", type=click.Choice(["dot", "svg", "png"]), help="Output format (default: dot).")
def graph_command(path, output, fmt):
    """Draw a pipeline (a Runefile, its folder, or a .rune) with Graphviz.

    Stages are coloured by kind (capabilities green, blocks blue, models orange, outputs grey) and
    each edge shows the element type and shape that flows along it. DOT text needs nothing else;
    svg and png need Graphviz's `dot` (apt install graphviz).

    \b
    rune graph examples/sine | dot -Tpng > sine.png
    rune graph examples/sine/sine.rune -o sine.svg
    """
    from rune.diagnostics import Diagnostic, RuneError
    from rune.graph.dot import to_dot

    fmt = fmt or (output.suffix.lstrip(".") if output and output.suffix in (".svg", ".png") else "dot")
    name, stages = _stages(path)
    text = to_dot(name, stages)
    if fmt == "dot":
        if output:
            output.write_text(text)
        else:
            click.echo(text, nl=False)
        return
    dot = shutil.which("dot")
    if dot is None:
        raise RuneError(Diagnostic(f"--format {fmt} needs Graphviz's 'dot' program, which is not installed",
                                   hint="install it (apt install graphviz) or use the default DOT output"))
    result = subprocess.run([dot, f"-T{fmt}"], input=text.encode(), capture_output=True, timeout=120)
    if result.returncode != 0:
        raise RuneError(f"Graphviz failed: {result.stderr.decode(errors='replace').strip()}")
    if output:
        output.write_bytes(result.stdout)
    else:
        click.get_binary_stream("stdout").write(result.stdout)
