"""`rune run`."""

from __future__ import annotations

import warnings
from contextlib import contextmanager
from pathlib import Path

import click

from rune.runtime.engines import ENGINES
from rune.runtime.models import BACKENDS
from rune.runtime.runtime import DEFAULT_TIMEOUT, MAX_TIMEOUT


def capability_source_options(command):
    """The flags that feed capabilities, shared by `rune run` and `rune flash`."""
    options = [
        click.option("--sound", multiple=True, type=click.Path(path_type=Path),
                     help="A WAV file for a SOUND capability."),
        click.option("--image", multiple=True, type=click.Path(path_type=Path),
                     help="A picture (PNG, JPEG, BMP, ...) for an IMAGE capability."),
        click.option("--accel", multiple=True, type=click.Path(path_type=Path),
                     help="A CSV file of x,y,z rows for an ACCEL capability."),
        click.option("--raw", multiple=True, type=click.Path(path_type=Path),
                     help="A binary file for a RAW capability."),
        click.option("--random", "seed", type=int, help="Seed for RAND capabilities (same seed, same numbers)."),
        click.option("--capability", "named", multiple=True, metavar="NAME:PATH",
                     help="Feed the capability NAME from PATH (for RAND: NAME:SEED)."),
    ]
    for option in reversed(options):
        command = option(command)
    return command


@click.command("run")
@click.argument("rune", type=click.Path(exists=True, path_type=Path))
@capability_source_options
@click.option("--repeat", type=click.IntRange(min=1), help="Run this many inferences (default 1, or until a "
              "streamed sound ends).")
@click.option("--stride-ms", type=click.IntRange(min=1),
              help="Stream a long recording: each inference takes the next window, this many ms later.")
@click.option("--engine", type=click.Choice(ENGINES), default="wasmtime", show_default=True,
              help="The WebAssembly engine (wasm3 is the interpreter the firmware uses).")
@click.option("--model-engine", type=click.Choice(BACKENDS), default="tflm", show_default=True,
              help="What runs the models: TensorFlow Lite Micro, or Rune's own engine (as on a device).")
@click.option("--timeout", type=click.FloatRange(min=0.01, max=MAX_TIMEOUT), callback=lambda ctx, param, value:
              _seconds(param, value), default=DEFAULT_TIMEOUT, show_default=True,
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
    rune run examples/micro_speech/micro_speech.rune --sound examples/micro_speech/samples/yes_1000ms.wav --json
    """
    from rune import console
    from rune.container.cli import load_rune
    from rune.diagnostics import Diagnostic, RuneError
    from rune.runtime.outputs import human, score_labels
    from rune.runtime.runtime import Runtime
    from rune.runtime.source_flags import sources_from_flags

    loaded = load_rune(rune)
    with warnings_to_console(), Runtime.load(loaded, engine=engine, model_engine=model_engine,
                                             timeout=timeout) as runtime:
        files = {"sound": sound, "image": image, "accel": accel, "raw": raw}
        sources, notes = sources_from_flags(runtime.capabilities, files, list(named), seed, stride_ms,
                                            warn=console.warn)
        for index, source in sources.items():
            runtime.set_source(index, source)
        for note in notes:
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

        labels = score_labels(runtime.manifest)
        progress = tqdm(total=count, unit="inference", disable=None if count >= 20 else True, leave=False)
        with progress:
            for _ in range(count):
                for output in runtime.run():
                    click.echo(output.json_line() if as_json else human(output, labels=labels.get(output.channel)))
                progress.update()


def _seconds(param, value: float) -> float:
    if value != value:  # FloatRange lets nan through: it compares false with both limits
        raise click.BadParameter("nan is not a number of seconds", param=param)
    return value


@contextmanager
def warnings_to_console():
    """InputWarnings (a recording padded with silence, ...) as Rune's own warnings on stderr,
    each time they happen."""
    from rune import console
    from rune.runtime.errors import InputWarning

    with warnings.catch_warnings():
        warnings.simplefilter("always", InputWarning)
        shown = warnings.showwarning

        def show(message, category, *rest, **options):
            if issubclass(category, InputWarning):
                console.warn(str(message))
            else:
                shown(message, category, *rest, **options)

        warnings.showwarning = show
        yield
