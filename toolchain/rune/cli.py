"""The `rune` command. Each feature's subcommands live in that feature's package (a thin cli.py)
and are imported only when used, so `rune build` starts quickly."""

from __future__ import annotations

import importlib
import os
import sys

import click

from rune import __version__

# command name -> (module, attribute, one-line help for `rune --help`)
COMMANDS = {
    "build": ("rune.compiler.cli", "build_command", "Compile a Runefile into a .rune."),
    "run": ("rune.runtime.cli", "run_command", "Run a .rune on this computer."),
    "inspect": ("rune.container.cli", "inspect_command", "Show what a .rune contains."),
    "graph": ("rune.graph.cli", "graph_command", "Draw a pipeline with Graphviz."),
    "model-info": ("rune.tflite.cli", "model_info_command", "Describe a TensorFlow Lite model."),
    "model-check": ("rune.engine.cli", "model_check_command", "Check that a model can run on a device."),
    "proc-block": ("rune.blocks.cli", "proc_block_group", "List, describe and create processing blocks."),
    "boards": ("rune.boards.cli", "boards_command", "The boards firmware can be built for."),
    "flash": ("rune.firmware.cli", "flash_command", "Build a firmware for a board, flash it and monitor it."),
    "monitor": ("rune.monitor.cli", "monitor_command", "Read what a board running a rune says."),
    "cache": ("rune.cache.cli", "cache_command", "Show or clear Rune's cache."),
}


class LazyGroup(click.Group):
    def list_commands(self, ctx):
        return sorted(COMMANDS)

    def get_command(self, ctx, name):
        if name not in COMMANDS:
            return None
        module, attribute, _ = COMMANDS[name]
        return getattr(importlib.import_module(module), attribute)

    def format_commands(self, ctx, formatter):
        rows = [(name, COMMANDS[name][2]) for name in self.list_commands(ctx)]
        with formatter.section("Commands"):
            formatter.write_dl(rows)


@click.group(cls=LazyGroup, context_settings={"help_option_names": ["-h", "--help"], "max_content_width": 100})
@click.version_option(__version__, "-V", "--version", prog_name="rune")
def cli():
    """Rune: declare an embedded machine-learning pipeline once in a Runefile, build it into a
    sandboxed .rune, and run it on this computer or on a microcontroller.

    \b
    rune build examples/sine            compile examples/sine/Runefile.yml into sine.rune
    rune run examples/sine/sine.rune    run it here
    rune COMMAND --help                 details of each command
    """


def main() -> None:
    from rune.diagnostics import RuneError

    try:
        cli.main(standalone_mode=False, prog_name="rune")
    except RuneError as e:
        from rune import console

        console.diagnostics(e.render())
        sys.exit(e.exit_code)
    except click.exceptions.Abort:
        click.echo("Aborted.", err=True)
        sys.exit(130)
    except click.ClickException as e:
        e.show()
        sys.exit(e.exit_code)
    except click.exceptions.Exit as e:
        sys.exit(e.exit_code)
    except KeyboardInterrupt:
        click.echo("Interrupted.", err=True)
        sys.exit(130)
    except BrokenPipeError:
        sys.exit(0)
    except Exception as e:  # a bug in rune, not in the user's input
        if os.environ.get("RUNE_DEBUG"):
            raise
        from rune import console

        console.error(f"internal error: {type(e).__name__}: {e}")
        click.echo("This is a bug in rune. Run again with RUNE_DEBUG=1 to see the traceback, and please report it.",
                   err=True)
        sys.exit(1)
