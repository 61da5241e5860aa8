"""`rune inspect`."""

from __future__ import annotations

import json
from pathlib import Path

import click


def load_rune(path: Path):
    """Load a .rune, known by its content (any name will do), or exit with a clear error (status
    2); a folder or a Runefile given instead gets the advice to build it first."""
    from rune.container.rune_file import RuneFile, RuneFileError
    from rune.diagnostics import Diagnostic, RuneError

    build = f"build it first: rune build {path}"
    if path.is_dir():
        raise RuneError(Diagnostic(f"{path} is a folder, not a .rune", hint=build))
    try:
        return RuneFile.load(path)
    except RuneFileError as e:
        runefile = path.suffix in (".yml", ".yaml") or path.name.startswith("Runefile")
        raise RuneError(Diagnostic(e.message, hint=build if runefile else e.hint)) from None


@click.command("inspect")
@click.argument("rune", type=click.Path(exists=True, dir_okay=False, path_type=Path))
@click.option("--json", "as_json", is_flag=True, help="Print the manifest as JSON.")
def inspect_command(rune, as_json):
    """Show what a .rune contains: its pipeline, capabilities, models, outputs and memory."""
    loaded = load_rune(rune)
    if as_json:
        click.echo(json.dumps({"file": str(rune), "bytes": len(loaded.data), "manifest": loaded.manifest}, indent=2))
        return
    click.echo(describe(loaded, rune))


def _args(args: dict) -> str:
    def show(value):
        if isinstance(value, list):
            text = ", ".join(map(str, value))
            return f"[{text[:60]}{'...' if len(text) > 60 else ''}]"
        if isinstance(value, dict) and "bytes" in value:
            return f"<{value['bytes']} bytes>"
        return str(value)
    return " ".join(f"{k}={show(v)}" for k, v in args.items())


def _tensor(entry: dict) -> str:
    return f"{entry['type']}[{', '.join(map(str, entry['dimensions']))}]"


def describe(rune, path: Path) -> str:
    m = rune.manifest
    memory = m["memory"]
    lines = [
        f"{path.name}: rune '{m['name']}', {len(rune.data):,} bytes",
        f"  built by {m.get('compiler', '?')} from {m.get('source', '?')}; .rune format {m['format']}, ABI v{m['abi']}",
        f"  memory: {memory['used_bytes']:,} bytes in {memory['pages']} page(s) (stack {memory['stack_bytes']:,}, "
        f"tensors {memory['arena_bytes']:,}, block state {memory['state_bytes']:,})",
        "",
        "Pipeline:",
    ]
    width = max(len(s["name"]) for s in m["stages"])
    for s in m["stages"]:
        sources = ", ".join(i["stage"] + (f".{i['output']}" if i["output"] else "") for i in s["inputs"])
        outputs = ", ".join(_tensor(t) for t in s["outputs"])
        what = s.get("block") or s["target"]
        flow = f"{sources or '-'} -> {outputs}" if outputs else f"{sources}"
        lines.append(f"  {s['name']:<{width}}  {s['kind']:<10} {what:<24} {flow}  {_args(s.get('args', {}))}".rstrip())
    lines += ["", "Capabilities (inputs the host provides):"]
    for c in m["capabilities"]:
        lines.append(f"  {c['index']}: {c['stage']} {c['kind']} {_tensor(c)} ({c['bytes']:,} bytes) {_args(c['args'])}".rstrip())
    if m["models"]:
        lines += ["", "Models:"]
        for model in m["models"]:
            inputs = ", ".join(_tensor(t) for t in model["inputs"])
            outputs = ", ".join(_tensor(t) for t in model["outputs"])
            lines.append(f"  {model['index']}: {model['stage']} {model['file']} ({model['bytes']:,} bytes) "
                         f"{inputs} -> {outputs}; {', '.join(model['operators'])}")
    lines += ["", "Outputs:"]
    for o in m["outputs"]:
        source = o["source"]["stage"] + (f".{o['source']['output']}" if o["source"]["output"] else "")
        lines.append(f"  channel {o['channel']}: {source} -> {o['stage']} ({o['kind']}) {_tensor(o)}")
    if m["resources"]:
        lines += ["", "Resources:"]
        for r in m["resources"]:
            lines.append(f"  {r['name']} ({r['type']}, {r['bytes']:,} bytes)")
    return "\n".join(lines)
