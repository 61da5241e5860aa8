"""`rune graph`."""

from __future__ import annotations

import shutil
import subprocess
from pathlib import Path

import click


def _stages(path: Path) -> tuple[str, list[dict], Path]:
    """The pipeline of a .rune (from its manifest) or of a Runefile (checked, not built), and the
    file it came from."""
    if path.suffix == ".rune":
        from rune.container.cli import load_rune

        rune = load_rune(path)
        return rune.name, rune.manifest["stages"], path
    from rune.compiler.build import default_name
    from rune.compiler.checker import check
    from rune.compiler.manifest import stage_entry
    from rune.runefile import find_runefile, load_runefile

    runefile = find_runefile(path)
    pipeline = check(load_runefile(runefile))
    return default_name(runefile), [stage_entry(s, pipeline.stages) for s in pipeline.stages], runefile


def _write(output: Path, data: bytes, source: Path) -> None:
    from rune.diagnostics import Diagnostic, RuneError

    if output.name in ("", ".", "..") or output.is_dir():
        raise RuneError(Diagnostic(f"-o {str(output)!r} is a folder, not a file", hint="give a file name, such as "
                                                                                      "-o pipeline.svg"))
    if output.exists() and output.resolve() == source.resolve():
        raise RuneError(Diagnostic(f"-o {output} would overwrite the pipeline being drawn",
                                   hint="give another file name, such as -o pipeline.svg"))
    try:
        output.write_bytes(data)
    except OSError as e:
        raise RuneError(f"cannot write {output}: {e.strerror}") from None


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

    if fmt is None and output and output.suffix.lower() not in ("", ".dot", ".gv", ".svg", ".png"):
        raise RuneError(Diagnostic(f"-o {output}: the format cannot be told from '{output.suffix}'",
                                   hint="name the file .dot, .svg or .png, or give --format"))
    fmt = fmt or (output.suffix.lower().lstrip(".") if output and output.suffix.lower() in (".svg", ".png") else "dot")
    name, stages, source = _stages(path)
    text = to_dot(name, stages)
    if fmt == "dot":
        if output:
            _write(output, text.encode(), source)
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
        _write(output, result.stdout, source)
    else:
        click.get_binary_stream("stdout").write(result.stdout)
