"""`rune run`."""

from __future__ import annotations

from pathlib import Path

import click

from rune.runtime.engines import ENGINES
from rune.runtime.models import BACKENDS
from rune.runtime.runtime import DEFAULT_TIMEOUT

FLAG_KINDS = {"sound": "SOUND", "image": "IMAGE", "accel": "ACCEL", "raw": "RAW"}


def assign_sources(runtime, files: dict[str, list[Path]], named: list[str], seed: int | None,
                   stride_ms: int | None) -> list[str]:
    """Give every capability its source from the command line; returns notes for the log.

    `--capability NAME:PATH` names a capability; otherwise the files of a kind (--sound, ...)
    feed that kind's capabilities in order, or by their `source` argument.
    """
    from rune.runtime.errors import RunError
    from rune.runtime.sources import FILE_SOURCES, RandomSource

    notes = []

    def make(kind: str, path: Path):
        if kind == "SOUND":
            return FILE_SOURCES[kind](path, stride_ms=stride_ms)
        return FILE_SOURCES[kind](path)

    for item in named:
        name, sep, value = item.partition(":")
        if not sep or not value:
            raise RunError(f"--capability expects NAME:PATH, got '{item}'")
        spec = runtime.capability(name)
        if spec.kind == "RAND":
            try:
                runtime.set_source(spec.index, RandomSource(int(value, 0)))
            except ValueError:
                raise RunError(f"--capability {name}:SEED needs a whole number for a RAND capability") from None
        else:
            runtime.set_source(spec.index, make(spec.kind, Path(value)))

    for flag, kind in FLAG_KINDS.items():
        paths = list(files.get(flag, []))
        candidates = [c for c in runtime.capabilities if c.kind == kind and c.index not in runtime.sources]
        if len(paths) > len(candidates):
            raise RunError(f"{len(paths)} --{flag} file(s) given, but the rune has {len(candidates)} {kind} "
                           f"capabilit{'y' if len(candidates) == 1 else 'ies'} without a source")
        by_number = {int(c.args["source"]): c for c in candidates if c.args.get("source") is not None}
        in_order = [c for c in candidates if c.args.get("source") is None]
        for position, path in enumerate(paths):
            spec = by_number.get(position) or (in_order.pop(0) if in_order else None)
            if spec is None:
                raise RunError(f"--{flag} file {position + 1} ({path}) matches no {kind} capability")
            runtime.set_source(spec.index, make(kind, path))

    rand = [c for c in runtime.capabilities if c.kind == "RAND" and c.index not in runtime.sources]
    if rand:
        source = RandomSource(seed)
        for spec in rand:
            runtime.set_source(spec.index, source)
        if seed is None:
            notes.append(f"random inputs use the seed {source.seed} (pass --random {source.seed} to repeat them)")
    return notes


@click.command("run")
@click.argument("rune", type=click.Path(exists=True, path_type=Path))
@click.option("--sound", multiple=True, type=click.Path(path_type=Path), help="A WAV file for a SOUND capability.")
@click.option("--image", multiple=True, type=click.Path(path_type=Path),
              help="A picture (PNG, JPEG, BMP, ...) for an IMAGE capability.")
@click.option("--accel", multiple=True, type=click.Path(path_type=Path),
              help="A CSV file of x,y,z rows for an ACCEL capability.")
@click.option("--raw", multiple=True, type=click.Path(path_type=Path), help="A binary file for a RAW capability.")
@click.option("--random", "seed", type=int, help="Seed for RAND capabilities (same seed, same numbers).")
@click.option("--capability", "named", multiple=True, metavar="NAME:PATH",
              help="Feed the capability NAME from PATH (for RAND: NAME:SEED).")
@click.option("--repeat", type=click.IntRange(min=1), help="Run this many inferences (default 1, or until a "
              "streamed sound ends).")
@click.option("--stride-ms", type=click.IntRange(min=1),
              help="Stream a long recording: each inference takes the next window, this many ms later.")
@click.option("--engine", type=click.Choice(ENGINES), default="wasmtime", show_default=True,
              help="The WebAssembly engine (wasm3 is the interpreter the firmware uses).")
@click.option("--model-engine", type=click.Choice(BACKENDS), default="tflm", show_default=True,
              help="What runs the models.")
@click.option("--timeout", type=click.FloatRange(min=0.01), default=DEFAULT_TIMEOUT, show_default=True,
              help="Stop a rune whose inference runs longer than this many seconds.")
@click.option("--json", "as_json", is_flag=True,
              help="Print each output as one line of SERIAL JSON (the format devices print).")
def run_command(rune, sound, image, accel, raw, seed, named, repeat, stride_ms, engine, model_engine, timeout, as_json):
    """Run a .rune on this computer.

    Capabilities get their data from files: --sound for SOUND, --image for IMAGE, --accel for
    ACCEL, --raw for RAW and --random for RAND. Repeated flags feed capabilities of that kind in
    order (or by their `source` argument); --capability NAME:PATH names one. Outputs go to stdout,
    one per line; logs and progress go to stderr.

    \b
    rune run examples/sine/sine.rune --random 1 --repeat 5
    rune run examples/micro_speech/micro_speech.rune --sound yes.wav --json
    """
    from rune import console
    from rune.diagnostics import Diagnostic, RuneError
    from rune.runtime.outputs import human
    from rune.runtime.runtime import Runtime

    if rune.is_dir() or rune.suffix != ".rune":
        raise RuneError(Diagnostic(f"{rune} is not a .rune file", hint=f"build it first: rune build {rune}"))
    runtime = Runtime.load(rune, engine=engine, model_engine=model_engine, timeout=timeout)
    with runtime:
        files = {"sound": sound, "image": image, "accel": accel, "raw": raw}
        for note in assign_sources(runtime, files, list(named), seed, stride_ms):
            console.info(note)
        available = runtime.remaining()
        count = repeat or (available if stride_ms and available is not None else 1)
        if available is not None and count > available:
            if not repeat:
                count = available
            else:
                console.warn(f"the inputs suffice for {available} inference(s), not {count}")
                count = available
        if count == 0:
            raise RuneError(Diagnostic("the inputs are too short for even one inference",
                                       hint="use a longer recording or a smaller sample_duration_ms"))
        console.info(f"running {rune.name} with {engine} ({count} inference{'s' if count != 1 else ''})")
        from tqdm import tqdm

        progress = tqdm(total=count, unit="inference", disable=None if count >= 20 else True, leave=False)
        with progress:
            for _ in range(count):
                for output in runtime.run():
                    click.echo(output.json_line() if as_json else human(output))
                progress.update()
