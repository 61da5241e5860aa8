"""`rune monitor`."""

from __future__ import annotations

import click


def follow(session, count: int | None, as_json: bool, sources: dict[int, str] | None = None,
           labels: dict[int, list[str]] | None = None) -> int:
    """Print what a board says until `count` inferences are done (or forever); returns how many.
    `sources` names each channel's stage and `labels` its scores (rune.runtime.outputs.score_labels),
    when the rune's manifest is known."""
    from rune import console
    from rune.diagnostics import RuneError
    from rune.monitor.protocol import output_of
    from rune.runtime.outputs import human

    done = 0
    for event in session.events():
        line = event.line
        for warning in event.warnings:
            console.warn(warning)
        if line.kind == "output":
            channel = line.data["channel"]
            click.echo(line.text if as_json else human(output_of(line.data, (sources or {}).get(channel, "")),
                                                       labels=(labels or {}).get(channel)))
        elif line.kind == "error":
            data = line.data
            stage = f" in stage '{data['stage']}'" if data.get("stage") else ""
            message = f"the board reports a {data['error']} error{stage}: {data.get('message', '')}"
            if data["error"] == "start":  # the rune cannot run at all: nothing more will come
                raise RuneError(message)
            console.error(message)
        elif line.kind == "event" and line.data["event"] == "boot":
            console.info(f"the board started the rune '{line.data.get('rune')}' on {line.data.get('board')}")
        elif line.kind == "event" and line.data["event"] == "inference":
            done += 1
            if count and done >= count:
                return done
        elif line.kind == "text":
            console.info(f"board: {line.text}")
    return done


@click.command("monitor")
@click.option("--port", required=True, help="A serial device (/dev/ttyACM0) or a pyserial URL "
                                            "(socket://127.0.0.1:4444, rfc2217://host:port).")
@click.option("--baud", type=int, default=115200, show_default=True)
@click.option("--json", "as_json", is_flag=True, help="Print outputs as SERIAL JSON lines (as rune run --json).")
@click.option("--count", type=click.IntRange(min=1), help="Stop after this many inferences.")
@click.option("--timeout", type=click.FloatRange(min=0.1), default=60, show_default=True,
              help="Give up after this many seconds without a line.")
def monitor_command(port, baud, as_json, count, timeout):
    """Read the SERIAL output of a board running a Rune firmware.

    Each line carries a sequence number and a CRC: corrupted and lost lines are reported on
    stderr, and a board that restarts is followed through its reset. Outputs go to stdout.
    """
    import serial

    from rune.diagnostics import Diagnostic, RuneError
    from rune.monitor.session import DeviceSession

    try:
        link = serial.serial_for_url(port, baudrate=baud, timeout=1)
    except (serial.SerialException, ValueError) as e:
        raise RuneError(Diagnostic(f"cannot open {port}: {e}", hint="check the port (ls /dev/tty*) or the URL")) from None
    with link:
        try:
            follow(DeviceSession(link, timeout=timeout), count, as_json)
        except TimeoutError as e:
            raise RuneError(str(e)) from None
